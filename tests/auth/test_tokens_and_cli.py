import hashlib

import sqlalchemy as sa

from outreach.audit.models import AuditEvent
from outreach.auth.models import ApiToken, User
from outreach.extensions import db
from tests.conftest import csrf_token, login


def test_cli_creates_a_user_with_a_password_from_stdin(runner, geo):
    result = runner.invoke(
        args=["users", "create", "tv.phubinh", "--role", "member", "--unit", "02216-001", "--password-stdin"],
        input="mat-khau-dai\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.username == "tv.phubinh"))
    assert user.role == "member" and user.scope_unit.code == "02216-001"
    assert user.check_password("mat-khau-dai") and "mat-khau-dai" not in user.password_hash


def test_cli_password_prompt(runner, geo):
    result = runner.invoke(
        args=["users", "create", "ld.tanha", "--role", "leader", "--unit", "legacy:02216"],
        input="mat-khau-dai\nmat-khau-dai\n",
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(User.role).where(User.username == "ld.tanha")) == "leader"


def test_cli_refuses_a_leader_scoped_to_a_district_and_unknown_units(runner, geo):
    district = runner.invoke(
        args=["users", "create", "x", "--role", "leader", "--unit", "070", "--password-stdin"], input="mat-khau-dai\n"
    )
    assert district.exit_code == 2
    unknown = runner.invoke(
        args=["users", "create", "y", "--role", "staff", "--unit", "00000", "--password-stdin"], input="mat-khau-dai\n"
    )
    assert unknown.exit_code == 2 and "00000" in unknown.output
    short = runner.invoke(args=["users", "create", "z", "--role", "admin", "--password-stdin"], input="short\n")
    assert short.exit_code == 2
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_token_is_printed_once_and_stored_hashed(runner, client, users):
    result = runner.invoke(args=["users", "token", "leader.tanha"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    stored = db.session.scalar(sa.select(ApiToken))
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in stored.token_hash
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json()["username"] == "leader.tanha"
    assert db.session.scalar(sa.select(ApiToken.last_used_at)) is not None  # shown on the token page


def test_api_without_credentials_or_with_a_revoked_token_is_401(runner, client, users):
    assert client.get("/api/v1/me").status_code == 401
    token = runner.invoke(args=["users", "token", "leader.tanha"]).output.strip()
    login(client, "leader.tanha")
    client.post(
        f"/account/tokens/{db.session.scalar(sa.select(ApiToken.id))}/revoke",
        data={"csrf_token": csrf_token(client, "/account/tokens")},
    )
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer otr_made-up"}).status_code == 401


def test_bearer_post_needs_no_csrf_but_a_session_post_does(runner, client, users, geo):
    token = runner.invoke(args=["users", "token", "leader.tanha"]).output.strip()
    body = {
        "village_id": geo["tanha_v1"].id,
        "head_name": "Ma Thị Lan",
        "phone": "0391234567",
        "consent_store_phone": True,
    }
    created = client.post("/api/v1/households", json=body, headers={"Authorization": f"Bearer {token}"})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["phone"] == "+84391234567"
    login(client, "leader.tanha")
    refused = client.post("/api/v1/households", json=body | {"head_name": "Ma Thị Hoa"})
    assert refused.status_code == 400
    accepted = client.post(
        "/api/v1/households",
        json=body | {"head_name": "Ma Thị Hoa", "phone": ""},
        headers={"X-CSRFToken": csrf_token(client, "/")},
    )
    assert accepted.status_code == 201


def test_api_duplicate_is_409_until_confirmed(runner, client, users, geo):
    token = runner.invoke(args=["users", "token", "leader.tanha"]).output.strip()
    auth = {"Authorization": f"Bearer {token}"}
    body = {"village_id": geo["tanha_v1"].id, "head_name": "Ma Thị Lan"}
    assert client.post("/api/v1/households", json=body, headers=auth).status_code == 201
    assert client.post("/api/v1/households", json=body | {"head_name": "MA THI LAN"}, headers=auth).status_code == 409
    assert client.post("/api/v1/households", json=body | {"confirm_duplicate": True}, headers=auth).status_code == 201


def test_token_page_shows_a_new_token_once(client, users):
    login(client, "staff.city")
    token = csrf_token(client, "/account/tokens")
    unlabelled = client.post("/account/tokens", data={"csrf_token": token, "label": ""}).get_data(as_text=True)
    assert 'id="new-token"' not in unlabelled
    page = client.post("/account/tokens", data={"csrf_token": token, "label": "báo cáo tuần"}).get_data(as_text=True)
    assert 'id="new-token"' in page and "Authorization: Bearer" in page
    again = client.get("/account/tokens").get_data(as_text=True)
    assert 'id="new-token"' not in again and "báo cáo tuần" in again


def test_members_have_no_token_page(client, users):
    login(client, "member.tanha")
    assert client.get("/account/tokens").status_code == 403


def test_admin_creates_deactivates_and_rescopes_users_with_audit(client, users, geo):
    login(client, "admin")
    token = csrf_token(client, "/admin/users")
    created = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "tv.moi",
            "role": "member",
            "unit_code": "02216-002",
            "password": "mat-khau-dai",
        },
    )
    assert created.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.username == "tv.moi"))
    changed = client.post(
        f"/admin/users/{user.id}", data={"csrf_token": token, "role": "leader", "unit_code": "02383"}
    )  # active unticked
    assert changed.status_code == 302
    db.session.rollback()
    user = db.session.get(User, user.id)
    assert (user.role, user.scope_unit.code, user.active) == ("leader", "02383", False)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.role_change"))
    assert event.detail["before"]["role"] == "member" and event.detail["after"]["unit"] == "02383"
    audit = client.get("/admin/audit").get_data(as_text=True)
    assert "Đổi vai trò hoặc địa bàn" in audit and "Tạo người dùng" in audit
    assert f'/admin/users/{user.id}">tv.moi</a>' in audit  # the target named by auth (naming_targets)


