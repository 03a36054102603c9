"""The API's description (/api/v1/openapi.json) is a contract: every refusal an operation may give is
described on it, every refusal is JSON fitting the Error schema, and the limits the description
states (query parameters and bodies) are the ones the server enforces, with a 4xx naming what to send."""

import json

import jsonschema
import pytest
import sqlalchemy as sa
from flask import abort

from config import TestConfig
from outreach import create_app
from outreach.auth.services import issue_token
from outreach.clock import utcnow
from outreach.extensions import db
from outreach.geo.models import Household
from outreach.openapi import SPEC

OPERATIONS = [(path, method, operation) for path, item in SPEC["paths"].items() for method, operation in item.items()]
EVERY_REFUSAL = {"400", "404", "405", "413", "429", "500"}


def _bearer(user) -> dict:
    token = issue_token(user, now=utcnow())
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _fits(body, name: str) -> None:
    schema = {**SPEC["components"]["schemas"][name], "components": SPEC["components"]}
    jsonschema.validate(body, schema, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize("path, method, operation", OPERATIONS, ids=[f"{m.upper()} {p}" for p, m, _o in OPERATIONS])
def test_every_operation_describes_every_refusal_as_json(path, method, operation):
    responses = operation["responses"]
    public = operation.get("security") == []
    expected = EVERY_REFUSAL | (set() if public else {"401", "403"})
    assert expected <= set(responses), sorted(expected - set(responses))
    for status, response in responses.items():
        if status.startswith(("4", "5")):
            schema = response["content"]["application/json"]["schema"]
            assert schema["$ref"] in ("#/components/schemas/Error", "#/components/schemas/PossibleDuplicate"), status


def test_the_error_schema_asks_for_a_code_and_a_message():
    assert set(SPEC["components"]["schemas"]["Error"]["required"]) == {"error", "message"}


@pytest.fixture
def broken_app(app):
    """A second app on the same database with routes that fail as a bug or a rate limit would."""
    settings = {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "PROPAGATE_EXCEPTIONS": False}
    broken = create_app(type("Config", (TestConfig,), settings))

    @broken.get("/api/v1/boom")
    def boom():
        raise RuntimeError("a bug")

    @broken.get("/api/v1/busy")
    def busy():
        abort(429)

    return broken


def test_every_refusal_under_api_is_json_fitting_the_error_schema(client, users, geo, app, broken_app, monkeypatch):
    member, staff = _bearer(users["member"]), _bearer(users["staff"])
    refusals = {
        (400, "bad_request"): client.get("/api/v1/households?page=100001", headers=member),
        (400, "invalid"): client.post("/api/v1/visits/sync", data="{", content_type="application/json", headers=member),
        (401, "unauthorized"): client.get("/api/v1/me"),
        (403, "forbidden"): client.post("/api/v1/visits/sync", json={"visits": []}, headers=staff),
        (404, "not_found"): client.get("/api/v1/households/2147483647", headers=member),
        (405, "method_not_allowed"): client.delete("/api/v1/households", headers=member),
        (422, "invalid"): client.post("/api/v1/households", json={"head_name": 5}, headers=member),
    }
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 100)
    refusals[(413, "too_large")] = client.post("/api/v1/visits/sync", data="x" * 200, headers=member)
    other = broken_app.test_client()
    refusals[(429, "too_many_requests")] = other.get("/api/v1/busy", headers=member)
    refusals[(500, "server_error")] = other.get("/api/v1/boom", headers=member)
    for (status, code), response in refusals.items():
        assert response.status_code == status, (status, response.get_data(as_text=True)[:300])
        assert response.mimetype == "application/json", status
        body = response.get_json()
        _fits(body, "Error")
        assert body["error"] == code and body["message"].strip(), body
    assert set(refusals[(405, "method_not_allowed")].headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert "chờ một lát" in refusals[(429, "too_many_requests")].get_json()["message"]


# --- the limits stated are the limits enforced -------------------------------------------------------------


def _query_parameters():
    for path, _method, operation in OPERATIONS:
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query":
                yield path, parameter["name"], parameter["schema"]


def _at_and_beyond(schema: dict) -> tuple[list, list]:
    """Values at the limits a query parameter's schema states, and values just beyond (or not of its kind)."""
    if "enum" in schema:
        return schema["enum"], ["x", ""]
    if "maxLength" in schema:
        return ["", "n" * schema["maxLength"]], ["n" * (schema["maxLength"] + 1), "a\x00b"]
    low, high = schema["minimum"], schema["maximum"]
    if schema["type"] == "integer":
        return [low, high], [high + 1, 2**64, "1.5", "x"]
    return [low, high, 0.5], [high + 0.001, low - 0.001, "nan", "inf", "-Infinity", "x"]


PARAMETERS = list(_query_parameters())


@pytest.mark.parametrize("path, name, schema", PARAMETERS, ids=[f"{p} {n}" for p, n, _s in PARAMETERS])
def test_the_server_enforces_the_limits_the_description_states_for_a_query(client, users, path, name, schema):
    auth = _bearer(users["member"])
    within, beyond = _at_and_beyond(schema)
    if name == "page":  # below the first or not a number is the first page, as its description says
        beyond = [schema["maximum"] + 1, 2**64]
    partner = {"lat": {"lon": 0}, "lon": {"lat": 0}}.get(name, {})  # a position is both or neither
    for value in within:
        response = client.get(f"/api/v1{path}", query_string={name: value, **partner}, headers=auth)
        assert response.status_code == 200, (value, response.get_json())
    for value in beyond:
        response = client.get(f"/api/v1{path}", query_string={name: value, **partner}, headers=auth)
        assert response.status_code == 400, (value, response.get_json())
        assert f"“{name}”" in response.get_json()["message"]
    twice = client.get(f"/api/v1{path}", query_string=[(name, within[0]), (name, within[-1])], headers=auth)
    assert twice.status_code == 400


def test_a_page_below_the_first_or_not_a_number_is_still_the_first(client, users):
    # Said by the description of ``page``, kept from before it was declared (tests/geo/test_paging.py).
    auth = _bearer(users["member"])
    for asked in ("0", "-3", "two", "1.5"):
        assert client.get(f"/api/v1/households?page={asked}", headers=auth).get_json()["page"] == 1


def test_an_id_in_a_path_past_the_stated_maximum_is_not_found(client, users):
    auth = _bearer(users["member"])
    maximum = SPEC["paths"]["/units/{id}"]["get"]["parameters"][0]["schema"]["maximum"]
    for path in ("/units", "/households"):
        assert client.get(f"/api/v1{path}/{maximum + 1}", headers=auth).get_json()["error"] == "not_found"


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"head_name": "a\x00b"}, "head_name"),
        ({"head_name": "   "}, "head_name"),
        ({"head_name": "n" * 121}, "head_name"),
        ({"head_name": ["Ma Thị Lan"]}, "head_name"),
        ({"address": "n" * 256}, "address"),
        ({"notes": "a\x00b"}, "notes"),
        ({"village_id": 2**64}, "village_id"),
        ({"village_id": "1"}, "village_id"),
        ({"village_id": [1]}, "village_id"),
        ({"members": True}, "members"),
        ({"members": 101}, "members"),
        ({"lat": float("nan"), "lon": 105.2}, "lat"),
        ({"lat": 21.8, "lon": float("inf")}, "lon"),
        ({"lat": 21.8, "lon": 2**70}, "lon"),
        ({"phone": 912345678}, "phone"),
        ({"consent_store_phone": "yes"}, "consent_store_phone"),
    ],
)
def test_a_household_that_does_not_fit_is_refused_by_field_and_nothing_is_stored(client, users, geo, fields, field):
    auth = _bearer(users["leader"])
    body = {"village_id": geo["tanha_v1"].id, "head_name": "Ma Thị Lan"} | fields
    response = client.post("/api/v1/households", data=json.dumps(body), content_type="application/json", headers=auth)
    assert response.status_code == 422, response.get_json()
    answer = response.get_json()
    _fits(answer, "Error")
    assert field in answer["errors"] and answer["errors"][field][0].strip()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Household)) == 0


def test_a_household_body_that_is_not_an_object_is_refused(client, users, geo):
    auth = _bearer(users["leader"])
    for body in ("[]", "5", "null", "{", '"x"'):
        response = client.post("/api/v1/households", data=body, content_type="application/json", headers=auth)
        assert response.status_code == 422 and response.get_json()["error"] == "invalid", body


def test_the_household_limits_stated_are_the_form_s(client, users, geo):
    declared = SPEC["components"]["schemas"]["NewHousehold"]["properties"]
    assert (declared["head_name"]["maxLength"], declared["address"]["maxLength"]) == (120, 255)
    assert (declared["members"]["minimum"], declared["members"]["maximum"]) == (0, 100)
    assert (declared["lat"]["maximum"], declared["lon"]["minimum"]) == (90, -180)
    auth = _bearer(users["leader"])
    body = {"village_id": geo["tanha_v1"].id, "head_name": "n" * 120, "address": "n" * 255, "members": 100}
    body |= {"lat": -90, "lon": 180, "notes": "n" * declared["notes"]["maxLength"]}
    assert client.post("/api/v1/households", json=body, headers=auth).status_code == 201
