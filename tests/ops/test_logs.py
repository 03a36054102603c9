"""One JSON line per request with its id, the user's id, route, status and duration; the id in the
X-Request-Id header and on error pages; no phone numbers, names or message bodies."""

import json
import logging
import re

import pytest

from outreach.ops.logs import JsonFormatter, new_request_id, scrub
from tests.conftest import csrf_token, login


@pytest.fixture(autouse=True)
def request_log():
    """The migrations' logging set-up (alembic's fileConfig, run by the suite's app fixture) turns off
    the loggers that existed before it; a server never runs it in the same process."""
    logger = logging.getLogger("outreach.request")
    logger.disabled = False
    return logger


def _lines(caplog) -> list[dict]:
    formatter = JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == "outreach.request"]


def test_every_answer_carries_its_request_id(client):
    first, second = client.get("/login"), client.get("/login")
    ids = {first.headers["X-Request-Id"], second.headers["X-Request-Id"]}
    assert len(ids) == 2
    assert all(re.fullmatch(r"[2-9A-HJKMNP-Z]{8}", i) for i in ids)


def test_an_error_page_shows_the_request_id_to_read_out(client, users):
    login(client, "member.tanha")
    response = client.get("/households/999999")
    request_id = response.headers["X-Request-Id"]
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    shown = f'<strong class="request-id" translate="no">{request_id}</strong>'
    assert f"Nếu cần hỏi giúp, hãy đọc mã yêu cầu này: {shown}" in page
    english = client.get("/households/999999?lang=en").get_data(as_text=True)
    assert "If you ask for help, give this request number:" in english


def test_the_request_line(client, users, caplog):
    caplog.set_level(logging.INFO, logger="outreach.request")
    member = users["member"]
    login(client, "member.tanha")
    caplog.clear()
    response = client.get("/households/999999")
    (line,) = _lines(caplog)
    assert line == {
        "ts": line["ts"],
        "level": "info",
        "logger": "outreach.request",
        "msg": "request",
        "request_id": response.headers["X-Request-Id"],
        "user_id": member.id,
        "method": "GET",
        "route": "/households/<int:household_id>",
        "status": 404,
        "duration_ms": line["duration_ms"],
    }
    assert line["duration_ms"] >= 0


def test_no_phone_numbers_names_or_bodies(client, users, geo, caplog):
    caplog.set_level(logging.INFO)
    login(client, "leader.tanha")
    client.get("/households?q=Nguyễn Thị Hoà&phone=0912345678")
    client.post(
        "/households/new",
        data={
            "csrf_token": csrf_token(client, "/households/new"),
            "village_id": geo["tanha_v1"].id,
            "head_name": "Nguyễn Thị Hoà",
            "phone": "0912 345 678",
        },
    )
    formatter = JsonFormatter()
    output = "\n".join(formatter.format(r) for r in caplog.records)
    assert output
    for secret in ("Nguyễn", "Hoà", "0912", "345 678", "912345678"):
        assert secret not in output


def test_numbers_that_look_like_phones_are_masked():
    assert scrub("Key (phone)=(+84912345678) already exists") == "Key (phone)=([number]) already exists"
    assert scrub("gọi 0912 345 678 hoặc 0912.345.678") == "gọi [number] hoặc [number]"
    kept = "household 1234 at 2026-11-26 10:30:00, sid SM00000001, request 7KQ2M9XD"
    assert scrub(kept) == kept
    assert scrub("to 84912345678.") == "to [number]."


def test_a_record_logged_during_a_request_carries_its_id(app):
    from outreach.ops.logs import RequestContext

    record = logging.LogRecord("outreach", logging.ERROR, __file__, 1, "boom", None, None)
    with app.test_request_context("/"):
        from flask import g

        g.request_id = new_request_id()
        RequestContext().filter(record)
        assert json.loads(JsonFormatter().format(record))["request_id"] == g.request_id
