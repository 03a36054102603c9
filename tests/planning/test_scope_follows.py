"""Scope follows people: when a member (or a leader) moves to another area, or a household moves to
another village, the open assignments that fall outside the new area end, and nothing of those
households stays on Today, the assignments API or the walk map. The leader sees them "to reassign"."""

from datetime import date

import pytest
import sqlalchemy as sa

from outreach.auth.models import Role
from outreach.extensions import db
from outreach.planning.models import Assignment
from outreach.planning.services import assign_households, taken_away, upcoming, walk_list
from tests.conftest import NOW, csrf_token, login, make_household, make_user

DAY = date(2026, 11, 26)
NAME, ADDRESS, PHONE = "Lục Thị Dịu", "xóm Cây Đa 17", "0912 345 678"


@pytest.fixture
def door(users, geo):
    """A household of Phú Bình (Tân Hà) with a phone and a location, assigned to the village's member."""
    household = make_household(
        users["leader"], geo["tanha_v1"], NAME, address=ADDRESS, phone=PHONE, lat=21.831, lon=105.191
    )
    assign_households(users["leader"], users["member"].id, [household.id], due_on=DAY, now=NOW)
    db.session.commit()
    return household


def _field_pages(client) -> str:
    """Everything the field app shows a member about their work today."""
    return "\n".join(client.get(url).get_data(as_text=True) for url in ("/today", "/api/v1/assignments", "/maps/walk"))


def _assert_gone(page: str) -> None:
    for leaked in (NAME, ADDRESS, "912345678", "912 345 678"):
        assert leaked not in page, leaked


def _assignment(household_id: int) -> Assignment:
    db.session.rollback()
    return db.session.scalars(
        sa.select(Assignment).where(Assignment.household_id == household_id).order_by(Assignment.id.desc())
    ).first()


def test_a_member_moved_to_another_village_loses_its_households(client, users, geo, door):
    login(client, "member.tanha")
    assert NAME in _field_pages(client)  # before the move: on Today, in the API and on the map
    client.post("/logout", data={"csrf_token": csrf_token(client, "/today")})

    login(client, "leader.tanha")
    token = csrf_token(client, "/team")
    client.post(f"/team/{users['member'].id}", data={"csrf_token": token, "unit_id": geo["tanha_v2"].id, "active": "1"})
    released = _assignment(door.id)
    assert released.released_at is not None and released.released_reason == "out_of_area"
    # The leader finds the household among those to reassign, with a notice on the assign page.
    page = client.get("/assign?which=to_reassign").get_data(as_text=True)
    assert NAME in page and 'id="to-reassign"' in page
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    login(client, "member.tanha")
    assert client.get(f"/households/{door.id}").status_code == 404
    pages = _field_pages(client)
    _assert_gone(pages)
    assert 'id="moved-away"' in pages  # the member is told their list changed, without the names


def test_a_household_moved_to_another_village_leaves_its_members_list(client, users, geo, door):
    login(client, "leader.tanha")
    url = f"/households/{door.id}/edit"
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url), "village_id": geo["tanha_v2"].id, "head_name": NAME,
            "address": ADDRESS, "phone": PHONE, "members": 3, "lat": "21.831", "lon": "105.191",
        },
    )  # fmt: skip
    assert response.status_code == 302
    assert _assignment(door.id).released_reason == "out_of_area"
    assert NAME in client.get("/assign?which=to_reassign").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    login(client, "member.tanha")
    _assert_gone(_field_pages(client))


def test_a_move_inside_the_area_keeps_the_assignment(client, users, geo):
    member = make_user("member.commune", Role.MEMBER, geo["tanha"])  # works in the whole commune
    household = make_household(users["leader"], geo["tanha_v1"], NAME, phone=PHONE)
    assign_households(users["leader"], member.id, [household.id], due_on=DAY, now=NOW)
    db.session.commit()
    login(client, "leader.tanha")
    token = csrf_token(client, "/team")
    client.post(f"/team/{member.id}", data={"csrf_token": token, "unit_id": geo["tanha"].id, "active": "1"})
    assert _assignment(household.id).released_at is None


def test_an_admin_re_scoping_a_leader_ends_their_open_assignments(client, users, geo):
    household = make_household(users["leader"], geo["tanha_v1"], NAME, address=ADDRESS, phone=PHONE)
    # A leader's own follow-up task (the scheduler gives the visitor one), open for today.
    db.session.add(Assignment(household_id=household.id, member_id=users["leader"].id, due_on=DAY, created_at=NOW))
    db.session.commit()
    login(client, "admin")
    url = f"/admin/users/{users['leader'].id}"
    response = client.post(
        url, data={"csrf_token": csrf_token(client, url), "role": "leader", "unit_code": "02383", "active": "y"}
    )
    assert response.status_code == 302
    assert _assignment(household.id).released_reason == "out_of_area"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    login(client, "leader.tanha")
    _assert_gone(_field_pages(client))


def test_every_list_of_assignments_is_scoped_even_without_a_release(users, geo):
    """An open assignment outside the member's area (written by hand, or by an older version) never shows."""
    elsewhere = make_household(users["leader_other"], geo["minhkhuong_v1"], NAME, phone=PHONE)
    later = make_household(users["leader_other"], geo["minhkhuong_v1"], "Hộ sau", phone="0987654321")
    member = users["member"]
    db.session.add_all(
        [
            Assignment(household_id=elsewhere.id, member_id=member.id, due_on=DAY, created_at=NOW),
            Assignment(household_id=later.id, member_id=member.id, due_on=date(2026, 12, 1), created_at=NOW),
        ]
    )
    db.session.commit()
    assert walk_list(member, today=DAY) == []
    assert upcoming(member, today=DAY) == 0
    db.session.execute(sa.update(Assignment).values(released_at=NOW, released_reason="reassigned"))
    assert taken_away(member) == []


def test_a_stale_assignment_outside_the_members_area_is_no_conflict(users, geo):
    """One left open by an older version, or made for a member who has since moved: it ends when the
    leader gives the household to someone who may see it."""
    household = make_household(users["leader"], geo["tanha_v2"], NAME, phone=PHONE)
    db.session.add(Assignment(household_id=household.id, member_id=users["member"].id, due_on=DAY, created_at=NOW))
    db.session.commit()
    other = make_user("member.v2", Role.MEMBER, geo["tanha_v2"])
    result = assign_households(users["leader"], other.id, [household.id], due_on=DAY, now=NOW)
    db.session.commit()
    assert result.assigned == [household.id] and result.conflicts == []
    reasons = dict(db.session.execute(sa.select(Assignment.member_id, Assignment.released_reason)).all())
    assert reasons == {users["member"].id: "out_of_area", other.id: None}
