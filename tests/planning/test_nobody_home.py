"""Nobody home is a try, not a visit: the household stays on the member's list (later the same day,
or back on the day the campaign sets) and the figures count it apart from the households reached."""

import re
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from outreach.auth.models import Role
from outreach.clock import local_today, utcnow
from outreach.extensions import db
from outreach.maps.services import coverage_detail, household_points
from outreach.planning.models import Assignment
from outreach.planning.progress import progress_by_member, progress_by_village, total
from outreach.planning.services import (
    CampaignInput,
    assign_households,
    pick_households,
    save_campaign,
    upcoming,
    walk_list,
)
from outreach.visits.coverage import coverage
from outreach.visits.models import VisitRecord
from outreach.visits.services import record_visit, sync_visits
from outreach.visits.signals import visits_stored
from tests.conftest import NOW, csrf_token, login, make_household, make_user, visit_payload

DAY = date(2026, 11, 26)  # NOW is 10:00 on this day in Vietnam


def _at(hour: int, day: date = DAY) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00+07:00"


def _nobody_home(household, hour: int = 9, day: date = DAY, **fields) -> dict:
    return visit_payload(household, outcome="nobody_home", device_time=_at(hour, day), **fields)


def _open(household_id):
    return db.session.scalar(
        sa.select(Assignment).where(Assignment.household_id == household_id, Assignment.released_at.is_(None))
    )


@pytest.fixture
def team(users, geo):
    homes = [
        make_household(users["leader"], geo["tanha_v1"], f"Hộ {n}", lat=21.83 + n * 0.001, lon=105.19) for n in range(4)
    ]
    return {"member": users["member"], "leader": users["leader"], "homes": homes}


def _campaign(team, geo, retry_days: int):
    data = CampaignInput(
        "Mọi nhà trước Tết", date(2026, 11, 1), date(2026, 12, 31), [geo["tanha_v1"].id, geo["tanha_v2"].id],
        nobody_home_retry_days=retry_days,
    )  # fmt: skip
    campaign = save_campaign(team["leader"], geo["tanha"], data, now=NOW)
    db.session.commit()
    return campaign


def _assign(team, homes, campaign=None, due_on=DAY):
    assign_households(
        team["leader"], team["member"].id, [h.id for h in homes], due_on=due_on, now=NOW,
        campaign_id=campaign.id if campaign else None,
    )  # fmt: skip
    db.session.commit()


# --- the member's list -------------------------------------------------------------------------


def test_nobody_home_keeps_the_household_on_todays_list_after_the_others(team):
    homes = team["homes"]
    _assign(team, homes)  # no campaign: try again later the same day
    assert record_visit(team["member"], _nobody_home(homes[0]), now=NOW).status == "created"
    db.session.commit()
    kept = _open(homes[0].id)
    assert kept is not None and kept.due_on == DAY
    assert kept.tried_at == datetime.fromisoformat(_at(9))
    stops = walk_list(team["member"], today=DAY)
    assert [s.household.id for s in stops][-1] == homes[0].id  # the doors not tried yet come first
    assert len(stops) == 4
    # Reached later the same day: now it is done.
    assert record_visit(team["member"], visit_payload(homes[0], device_time=_at(17)), now=NOW).status == "created"
    db.session.commit()
    assert _open(homes[0].id) is None
    assert homes[0].id not in [s.household.id for s in walk_list(team["member"], today=DAY)]


def test_the_campaign_sets_the_day_of_the_next_try(team, geo):
    homes = team["homes"]
    next_day = _campaign(team, geo, retry_days=1)
    _assign(team, homes[:2], next_day)
    record_visit(team["member"], _nobody_home(homes[0]), now=NOW)
    db.session.commit()
    assert _open(homes[0].id).due_on == DAY + timedelta(days=1)
    assert [s.household.id for s in walk_list(team["member"], today=DAY)] == [homes[1].id]
    assert upcoming(team["member"], today=DAY) == 1  # "planned for later days"
    assert homes[0].id in [s.household.id for s in walk_list(team["member"], today=DAY + timedelta(days=1))]


