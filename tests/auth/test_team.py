import sqlalchemy as sa

from outreach.auth.models import Role, User
from outreach.extensions import db
from tests.conftest import csrf_token, login, make_user


def _add(client, **fields):
    data = {
        "csrf_token": csrf_token(client, "/team"),
        "full_name": "Hà Thị Mai",
        "username": "tv.mai",
        "password": "mat-khau-dai",
    }
    return client.post("/team", data=data | fields)


def test_a_leader_adds_a_member_to_a_village_of_their_commune(client, users, geo):
    login(client, "leader.tanha")
    assert _add(client, unit_id=geo["tanha_v2"].id).status_code == 302
    member = db.session.scalar(sa.select(User).where(User.username == "tv.mai"))
    assert (member.role, member.scope_unit_id) == ("member", geo["tanha_v2"].id)
    page = client.get("/team").get_data(as_text=True)
    assert "Hà Thị Mai" in page and "Member.Tanha" in page


def test_a_leader_cannot_add_a_member_elsewhere_or_anything_but_a_member(client, users, geo):
    login(client, "leader.tanha")
    assert _add(client, unit_id=geo["minhkhuong_v1"].id).status_code == 200
    assert _add(client, unit_id=geo["tanha_v1"].id, role="admin").status_code == 302  # the role is not a field
    roles = {u.username: u.role for u in db.session.scalars(sa.select(User))}
    assert roles["tv.mai"] == "member"


def test_a_leader_moves_and_locks_only_their_own_members(client, users, geo):
    other = make_user("tv.mk", Role.MEMBER, geo["minhkhuong_v1"])
    login(client, "leader.tanha")
    token = csrf_token(client, "/team")
    member = users["member"]
    client.post(f"/team/{member.id}", data={"csrf_token": token, "unit_id": geo["tanha_v2"].id, "active": "1"})
    client.post(
        f"/team/{member.id}",
        data={"csrf_token": token, "unit_id": geo["tanha_v2"].id, "active": "1", "set_active": "0"},
    )
    db.session.rollback()
    moved = db.session.get(User, member.id)
    assert (moved.scope_unit_id, moved.active) == (geo["tanha_v2"].id, False)
    assert (
        client.post(
            f"/team/{other.id}", data={"csrf_token": token, "unit_id": geo["tanha_v1"].id, "active": "0"}
        ).status_code
        == 404
    )
    db.session.rollback()
    assert db.session.get(User, other.id).active


def test_only_leaders_have_a_team_page(client, users):
    login(client, "member.tanha")
    assert client.get("/team").status_code == 403


def test_the_team_page_names_the_whole_unit_by_its_own_kind(client, users, geo):
    login(client, "leader.tanha")  # Phường Tân Hà: a ward
    page = client.get("/team").get_data(as_text=True)
    assert f'<option value="{geo["tanha"].id}">cả phường</option>' in page and "cả xã" not in page
    make_user("leader.mk", Role.LEADER, geo["minhkhuong"])  # Xã Minh Khương: a commune
    client.post("/logout", data={"csrf_token": csrf_token(client, "/team")})
    login(client, "leader.mk")
    assert f'<option value="{geo["minhkhuong"].id}">cả xã</option>' in client.get("/team").get_data(as_text=True)
