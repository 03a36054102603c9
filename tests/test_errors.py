"""Every refusal is said in the user's language; under /api/ it is JSON with a stable code."""

import pytest
from flask import abort

from config import TestConfig
from outreach import create_app
from outreach.auth.services import issue_token
from outreach.clock import utcnow
from outreach.extensions import db


def _bearer(user) -> dict:
    token = issue_token(user, now=utcnow())
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:200]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == code and body["message"]
    return body


def test_api_errors_are_json_with_a_code_and_a_message(client, users, app, monkeypatch):
    _json_error(client.get("/api/v1/me"), 401, "unauthorized")
    auth = _bearer(users["member"])
    _json_error(client.get("/api/v1/no-such-thing", headers=auth), 404, "not_found")
    _json_error(client.put("/api/v1/visits/sync", headers=auth), 405, "method_not_allowed")
    _json_error(client.get("/api/v1/units/999999", headers=auth), 404, "not_found")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 100)
    _json_error(client.post("/api/v1/visits/sync", data="x" * 200, headers=auth), 413, "too_large")


def test_a_page_refusal_is_a_page_in_vietnamese(client):
    response = client.delete("/login")
    assert response.status_code == 405 and response.mimetype == "text/html"
    assert "Không thực hiện được ở đây" in response.get_data(as_text=True)


@pytest.fixture
def failing_app(app):
    """A second app on the same database with one route that fails, as a bug would."""
    settings = {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "PROPAGATE_EXCEPTIONS": False}
    broken = create_app(type("Config", (TestConfig,), settings))

    @broken.get("/api/v1/boom")
    def boom():
        raise RuntimeError("a bug")

    @broken.get("/teapot")
    def teapot():
        abort(418)

    return broken


def test_a_server_error_is_json_under_api_and_a_page_elsewhere(failing_app, users):
    client = failing_app.test_client()
    auth = _bearer(users["member"])
    _json_error(client.get("/api/v1/boom", headers=auth), 500, "server_error")
    page = client.get("/teapot")
    assert page.status_code == 418 and "Không thực hiện được" in page.get_data(as_text=True)


def test_json_nested_very_deep_is_refused_not_a_crash(client, users):
    auth = _bearer(users["member"])
    body = "[" * 100_000 + "]" * 100_000
    response = client.post("/api/v1/visits/sync", data=body, content_type="application/json", headers=auth)
    _json_error(response, 400, "invalid")


def test_a_resident_with_a_mistyped_guide_link_is_told_so_and_offered_help_not_a_login(client):
    response = client.get("/g/khongco")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Kiểm tra lại đường link" in page and "địa bàn" not in page  # no "area" for a resident
    assert 'href="/help"' in page and "Tôi cần người đến hướng dẫn" in page
