"""The one declaration of a visit record (outreach/visits/payload.py): what the OpenAPI document
states is what the server enforces, and any odd record a phone sends is refused on its own with a
message naming the field, never with an exception (a 500 would refuse the whole batch)."""

import json

import jsonschema
import pytest
import sqlalchemy as sa

from outreach.extensions import db
from outreach.openapi import SPEC
from outreach.visits.checks import check_visit
from outreach.visits.models import VisitRecord
from outreach.visits.payload import MAX_ID, VisitPayload
from tests.conftest import NOW, make_household, visit_payload

VISIT = SPEC["components"]["schemas"]["Visit"]
UUID = "6f1c2a4e-0d7b-4c1e-9a53-2b8f0e1d4c77"


@pytest.fixture
def phone(users, geo):
    from outreach.auth.services import issue_token
    from outreach.types import utcnow

    home = make_household(users["leader"], geo["tanha_v1"], "Nguyễn Văn An")
    token = issue_token(users["member"], now=utcnow())
    db.session.commit()
    return home, {"Authorization": f"Bearer {token}"}


def _sync(client, auth, visits):
    # Python's json writes NaN and Infinity as bare words, as a broken phone might.
    body = json.dumps({"visits": visits})
    return client.post("/api/v1/visits/sync", data=body, content_type="application/json", headers=auth)


def _validate(body, schema_name):
    schema = {**SPEC["components"]["schemas"][schema_name], "components": SPEC["components"]}
    jsonschema.validate(body, schema, cls=jsonschema.Draft202012Validator)


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(VisitRecord))


NAN, INFINITY = float("nan"), float("inf")
ODD_FIELDS = {
    "a list for the outcome": ({"outcome": ["helped"]}, "outcome"),
    "a list for the notes": ({"notes": ["Mất điện"]}, "notes"),
    "a list for the client_id": ({"client_id": [UUID]}, "client_id"),
    "a list for the time": ({"device_time": ["2026-11-26T09:30:00+07:00"]}, "device_time"),
    "a list for the guide": ({"guide_given": ["sms"]}, "guide_given"),
    "a list in the obstacles": ({"obstacles": [["elderly"]]}, "obstacles"),
    "a list for the follow-up date": ({"outcome": "follow_up", "follow_up_on": ["2026-12-01"]}, "follow_up_on"),
    "a list for the corrected record": ({"supersedes": [UUID]}, "supersedes"),
    "NaN for a latitude": ({"location_consent": True, "location": {"lat": NAN, "lon": 105.19}}, "location"),
    "Infinity for a longitude": ({"location_consent": True, "location": {"lat": 21.8, "lon": -INFINITY}}, "location"),
    "NaN for the accuracy": ({"location_consent": True, "location": {"lat": 2, "lon": 1, "accuracy": NAN}}, "location"),
    "NaN for the people helped": ({"people_helped": NAN}, "people_helped"),
    "Infinity for the household": ({"household_id": INFINITY}, "household_id"),
    "2^31 for the household": ({"household_id": 2**31}, "household_id"),
    "2^64 for the household": ({"household_id": 2**64}, "household_id"),
    "2^31 people helped": ({"people_helped": 2**31}, "people_helped"),
    "2^64 for a latitude": ({"location_consent": True, "location": {"lat": 2**64, "lon": 105.19}}, "location"),
    "a NUL in the notes": ({"notes": "Mất\x00điện"}, "notes"),
    "a NUL in the procedure": ({"procedure_submitted": True, "procedure": "\x00"}, "procedure"),
    "a NUL in the other obstacle": ({"obstacles": ["other"], "obstacle_other": "x\x00"}, "obstacle_other"),
    "a NUL in the notes of a correction": ({"supersedes": UUID, "notes": "\x00"}, "notes"),
    "a broken character in the notes": ({"notes": "Mất \ud800điện"}, "notes"),
}  # fmt: skip


@pytest.mark.parametrize("fields, field", ODD_FIELDS.values(), ids=ODD_FIELDS.keys())
def test_an_odd_value_is_refused_alone_with_a_message_naming_the_field(client, phone, fields, field):
    home, auth = phone
    response = _sync(client, auth, [visit_payload(home), visit_payload(home, **fields), visit_payload(home)])
    assert response.status_code == 200
    body = response.get_json()
    _validate(body, "SyncResponse")
    good, odd, also_good = body["results"]
    assert (good["status"], odd["status"], also_good["status"]) == ("created", "rejected", "created")
    assert field in odd["errors"] and odd["errors"][field].strip()
    assert _count() == 2


@pytest.mark.parametrize("record", [5, "a visit", None, True, [{"client_id": UUID}]], ids=repr)
def test_a_record_that_is_not_an_object_is_refused_alone(client, phone, record):
    home, auth = phone
    body = _sync(client, auth, [visit_payload(home), record, visit_payload(home, supersedes=UUID)]).get_json()
    _validate(body, "SyncResponse")
    good, odd, correction = body["results"]
    assert good["status"] == "created" and correction["status"] == "rejected"  # nothing to correct
    assert odd == {"client_id": "", "status": "rejected", "errors": {"": "mỗi lượt thăm phải là một đối tượng JSON"}}


