import re
import threading
import unicodedata

import jsonschema
import pytest
import sqlalchemy as sa

from outreach.extensions import db
from outreach.openapi import SPEC
from outreach.visits.models import VisitObstacle, VisitRecord, current_visits
from tests.conftest import csrf_token, login, make_household, visit_payload


@pytest.fixture
def field(users, geo):
    from outreach.auth.services import issue_token
    from outreach.types import utcnow

    homes = {
        "mine": make_household(users["leader"], geo["tanha_v1"], "Nguyễn Văn An"),
        "mine2": make_household(users["leader"], geo["tanha_v1"], "Lê Thị Hoa"),
        "other_village": make_household(users["leader"], geo["tanha_v2"], "Hà Văn Tư"),
        "other_commune": make_household(users["leader_other"], geo["minhkhuong_v1"], "Ma Văn Sơn"),
    }
    token = issue_token(users["member"], now=utcnow())
    db.session.commit()
    return homes, {"Authorization": f"Bearer {token}"}


def _sync(client, auth, visits):
    return client.post("/api/v1/visits/sync", json={"visits": visits}, headers=auth)


def _count(model=VisitRecord) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _validate(body, schema_name):
    schema = {**SPEC["components"]["schemas"][schema_name], "components": SPEC["components"]}
    jsonschema.validate(body, schema, cls=jsonschema.Draft202012Validator)


def test_the_same_batch_twice_stores_once(client, field):
    homes, auth = field
    batch = [
        visit_payload(homes["mine"], obstacles=["elderly", "no_smartphone"]),
        visit_payload(homes["mine2"], outcome="nobody_home", people_helped=0),
    ]
    first = _sync(client, auth, batch)
    assert [r["status"] for r in first.get_json()["results"]] == ["created", "created"]
    _validate(first.get_json(), "SyncResponse")
    second = _sync(client, auth, batch)
    assert [r["status"] for r in second.get_json()["results"]] == ["duplicate", "duplicate"]
    assert _count() == 2 and _count(VisitObstacle) == 2


def test_bad_records_are_rejected_alone_and_never_partly_stored(client, field):
    homes, auth = field
    batch = [
        visit_payload(homes["mine"]),
        visit_payload(homes["mine2"], outcome="maybe", obstacles=["elderly"]),
        visit_payload(99999),
        visit_payload(homes["other_commune"]),
        visit_payload(homes["other_village"]),  # the member works in another village
        visit_payload(homes["mine2"], outcome="follow_up"),  # no date
        visit_payload(homes["mine2"], notes="CCCD 001203004567"),
        visit_payload(homes["mine2"], password="123456"),
        visit_payload(homes["mine2"], location={"lat": 21.83, "lon": 105.19}),  # no consent
        {"client_id": "not-a-uuid"},
        visit_payload(
            homes["mine2"],
            outcome="follow_up",
            follow_up_on="2026-12-03",
            obstacles=["other"],
            obstacle_other="Mất điện",
        ),
    ]
    results = _sync(client, auth, batch).get_json()["results"]
    assert [r["status"] for r in results] == ["created"] + ["rejected"] * 9 + ["created"]
    assert "outcome" in results[1]["errors"]
    assert set(results[2]["errors"]) == set(results[3]["errors"]) == set(results[4]["errors"]) == {"household_id"}
    assert "follow_up_on" in results[5]["errors"]
    assert "notes" in results[6]["errors"]
    assert "password" in results[7]["errors"]
    assert "location" in results[8]["errors"]
    assert "client_id" in results[9]["errors"]
    assert _count() == 2
    assert db.session.scalars(sa.select(VisitObstacle.code)).all() == ["other"]


@pytest.mark.parametrize(
    "text",
    ["CCCD 001203004567", "cmnd 012.345.678", "số 001-099-012-345", "mã OTP 482913", "otp: 4829 13"],
)
def test_id_numbers_and_otps_are_refused_in_any_spelling(text):
    from outreach.visits.checks import looks_secret

    assert looks_secret(text)


@pytest.mark.parametrize(
    "text", ["lệ phí 100.000đ", "phí 150000 đồng", "gọi 0912 345 678", "nộp ngày 26/11/2026", "nhà số 123456 k", ""]
)
def test_amounts_phones_and_dates_are_not_secrets(text):
    from outreach.visits.checks import looks_secret

    assert not looks_secret(text)