def test_admin_cannot_lock_themselves_out(client, users):
    login(client, "admin")
    page = client.post(
        f"/admin/users/{users['admin'].id}", data={"csrf_token": csrf_token(client, "/admin/users"), "role": "admin"}
    )
    assert page.status_code == 200
    db.session.rollback()
    assert db.session.get(User, users["admin"].id).active


def test_only_admins_reach_user_administration(client, users):
    login(client, "leader.tanha")
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/audit").status_code == 403


def test_admin_resets_a_password(client, users):
    login(client, "admin")
    token = csrf_token(client, "/admin/users")
    member = users["member"]
    response = client.post(
        f"/admin/users/{member.id}",
        data={
            "csrf_token": token,
            "role": "member",
            "unit_code": "02216-001",
            "active": "y",
            "new_password": "mat-khau-moi-1",
        },
    )
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(User, member.id).check_password("mat-khau-moi-1")
    assert db.session.scalar(sa.select(AuditEvent.target_id).where(AuditEvent.action == "user.password")) == str(
        member.id
    )


def test_units_are_found_by_name_and_ambiguous_names_list_the_choices(runner, geo):
    ok = runner.invoke(
        args=["users", "create", "ld.mk", "--role", "leader", "--unit", "minh khuong", "--password-stdin"],
        input="mat-khau-dai\n",
    )
    assert ok.exit_code == 0, ok.output
    assert db.session.scalar(sa.select(User).where(User.username == "ld.mk")).scope_unit.code == "02383"
    ambiguous = runner.invoke(
        args=["users", "create", "x", "--role", "member", "--unit", "Tân Hà", "--password-stdin"],
        input="mat-khau-dai\n",
    )
    assert ambiguous.exit_code == 2
    assert "02216" in ambiguous.output and "02216-002" in ambiguous.output
