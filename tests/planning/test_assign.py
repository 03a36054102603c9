from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from outreach.auth.models import Role
from outreach.errors import NotFound, ValidationError
from outreach.extensions import db
from outreach.planning.models import Assignment
from outreach.planning.services import assign_households, pick_households, walk_list
from outreach.visits.services import record_visit
from tests.conftest import NOW, csrf_token, login, make_household, make_user, visit_payload

DAY = date(2026, 11, 26)


@pytest.fixture
def team(users, geo):
    second = make_user("member2.tanha", Role.MEMBER, geo["tanha"])
    homes = [
        make_household(users["leader"], geo["tanha_v1"], f"Hộ {n}", lat=21.83 + n * 0.001, lon=105.19 + (n % 3) * 0.001)
        for n in range(6)
    ]
    homes.append(make_household(users["leader"], geo["tanha_v1"], "Hộ không toạ độ", address="ngõ 9"))
    return {"first": users["member"], "second": second, "homes": homes}


def _open(household_id):
    return db.session.scalars(
        sa.select(Assignment).where(Assignment.household_id == household_id, Assignment.released_at.is_(None))
    ).all()


def test_two_members_never_get_the_same_door(users, team):
    ids = [h.id for h in team["homes"][:3]]
    first = assign_households(users["leader"], team["first"].id, ids, due_on=DAY, now=NOW)
    db.session.commit()
    assert first.assigned == ids
    second = assign_households(users["leader"], team["second"].id, ids, due_on=DAY, now=NOW)
    db.session.commit()
    assert second.assigned == [] and len(second.conflicts) == 3
    assert all(len(_open(i)) == 1 and _open(i)[0].member_id == team["first"].id for i in ids)


def test_the_database_refuses_a_second_open_assignment(users, team):
    household = team["homes"][0]
    assign_households(users["leader"], team["first"].id, [household.id], due_on=DAY, now=NOW)
    db.session.commit()
    db.session.add(Assignment(household_id=household.id, member_id=team["second"].id, due_on=DAY))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_reassigning_is_explicit_and_the_previous_member_sees_it(client, users, team):
    household = team["homes"][0]
    assign_households(users["leader"], team["first"].id, [household.id], due_on=DAY, now=NOW)
    result = assign_households(users["leader"], team["second"].id, [household.id], due_on=DAY, now=NOW, reassign=True)
    db.session.commit()
    assert result.reassigned == [household.id]
    assert [a.member_id for a in _open(household.id)] == [team["second"].id]
    login(client, "member.tanha")
    page = client.get("/today").get_data(as_text=True)
    assert 'id="taken-away"' in page and household.head_name in page
    client.post("/today/seen", data={"csrf_token": csrf_token(client, "/today")})
    assert 'id="taken-away"' not in client.get("/today").get_data(as_text=True)


def test_a_leader_cannot_assign_outside_their_commune(users, geo, team):
    other = make_household(users["leader_other"], geo["minhkhuong_v1"], "Ma Văn Sơn")
    with pytest.raises(NotFound):
        assign_households(users["leader"], team["first"].id, [other.id], due_on=DAY, now=NOW)
    outsider = make_user("member.mk", Role.MEMBER, geo["minhkhuong"])
    with pytest.raises(ValidationError):
        assign_households(users["leader"], outsider.id, [team["homes"][0].id], due_on=DAY, now=NOW)


def test_a_household_outside_the_members_village_is_refused(users, geo, team):
    elsewhere = make_household(users["leader"], geo["tanha_v2"], "Hộ thôn khác")
    with pytest.raises(ValidationError) as caught:
        assign_households(users["leader"], team["first"].id, [elsewhere.id], due_on=DAY, now=NOW)
    assert "member_id" in caught.value.errors


def test_walk_list_orders_located_households_and_puts_the_others_last(users, team):
    assign_households(users["leader"], team["first"].id, [h.id for h in team["homes"]], due_on=DAY, now=NOW)
    assign_households(users["leader"], team["second"].id, [], due_on=DAY, now=NOW)
    db.session.commit()
    stops = walk_list(team["first"], today=DAY)
    assert len(stops) == 7
    assert stops[-1].household.head_name == "Hộ không toạ độ" and stops[-1].leg_m is None
    assert stops[0].leg_m is None and all(s.leg_m and 50 < s.leg_m < 400 for s in stops[1:-1])
    from_far = walk_list(team["first"], today=DAY, position=(21.90, 105.19))
    assert from_far[0].household.head_name == "Hộ 5"  # the nearest to where the member stands
    assert from_far[0].leg_m > 5000
    assert walk_list(team["second"], today=DAY) == []
    assert walk_list(team["first"], today=DAY - timedelta(days=1)) == []  # not yet due