SECRETS_IN_WORDS = [
    "mã OTP là 123456",
    "Mã otp: 482913",
    "ma OTP la 123456",
    "OTP: 123456",
    "otp 4829",
    "mã xác nhận là 5678",
    "ma xac nhan 567812",
    "verification code is 123456",
    "mã PIN 1234",
    "mật khẩu là Abc@123",
    "Mật khẩu: hoa2024",
    "mat khau la hoa2024",
    "MAT KHAU: hoa",
    "mk: abc123",
    "MK: hoa",
    "mk abc123",
    "password: hunter2",
    "password hunter2",
    "Password is secret",
    "pass: 1234",
    "pwd=xyz",
    "Cụ quên, con gái đọc mật khẩu là 12345678 cho mình ghi",
    unicodedata.normalize("NFD", "mật khẩu là hoa2024"),  # diacritics as combining marks
]
NOT_SECRETS = [
    "quên mật khẩu, đã hướng dẫn đặt lại",
    "mat khau moi da doi",
    "đổi mật khẩu VNeID",
    "mật khẩu 12 ký tự",
    "mk đã hướng dẫn cụ bà",
    "reset password done",
    "gọi 0912 345 678",
    "lệ phí 100.000đ",
    "mã hồ sơ số 25",
    "thủ tục mã 1.001234",
    "nộp ngày 26/11/2026",
    "pin yếu, hẹn hôm sau",
    "Ma Văn Sơn, 2 người",
]


@pytest.mark.parametrize("text", SECRETS_IN_WORDS)
def test_otps_and_passwords_written_in_words_are_refused(text):
    from outreach.visits.checks import looks_secret

    assert looks_secret(text)


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_words_about_passwords_phones_and_amounts_pass(text):
    from outreach.visits.checks import looks_secret

    assert not looks_secret(text)


def test_a_note_with_a_password_is_refused_with_a_message_and_the_rest_stored(client, field):
    homes, auth = field
    batch = [visit_payload(homes["mine"], notes="mật khẩu là hoa2024"), visit_payload(homes["mine2"])]
    refused, stored = _sync(client, auth, batch).get_json()["results"]
    assert (refused["status"], stored["status"]) == ("rejected", "created")
    assert refused["errors"] == {"notes": "giống số căn cước, mật khẩu hoặc mã OTP: tuyệt đối không ghi lại"}


def test_contradictory_visits_are_refused(client, field):
    homes, auth = field
    batch = [
        visit_payload(homes["mine"], outcome="nobody_home", people_helped=3, vneid_installed=True),
        visit_payload(homes["mine"], outcome="helped", people_helped=0),
    ]
    results = _sync(client, auth, batch).get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert "outcome" in results[0]["errors"] and "people_helped" in results[1]["errors"]


def test_a_correction_sent_twice_at_once_is_a_duplicate(client, field):
    homes, auth = field
    original = visit_payload(homes["mine"])
    _sync(client, auth, [original])
    fix = visit_payload(homes["mine"], supersedes=original["client_id"])
    assert _sync(client, auth, [fix, fix]).get_json()["results"][1]["status"] == "duplicate"


def test_location_is_kept_with_consent(client, field):
    homes, auth = field
    payload = visit_payload(
        homes["mine"], location_consent=True, location={"lat": 21.8301, "lon": 105.1902, "accuracy": 12}
    )
    assert _sync(client, auth, [payload]).get_json()["results"][0]["status"] == "created"
    visit = db.session.scalar(sa.select(VisitRecord))
    assert (visit.lat, visit.lon, visit.accuracy_m, visit.location_consent) == (21.8301, 105.1902, 12.0, True)


def test_a_correction_supersedes_and_nothing_is_lost(client, field):
    homes, auth = field
    original = visit_payload(homes["mine"], vneid_level1=False)
    _sync(client, auth, [original])
    fix = visit_payload(homes["mine"], vneid_level1=True, supersedes=original["client_id"])
    assert _sync(client, auth, [fix]).get_json()["results"][0]["status"] == "created"
    again = visit_payload(homes["mine"], supersedes=original["client_id"])
    result = _sync(client, auth, [again]).get_json()["results"][0]
    assert result["status"] == "rejected" and "supersedes" in result["errors"]
    assert _count() == 2
    current = db.session.scalars(current_visits()).all()
    assert [v.client_id for v in current] == [fix["client_id"]]
    old = db.session.scalar(sa.select(VisitRecord).where(VisitRecord.client_id == original["client_id"]))
    assert old.vneid_level1 is False  # the original stays as it was


