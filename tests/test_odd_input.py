"""Any input, however odd, gets a 4xx with a message, never a 500: every page and API address, asked
with ids past what the database stores and query values no form would send, by every role."""

import io
import re
from datetime import date

import pytest
import sqlalchemy as sa

from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.imports import import_households
from outreach.geo.models import Household
from outreach.planning.services import CampaignInput, save_campaign
from outreach.visits.services import record_visit
from tests.conftest import NOW, login, make_household, visit_payload

# Values a hand-edited address or a broken client may send.
ODD_QUERY = {
    "page": "99999999999999999999",
    "lat": "nan",
    "lon": "inf",
    "q": "a\x00b",
    "from": "0000-01",
    "to": "9999-12",
    "start": "0000-01",
    "level": "x",
    "measure": "x",
    "status": "x",
    "which": "x",
    "village": "99999999999999999999",
    "village_id": "99999999999999999999",
    "commune": "-99999999999999999999",
    "t": "\x00",
    "action": "\x00",
    "table": "x",
}
OUT_OF_RANGE = {"lat": "1000", "lon": "-1000", "page": "-99999999999999999999", "from": "1-01", "to": "99999-12"}
ODD_IDS = ("1", "0", "2147483648", "99999999999999999999")  # 1: the first of each kind, made below


def _get_addresses(app) -> list[str]:
    """Every GET address of the app, an int in the path replaced by odd ids."""
    addresses = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if "<" not in rule.rule:
            addresses.append(rule.rule)
        elif not re.search(r"<(?!int:)", rule.rule):  # only ints in the path
            addresses += [re.sub(r"<int:\w+>", odd, rule.rule) for odd in ODD_IDS]
    return addresses


@pytest.mark.parametrize("username", ["admin", "staff.city", "leader.tanha", "member.tanha"])
def test_no_address_answers_a_server_error_whatever_it_is_asked(client, app, users, geo, username):
    home = make_household(users["leader"], geo["tanha_v1"], "Nguyễn Văn An")
    campaign = CampaignInput("Mọi nhà", date(2026, 11, 1), date(2026, 12, 31), [geo["tanha_v1"].id])
    save_campaign(users["leader"], geo["tanha"], campaign, now=NOW)
    record_visit(users["member"], visit_payload(home), now=NOW)
    db.session.commit()
    login(client, username)
    queries = [{}, ODD_QUERY, OUT_OF_RANGE, {"format": "csv", **ODD_QUERY}, {"format": "xlsx", **OUT_OF_RANGE}]
    failed = []
    for address in _get_addresses(app):
        for query in queries:
            try:  # the tests' app lets a crash through (TESTING) instead of answering 500
                status = client.get(address, query_string=query).status_code
            except Exception as exc:
                status = repr(exc)
            # /readyz answers 503 by design while no scheduler beats (none runs in the tests): a state, not a crash.
            expected_503 = address == "/readyz" and status == 503
            if not isinstance(status, int) or (status >= 500 and not expected_503):
                failed.append(f"{address} {query}: {status}")
    assert not failed, "\n".join(failed)


def test_an_id_past_what_the_database_stores_is_not_found(client, users):
    login(client, "admin")
    for address in ("/units/99999999999999999999", "/households/2147483648", "/api/v1/units/99999999999999999999"):
        response = client.get(address)
        assert response.status_code == 404, address
    assert client.get("/api/v1/households/2147483648").get_json()["error"] == "not_found"


def test_a_nul_in_an_address_or_a_form_is_refused_with_a_message(client, users):
    login(client, "admin")
    response = client.get("/households", query_string={"q": "Ng\x00uyễn"})
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)
    response = client.get("/api/v1/units", query_string={"q": "\x00"})
    assert response.status_code == 400 and "“q”" in response.get_json()["message"]


def test_an_imported_household_with_an_address_too_long_is_refused_by_its_line(app, geo):
    text = "mã xã;thôn;họ tên chủ hộ;địa chỉ\n02216;Thôn Phú Bình;Nguyễn Văn An;" + "z" * 256 + "\n"
    with app.test_request_context(), pytest.raises(ValidationError) as refused:
        import_households(None, io.BytesIO(text.encode()), "ho.csv", now=NOW)
    assert "Dòng 2" in str(refused.value) and "255" in str(refused.value)


def test_a_nul_in_an_imported_file_is_read_as_a_space(app, geo, users):
    text = "mã xã;thôn;họ tên chủ hộ;địa chỉ\n02216;Thôn Phú Bình;Nguyễn\x00Văn An;12\x00ngõ 5\n"
    with app.test_request_context():
        import_households(None, io.BytesIO(text.encode()), "ho.csv", now=NOW)
    db.session.commit()
    stored = db.session.scalar(sa.select(Household))
    assert (stored.head_name, stored.address) == ("Nguyễn Văn An", "12 ngõ 5")
