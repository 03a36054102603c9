"""Sessions that can be ended: a logout, a lost phone, a password reset, a lock, a role or area change
end the logins they should, session and remember cookie alike; a login starts a new session (new
remember cookie, new CSRF token); and a user name that does not exist answers as slowly as one that does."""

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from outreach.audit.models import AuditEvent
from outreach.auth.models import LoginSession, User
from outreach.extensions import db
from tests.conftest import PASSWORD, csrf_token


def _login(client, username: str, *, remember: bool = False):
    data = {"username": username, "password": PASSWORD, "csrf_token": csrf_token(client)}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response


def _cookie(client, name: str) -> str:
    cookie = client.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    return cookie.value


def _opens(app, page: str, **cookies: str) -> bool:
    """Whether a browser holding only these cookies (a copy taken from a phone) gets ``page``."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other.get(page).status_code == 200


@pytest.fixture
def phone_cookies(app, client, users):
    """The member logged in on a phone with "stay logged in": the two cookies that phone holds."""
    _login(client, "member.tanha", remember=True)
    cookies = {"session": _cookie(client, "session"), "remember_token": _cookie(client, "remember_token")}
    assert _opens(app, "/today", session=cookies["session"])
    assert _opens(app, "/today", remember_token=cookies["remember_token"])
    return cookies


def _still_open(app, cookies: dict[str, str]) -> dict[str, bool]:
    return {name: _opens(app, "/today", **{name: value}) for name, value in cookies.items()}


def test_logout_ends_the_session_on_the_server(app, client, phone_cookies):
    client.post("/logout", data={"csrf_token": csrf_token(client, "/today")})
    assert _still_open(app, phone_cookies) == {"session": False, "remember_token": False}


def test_the_remember_cookie_is_new_at_every_login(client, users):
    cookies = []
    for _ in range(2):
        _login(client, "member.tanha", remember=True)
        cookies.append(_cookie(client, "remember_token"))
        client.post("/logout", data={"csrf_token": csrf_token(client, "/today")})
    assert cookies[0] != cookies[1]


def test_a_user_logs_out_on_every_device_at_once(app, client, users, phone_cookies):
    laptop = app.test_client()
    _login(laptop, "member.tanha")
    assert "Đăng xuất trên mọi thiết bị" in laptop.get("/today").get_data(as_text=True)
    response = laptop.post("/logout/everywhere", data={"csrf_token": csrf_token(laptop, "/today")})
    assert response.status_code == 302 and response.location == "/login"
    assert laptop.get("/today").status_code == 302
    assert _still_open(app, phone_cookies) == {"session": False, "remember_token": False}
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "sessions.end"))
    assert event.actor_id == users["member"].id and event.detail == {"logins": 2}
    assert db.session.scalar(sa.select(sa.func.count(LoginSession.id))) == 0


@pytest.mark.parametrize(
    "change",
    [
        {"new_password": "mat-khau-moi-1"},  # a password reset
        {"active": None},  # a lock
        {"unit_code": "02216-002"},  # another village
        {"role": "leader", "unit_code": "02216"},  # another role
    ],
    ids=["password", "lock", "area", "role"],
)
def test_an_administrator_change_ends_every_login_of_the_user(app, users, phone_cookies, change):
    admin = app.test_client()
    _login(admin, "admin")
    data = {"csrf_token": csrf_token(admin, "/admin/users"), "role": "member", "unit_code": "02216-001", "active": "y"}
    data.update(change)
    data = {k: v for k, v in data.items() if v is not None}
    assert admin.post(f"/admin/users/{users['member'].id}", data=data).status_code == 302
    assert _still_open(app, phone_cookies) == {"session": False, "remember_token": False}
    assert admin.get("/admin/users").status_code == 200  # the administrator's own login goes on


def test_a_change_that_touches_nothing_the_user_sees_keeps_them_logged_in(app, users, phone_cookies):
    admin = app.test_client()
    _login(admin, "admin")
    data = {"csrf_token": csrf_token(admin, "/admin/users"), "role": "member", "unit_code": "02216-001", "active": "y"}
    assert admin.post(f"/admin/users/{users['member'].id}", data=data).status_code == 302
    assert _still_open(app, phone_cookies) == {"session": True, "remember_token": True}


def test_a_leader_moving_or_locking_a_member_ends_their_logins(app, geo, users, phone_cookies):
    leader = app.test_client()
    _login(leader, "leader.tanha")
    token = csrf_token(leader, "/team")
    member = users["member"]
    leader.post(f"/team/{member.id}", data={"csrf_token": token, "unit_id": geo["tanha_v2"].id, "active": "1"})
    assert _still_open(app, phone_cookies) == {"session": False, "remember_token": False}

    phone = app.test_client()
    _login(phone, "member.tanha", remember=True)
    again = {"session": _cookie(phone, "session"), "remember_token": _cookie(phone, "remember_token")}
    leader.post(
        f"/team/{member.id}",
        data={"csrf_token": token, "unit_id": geo["tanha_v2"].id, "active": "1", "set_active": "0"},
    )
    assert _still_open(app, again) == {"session": False, "remember_token": False}


def test_a_cookie_from_before_logins_were_kept_opens_nothing(app, client, users):
    """A session signed with the right key but naming a bare user id (as before) is not a login."""
    _login(client, "admin")
    serializer = app.session_interface.get_signing_serializer(app)
    old_style = serializer.dumps({"_user_id": str(users["admin"].id), "_fresh": True})
    assert not _opens(app, "/admin/users", session=old_style)


def test_a_login_lasts_no_longer_than_its_longest_cookie(app, client, users):
    _login(client, "member.tanha", remember=True)
    cookies = {"session": _cookie(client, "session"), "remember_token": _cookie(client, "remember_token")}
    for row in db.session.scalars(sa.select(LoginSession)):
        row.created_at -= app.config["REMEMBER_COOKIE_DURATION"] + timedelta(minutes=1)
    db.session.commit()
    assert _still_open(app, cookies) == {"session": False, "remember_token": False}


def test_the_csrf_token_is_renewed_at_login(client, users):
    before = csrf_token(client)  # the login form's token: someone else may know it
    _login(client, "leader.tanha")
    stale = client.post("/language", data={"lang": "en", "next": "/", "csrf_token": before})
    assert stale.status_code == 400
    fresh = client.post("/language", data={"lang": "en", "next": "/", "csrf_token": csrf_token(client, "/")})
    assert fresh.status_code == 302


def _password_checks(client, monkeypatch, username: str, password: str) -> list[int]:
    """The PBKDF2 computations (their iteration counts) one login attempt makes."""
    rounds = []
    real = hashlib.pbkdf2_hmac

    def counted(name, password, salt, iterations, *args, **kwargs):
        rounds.append(iterations)
        return real(name, password, salt, iterations, *args, **kwargs)

    token = csrf_token(client)
    monkeypatch.setattr(hashlib, "pbkdf2_hmac", counted)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    monkeypatch.setattr(hashlib, "pbkdf2_hmac", real)
    assert response.status_code == 200  # refused either way
    return rounds


def test_an_unknown_user_name_costs_the_same_password_check(client, users, monkeypatch, app):
    assert app.config["PASSWORD_HASH_METHOD"].startswith("pbkdf2")  # the tests' fast method, counted below
    known = _password_checks(client, monkeypatch, "leader.tanha", "wrong-password")
    assert known == [1000]
    assert _password_checks(client, monkeypatch, "nobody.here", "wrong-password") == known
    users["member"].active = False
    db.session.commit()
    assert _password_checks(client, monkeypatch, "member.tanha", PASSWORD) == known  # locked: still checked


def test_logins_are_kept_only_as_hashes(client, users):
    _login(client, "member.tanha", remember=True)
    session_id = client.get_cookie("remember_token").value.split("|")[0]
    key = session_id.partition(":")[2]
    rows = db.session.scalars(sa.select(LoginSession)).all()
    assert len(rows) == 1 and rows[0].user_id == db.session.scalar(
        sa.select(User.id).where(User.username == "member.tanha")
    )
    assert key and key not in rows[0].key_hash and rows[0].key_hash == hashlib.sha256(key.encode()).hexdigest()