def test_the_messages_of_odd_values_say_what_to_send(client, phone):
    home, auth = phone
    batch = [
        visit_payload(home, notes="a\x00b"),
        visit_payload(home, household_id=2**31),
        visit_payload(home, outcome=["helped"]),
        visit_payload(home, location_consent=True, location={"lat": NAN, "lon": 105.19}),
    ]
    notes, household, outcome, location = (r["errors"] for r in _sync(client, auth, batch).get_json()["results"])
    assert notes == {"notes": "có ký tự không lưu được (NUL, hoặc ký tự lỗi)"}
    assert household == {"household_id": "số hiệu của một hộ"}
    assert outcome["outcome"].startswith("một trong: helped, nobody_home")
    assert location == {"location": "vĩ độ hoặc kinh độ không hợp lệ"}


def _at_and_beyond(declared: dict) -> tuple[list, list] | None:
    """Values at the limits a field of the Visit schema states, and values just beyond them."""
    if "maxLength" in declared:
        return ["n" * declared["maxLength"]], ["n" * (declared["maxLength"] + 1)]
    if "maximum" in declared:
        return [declared["minimum"], declared["maximum"]], [declared["minimum"] - 1, declared["maximum"] + 1]
    if "enum" in declared:
        return declared["enum"], ["x"] + ([] if "" in declared["enum"] else [""])
    if "items" in declared:
        return [[code] for code in declared["items"]["enum"]], [["x"]]
    if "$ref" in declared.get("anyOf", [{}])[0]:  # the location
        where = SPEC["components"]["schemas"]["Location"]["properties"]
        lat, lon = where["lat"], where["lon"]
        within = [{"lat": lat["minimum"], "lon": lon["maximum"]}, {"lat": lat["maximum"], "lon": lon["minimum"]}]
        beyond = [{"lat": lat["maximum"] + 0.1, "lon": 0}, {"lat": 0, "lon": lon["minimum"] - 0.1}]
        return within, beyond
    return None


LIMITED = {name: limits for name, declared in VISIT["properties"].items() if (limits := _at_and_beyond(declared))}


@pytest.mark.parametrize("name", LIMITED)
def test_the_server_enforces_the_limits_the_openapi_document_states(app, name):
    within, beyond = LIMITED[name]
    # A record in which the field alone decides: nothing that a rule between fields would refuse.
    base = {"client_id": UUID, "household_id": 1, "device_time": "2026-11-26T09:30:00+07:00", "outcome": "follow_up"}
    base |= {"follow_up_on": "2026-12-01", "obstacle_other": "x", "procedure": "x", "location_consent": True}
    with app.test_request_context():
        for value in within:
            assert name not in check_visit(base | {name: value}, NOW)[1], value
        for value in beyond:
            assert name in check_visit(base | {name: value}, NOW)[1], value


def test_the_openapi_document_states_the_declared_limits():
    props = VISIT["properties"]
    assert set(VISIT["required"]) == {"client_id", "household_id", "device_time", "outcome"}
    assert VISIT["additionalProperties"] is False
    assert (props["procedure"]["maxLength"], props["obstacle_other"]["maxLength"], props["notes"]["maxLength"]) == (
        200,
        200,
        1000,
    )
    assert (props["people_helped"]["minimum"], props["people_helped"]["maximum"]) == (0, 50)
    assert props["household_id"]["maximum"] == MAX_ID == 2**31 - 1
    assert props["location"]["anyOf"][0] == {"$ref": "#/components/schemas/Location"}
    location = SPEC["components"]["schemas"]["Location"]
    assert (location["properties"]["lat"]["minimum"], location["properties"]["lon"]["maximum"]) == (-90, 180)
    jsonschema.Draft202012Validator.check_schema(VISIT)


def test_a_stored_visit_read_back_fits_the_declaration(client, phone):
    home, auth = phone
    sent = visit_payload(
        home,
        obstacles=["other", "elderly"],
        obstacle_other="Mất điện",
        location_consent=True,
        location={"lat": 21.8301, "lon": 105.1902, "accuracy": 12},
    )
    assert _sync(client, auth, [sent]).get_json()["results"][0]["status"] == "created"
    stored = client.get(f"/api/v1/visits/{sent['client_id']}", headers=auth).get_json()
    _validate(stored, "Visit")
    assert VisitPayload.model_validate(stored).obstacles == {"other", "elderly"}


def test_the_declaration_covers_every_column_a_phone_fills():
    by_server = {"id", "member_id", "server_time", "supersedes_id", "corrected_at", "notes_cleared_at"}
    columns = {c.name for c in VisitRecord.__table__.columns} - by_server
    fields = set(VisitPayload.model_fields) - {"location", "obstacles", "supersedes"} | {"lat", "lon", "accuracy_m"}
    assert fields == columns