def test_in_n_days_counts_from_the_day_of_the_try_not_the_day_it_was_sent(team, geo):
    homes = team["homes"]
    in_three = _campaign(team, geo, retry_days=3)
    _assign(team, homes[:1], in_three, due_on=DAY - timedelta(days=2))
    # Tried two days ago on a phone with no signal, sent today.
    record_visit(team["member"], _nobody_home(homes[0], day=DAY - timedelta(days=2)), now=NOW)
    db.session.commit()
    assert _open(homes[0].id).due_on == DAY + timedelta(days=1)


def test_a_batch_closes_a_household_reached_after_nobody_was_home(team):
    homes = team["homes"]
    _assign(team, homes[:3])
    batch = [
        _nobody_home(homes[0], hour=9),
        visit_payload(homes[0], device_time=_at(16)),  # reached in the afternoon
        visit_payload(homes[1], device_time=_at(9)),
        _nobody_home(homes[1], hour=16),  # reached in the morning: an afternoon knock changes nothing
        _nobody_home(homes[2], hour=9),
        _nobody_home(homes[2], hour=15),
    ]
    assert [r.status for r in sync_visits(team["member"], batch, now=NOW)] == ["created"] * 6
    db.session.commit()
    assert _open(homes[0].id) is None and _open(homes[1].id) is None
    assert _open(homes[2].id).tried_at == datetime.fromisoformat(_at(15))


def test_a_correction_to_nobody_home_puts_the_household_back(team):
    homes = team["homes"]
    _assign(team, homes[:1])
    wrong = visit_payload(homes[0])
    record_visit(team["member"], wrong, now=NOW)
    db.session.commit()
    assert _open(homes[0].id) is None
    record_visit(team["member"], _nobody_home(homes[0], supersedes=wrong["client_id"]), now=NOW)
    db.session.commit()
    back = _open(homes[0].id)
    assert back is not None and back.member_id == team["member"].id and back.due_on == DAY


def test_the_assignment_work_is_undone_with_the_record(team):
    """visits tells planning through visits_stored inside the record's savepoint: when the record
    cannot be stored (here a receiver fails as a racing insert would), the assignment stays as it was."""
    homes = team["homes"]
    _assign(team, homes[:1])

    def fails(_actor, **_kwargs):
        raise sa.exc.IntegrityError("INSERT", {}, Exception("raced"))

    with visits_stored.connected_to(fails):  # connected last: planning's receiver has run before it
        result = record_visit(team["member"], visit_payload(homes[0]), now=NOW)
    assert result.status == "rejected"
    db.session.commit()
    assert _open(homes[0].id) is not None
    assert db.session.scalar(sa.select(sa.func.count(VisitRecord.id))) == 0


def test_today_says_nobody_was_home(client, team):
    homes = team["homes"]
    today = local_today()
    assign_households(team["leader"], team["member"].id, [homes[0].id, homes[1].id], due_on=today, now=utcnow())
    db.session.commit()
    tried = visit_payload(homes[0], outcome="nobody_home", device_time=utcnow().isoformat())
    record_visit(team["member"], tried, now=utcnow())
    db.session.commit()
    login(client, "member.tanha")
    page = client.get("/today").get_data(as_text=True)
    stops = re.findall(r'<li data-household="(\d+)"(.*?)</li>', page, re.S)
    assert [int(h) for h, _ in stops] == [homes[1].id, homes[0].id]
    assert 'class="tried"' in stops[1][1] and "Không có ai ở nhà lúc" in stops[1][1]
    assert 'class="tried"' not in stops[0][1]


# --- the figures -------------------------------------------------------------------------------


@pytest.fixture
def tried_and_reached(team, geo):
    """Hộ 0 helped; Hộ 1 nobody home; Hộ 2 nobody home then refused (reached); Hộ 3 never tried."""
    homes = team["homes"]
    member = team["member"]
    record_visit(member, visit_payload(homes[0]), now=NOW)
    record_visit(member, _nobody_home(homes[1]), now=NOW)
    record_visit(member, _nobody_home(homes[2], hour=8), now=NOW)
    record_visit(member, visit_payload(homes[2], outcome="refused", device_time=_at(9)), now=NOW)
    db.session.commit()
    return homes