def test_a_visit_closes_the_members_assignment(users, team):
    household = team["homes"][0]
    assign_households(users["leader"], team["first"].id, [household.id], due_on=DAY, now=NOW)
    db.session.commit()
    assert record_visit(team["first"], visit_payload(household), now=NOW).status == "created"
    db.session.commit()
    assert _open(household.id) == []
    assert walk_list(team["first"], today=DAY) == []


def test_filters_for_picking_households(users, team):
    leader = users["leader"]
    visited, activated, follow_up = team["homes"][0], team["homes"][1], team["homes"][2]
    record_visit(
        team["first"],
        visit_payload(visited, vneid_level1=False, outcome="refused", people_helped=0, vneid_installed=False),
        now=NOW,
    )
    record_visit(team["first"], visit_payload(activated), now=NOW)
    record_visit(
        team["first"],
        visit_payload(follow_up, outcome="follow_up", follow_up_on="2026-11-27", vneid_level1=False),
        now=NOW,
    )
    db.session.commit()

    def names(which, today=DAY):
        return {h.head_name for h, _a, _v in pick_households(leader, village_id=None, which=which, today=today)}

    assert names("not_visited") == {h.head_name for h in team["homes"][3:]}
    assert activated.head_name not in names("no_account") and visited.head_name in names("no_account")
    assert names("follow_up_due") == set()
    assert names("follow_up_due", today=DAY + timedelta(days=1)) == {follow_up.head_name}


def test_assign_page_whole_list_and_conflict_message(client, users, team, geo):
    login(client, "leader.tanha")
    token = csrf_token(client, "/assign")
    response = client.post(
        f"/assign?village={geo['tanha_v1'].id}",
        data={
            "csrf_token": token,
            "member_id": team["first"].id,
            "due_on": "2026-11-26",
            "campaign_id": 0,
            "whole_village": "1",
            "village": geo["tanha_v1"].id,
            "which": "all",
        },
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 7
    again = client.post(
        "/assign",
        data={
            "csrf_token": token,
            "member_id": team["second"].id,
            "due_on": "2026-11-26",
            "campaign_id": 0,
            "household": [team["homes"][0].id],
            "village": "",
            "which": "all",
        },
        follow_redirects=True,
    )
    assert "đã được giao cho" in again.get_data(as_text=True)


def test_members_and_staff_cannot_assign(client, users, team):
    login(client, "member.tanha")
    assert client.get("/assign").status_code == 403


def test_assigning_again_to_the_same_member_takes_the_new_day_and_campaign(users, team, geo):
    from outreach.planning.services import CampaignInput, save_campaign

    villages = [geo["tanha_v1"].id]
    old = save_campaign(users["leader"], geo["tanha"], CampaignInput("Quý III", DAY, DAY, villages), now=NOW)
    new = save_campaign(users["leader"], geo["tanha"], CampaignInput("Quý IV", DAY, DAY, villages), now=NOW)
    household = team["homes"][0]
    assign_households(users["leader"], team["first"].id, [household.id], due_on=DAY, now=NOW, campaign_id=old.id)
    later = DAY + timedelta(days=2)
    again = assign_households(
        users["leader"], team["first"].id, [household.id], due_on=later, now=NOW, campaign_id=new.id
    )
    db.session.commit()
    assert again.already == [household.id] and again.done == 1
    (assignment,) = _open(household.id)
    assert (assignment.member_id, assignment.due_on, assignment.campaign_id) == (team["first"].id, later, new.id)


def test_a_refusal_is_not_shown_beside_zero_households_assigned(client, users, team):
    household = team["homes"][0]
    assign_households(users["leader"], team["first"].id, [household.id], due_on=DAY, now=NOW)
    db.session.commit()
    login(client, "leader.tanha")
    page = client.post(
        "/assign",
        data={
            "csrf_token": csrf_token(client, "/assign"), "member_id": team["second"].id, "due_on": "2026-11-26",
            "campaign_id": 0, "household": [household.id], "village": "", "which": "all",
        },
        follow_redirects=True,
    ).get_data(as_text=True)  # fmt: skip
    assert "đã được giao cho" in page
    assert "flash-success" not in page and "Đã giao 0" not in page
    assert [a.member_id for a in _open(household.id)] == [team["first"].id]


def test_the_communes_one_running_campaign_is_chosen_for_the_leader(client, users, geo, team):
    from outreach.clock import local_today, utcnow
    from outreach.planning.services import CampaignInput, save_campaign

    today = local_today(utcnow())
    running = save_campaign(
        users["leader"], geo["tanha"],
        CampaignInput("Mọi nhà", today - timedelta(days=10), today + timedelta(days=30), [geo["tanha_v1"].id], 100, 80),
        now=NOW,
    )  # fmt: skip
    db.session.commit()
    login(client, "leader.tanha")
    page = client.get("/assign").get_data(as_text=True)
    assert f'<option selected value="{running.id}">' in page or f'value="{running.id}" selected' in page
