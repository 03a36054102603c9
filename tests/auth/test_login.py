import sqlalchemy as sa

from outreach.audit.models import AuditEvent
from outreach.extensions import db
from tests.conftest import PASSWORD, csrf_token, login


def test_login_then_logout(client, users):
    response = login(client, "leader.tanha")
    assert response.location == "/"
    assert "Phường Tân Hà" in client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/").status_code == 302


def test_wrong_password_says_so_in_vietnamese_and_is_audited(client, users):
    response = client.post(
        "/login", data={"username": "leader.tanha", "password": "nope", "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 200
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.get_data(as_text=True)
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "login.failed")).all()
    assert [(e.actor_name, e.actor_id) for e in events] == [("leader.tanha", users["leader"].id)]


def test_successful_login_is_audited(client, users):
    login(client, "leader.tanha")
    assert db.session.scalar(sa.select(AuditEvent.actor_id).where(AuditEvent.action == "login")) == users["leader"].id


def test_unknown_user_failure_is_audited_by_name(client, users):
    client.post("/login", data={"username": "ghost", "password": "x", "csrf_token": csrf_token(client)})
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "login.failed"))
    assert event.actor_name == "ghost" and event.actor_id is None


def test_deactivated_user_cannot_log_in(client, users):
    users["member"].active = False
    db.session.commit()
    response = client.post(
        "/login", data={"username": "member.tanha", "password": PASSWORD, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 200
    assert client.get("/").status_code == 302


def test_login_is_throttled_with_a_clear_message(client, users):
    token = csrf_token(client)
    statuses = [
        client.post("/login", data={"username": "leader.tanha", "password": "bad", "csrf_token": token}).status_code
        for _ in range(6)
    ]
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429
    page = client.post("/login", data={"username": "leader.tanha", "password": PASSWORD, "csrf_token": token})
    assert page.status_code == 429
    assert "Đăng nhập sai quá nhiều lần" in page.get_data(as_text=True)
    # The page still answers GET, so the person can read the form and wait.
    assert client.get("/login").status_code == 200


def test_forms_without_csrf_token_are_refused(client, users):
    response = client.post("/login", data={"username": "leader.tanha", "password": PASSWORD})
    assert response.status_code == 400
    login(client, "leader.tanha")
    village = users["leader"].scope_unit
    response = client.post(f"/units/{village.id}/villages", data={"name": "Thôn Mới", "kind": "Thôn"})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)


def test_session_cookie_is_http_only_and_same_site(client, users):
    response = login(client, "leader.tanha")
    cookie = response.headers.get("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_open_redirect_after_login_is_refused(client, users):
    response = client.post(
        "/login?next=//evil.example/",
        data={"username": "leader.tanha", "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.location == "/"


def test_english_is_the_second_language(client, users):
    login(client, "leader.tanha")
    assert "Hộ gia đình" in client.get("/").get_data(as_text=True)
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": csrf_token(client, "/")})
    page = client.get("/").get_data(as_text=True)
    assert "Add a household" in page and 'lang="en"' in page


def test_session_survives_a_change_of_network(client, users):
    login(client, "member.tanha")
    response = client.get("/", environ_base={"REMOTE_ADDR": "10.9.8.7"}, headers={"User-Agent": "Android phone"})
    assert response.status_code == 200


def test_successful_logins_are_never_throttled(client, users):
    # A training session: many people log in from one commune Wi-Fi within a minute.
    for _ in range(8):
        login(client, "leader.tanha")
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def test_throttling_one_name_does_not_lock_out_another(client, users):
    token = csrf_token(client)
    for _ in range(5):
        client.post("/login", data={"username": "leader.tanha", "password": "bad", "csrf_token": token})
    assert (
        client.post("/login", data={"username": "leader.tanha", "password": PASSWORD, "csrf_token": token}).status_code
        == 429
    )
    assert login(client, "member.tanha").status_code == 302


def test_many_names_from_one_address_are_throttled(client, users, app):
    token = csrf_token(client)
    limit = int(app.config["LOGIN_ADDRESS_RATE_LIMIT"].split()[0])
    for n in range(limit):
        client.post("/login", data={"username": f"guess{n}", "password": "bad", "csrf_token": token})
    assert (
        client.post("/login", data={"username": "leader.tanha", "password": PASSWORD, "csrf_token": token}).status_code
        == 429
    )