def test_coverage_counts_households_reached_and_nobody_home_apart(users, geo, tried_and_reached):
    villages = {r.name: r for r in coverage(users["leader"], geo["tanha"], "village")}
    phu_binh = villages["Thôn Phú Bình"]
    assert (phu_binh.households, phu_binh.visited, phu_binh.nobody_home) == (4, 2, 1)
    assert phu_binh.share("visited") == 50.0
    communes = {r.name: r for r in coverage(users["admin"], geo["province"], "commune")}
    assert (communes["Phường Tân Hà"].visited, communes["Phường Tân Hà"].nobody_home) == (2, 1)


def test_campaign_progress_counts_households_reached_and_nobody_home_apart(team, geo, tried_and_reached):
    campaign = _campaign(team, geo, retry_days=0)
    rows = {r.label: r for r in progress_by_village(campaign, today=DAY)}
    phu_binh = rows["Thôn Phú Bình"]
    assert (phu_binh.visited, phu_binh.nobody_home, phu_binh.helped) == (2, 1, 1)
    assert (total(list(rows.values())).visited, total(list(rows.values())).nobody_home) == (2, 1)
    [member] = progress_by_member(campaign, today=DAY)
    assert (member.visited, member.nobody_home) == (2, 1)


def test_the_progress_page_shows_nobody_home_apart(client, team, geo, tried_and_reached):
    campaign = _campaign(team, geo, retry_days=0)
    login(client, "leader.tanha")
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "Đã đến, không có ai ở nhà" in page
    assert "Khi không có ai ở nhà: quay lại sau trong cùng ngày." in page


def test_pick_not_visited_includes_households_where_nobody_was_home(team, tried_and_reached):
    names = {
        h.head_name for h, _a, _v in pick_households(team["leader"], village_id=None, which="not_visited", today=DAY)
    }
    assert names == {"Hộ 1", "Hộ 3"}


def test_the_household_map_shows_nobody_home_apart(team, geo, tried_and_reached):
    status = {p.name: p.status for p in household_points(team["leader"], geo["tanha"], today=DAY)}
    assert status == {"Hộ 0": "helped", "Hộ 1": "nobody_home", "Hộ 2": "visited", "Hộ 3": "not_visited"}


def test_the_coverage_map_tells_nobody_home_apart(app, client, users, team, geo, tried_and_reached):
    login(client, "staff.city")
    page = client.get(f"/maps/units/{geo['city'].id}").get_data(as_text=True)
    assert "2 / 4" in page and "3 / 4" not in page  # Tân Hà's popup
    assert "Đã đến, không có ai ở nhà" in page  # the table's column
    [tanha] = [r for r in coverage(users["staff"], geo["city"], "commune") if r.name == "Phường Tân Hà"]
    with app.test_request_context():
        detail = coverage_detail(tanha, "visited")
    assert detail == "2 / 4 hộ đã được đến thăm (50%) · thêm 1 hộ đã đến nhưng không có ai ở nhà"


# --- the setting -------------------------------------------------------------------------------


def test_the_leader_sets_when_to_try_again(client, team, geo):
    login(client, "leader.tanha")
    form = {
        "csrf_token": csrf_token(client, "/campaigns"), "name": "Tháng 12", "starts_on": "2026-12-01",
        "ends_on": "2026-12-31", "village_ids": [geo["tanha_v1"].id], "goal_visited_pct": 100,
        "goal_activated_pct": 80, "nobody_home_retry_days": 40,
    }  # fmt: skip
    refused = client.post("/campaigns", data=form)
    assert refused.status_code == 200 and "nobody_home_retry_days-error" in refused.get_data(as_text=True)
    created = client.post("/campaigns", data=form | {"nobody_home_retry_days": 2})
    assert created.status_code == 302
    page = client.get(created.headers["Location"]).get_data(as_text=True)
    assert "Khi không có ai ở nhà: quay lại 2 ngày sau." in page


def test_only_the_members_own_assignment_waits_for_another_try(team, geo):
    homes = team["homes"]
    other = make_user("member2.tanha", Role.MEMBER, geo["tanha"])
    assign_households(team["leader"], other.id, [homes[0].id], due_on=DAY, now=NOW)
    db.session.commit()
    record_visit(team["member"], _nobody_home(homes[0]), now=NOW)  # someone else knocked
    db.session.commit()
    kept = _open(homes[0].id)
    assert kept.member_id == other.id and kept.tried_at is None