def test_a_correction_must_be_of_the_same_household(client, field):
    homes, auth = field
    original = visit_payload(homes["mine"])
    _sync(client, auth, [original])
    wrong = visit_payload(homes["mine2"], supersedes=original["client_id"])
    assert _sync(client, auth, [wrong]).get_json()["results"][0]["status"] == "rejected"


def test_session_cookie_needs_the_csrf_header(client, field):
    homes, _auth = field
    login(client, "member.tanha")
    payload = visit_payload(homes["mine"])
    assert client.post("/api/v1/visits/sync", json={"visits": [payload]}).status_code == 400
    token = csrf_token(client, "/today")
    response = client.post("/api/v1/visits/sync", json={"visits": [payload]}, headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.get_json()["results"][0]["status"] == "created"


def test_logged_out_phone_gets_401_and_nothing_is_stored(client, field):
    homes, _auth = field
    response = client.post("/api/v1/visits/sync", json={"visits": [visit_payload(homes["mine"])]})
    assert response.status_code == 401 and _count() == 0


def test_batches_are_limited_to_500(client, field):
    homes, auth = field
    response = _sync(client, auth, [visit_payload(homes["mine"]) for _ in range(501)])
    assert response.status_code == 413 and _count() == 0
    assert _sync(client, auth, {"no": "list"}).status_code == 400


def test_staff_cannot_record_visits(client, field, users):
    homes, _auth = field
    from outreach.auth.services import issue_token
    from outreach.types import utcnow

    token = issue_token(users["staff"], now=utcnow())
    db.session.commit()
    response = client.post(
        "/api/v1/visits/sync",
        json={"visits": [visit_payload(homes["mine"])]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403 and _count() == 0


def test_the_same_record_in_two_concurrent_requests_is_stored_once(app, field):
    """On PostgreSQL the unique client_id decides; on SQLite (``make run``) writers wait for the lock
    (busy timeout) instead of answering 500 "database is locked"."""
    homes, auth = field
    batches = [[visit_payload(homes["mine"]), visit_payload(homes["mine2"])] for _ in range(3)]
    statuses = []
    for batch in batches:
        barrier = threading.Barrier(4)

        def send(batch=batch, barrier=barrier):
            client = app.test_client()
            barrier.wait()
            statuses.append(tuple(r["status"] for r in _sync(client, auth, batch).get_json()["results"]))

        threads = [threading.Thread(target=send) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(statuses) == 12, statuses
    db.session.commit()  # end this session's read (SQLite keeps a snapshot until then)
    assert _count() == 6
    for client_id in {p["client_id"] for b in batches for p in b}:
        assert db.session.scalar(sa.select(sa.func.count()).where(VisitRecord.client_id == client_id)) == 1
    created = sum(s.count("created") for s in statuses)
    assert created == 6 and sum(s.count("duplicate") for s in statuses) == 3 * 4 * 2 - 6


def test_openapi_describes_every_route_and_the_visit_fields(client, app):
    from outreach.visits.checks import FIELDS

    spec = client.get("/api/v1/openapi.json").get_json()
    described = set(spec["paths"])
    routes = {
        re.sub(r"<int:\w+_id>", "{id}", rule.rule.removeprefix("/api/v1")).replace("<uuid:client_id>", "{client_id}")
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1")
    }
    assert described == routes
    for path, item in spec["paths"].items():
        rule_methods = {
            m.lower() for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1") for m in r.methods
        } - {"head", "options"}
        assert set(item) <= rule_methods, path
    assert set(spec["components"]["schemas"]["Visit"]["properties"]) == FIELDS
    jsonschema.Draft202012Validator.check_schema(spec["components"]["schemas"]["Visit"])


def test_assignments_answer_matches_the_description(client, field, users):
    homes, auth = field
    from outreach.clock import local_today
    from outreach.planning.services import assign_households
    from outreach.types import utcnow

    with client.application.test_request_context():
        assign_households(
            users["leader"],
            users["member"].id,
            [homes["mine"].id, homes["mine2"].id],
            due_on=local_today(),
            now=utcnow(),
        )
    db.session.commit()
    body = client.get("/api/v1/assignments", headers=auth).get_json()
    _validate(body, "Assignments")
    assert {a["household_id"] for a in body["assignments"]} == {homes["mine"].id, homes["mine2"].id}
