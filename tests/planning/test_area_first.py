"""Area first: progress, coverage, the household map, /assign and the impact report count only the
visits of their own area's households. The figures are the same as before the rewrite (the numbers
below were checked against the earlier queries) with households and visits inside and outside the area."""

from datetime import date

import pytest
import sqlalchemy as sa

from outreach.extensions import db
from outreach.geo.services import erase_household
from outreach.maps.services import household_points
from outreach.planning.progress import progress_by_member, progress_by_village
from outreach.planning.services import CampaignInput, pick_households, save_campaign
from outreach.reports.services import Period, impact
from outreach.visits.coverage import coverage
from outreach.visits.models import VisitRecord
from outreach.visits.services import record_visit
from tests.conftest import NOW, make_household, make_user, visit_payload

DAY = date(2026, 11, 26)


@pytest.fixture
def area(users, geo):
    """Tân Hà: 5 households in Phú Bình, 2 in Tân Hà village (one erased later); Minh Khương and Đội
    Cấn (outside Tân Hà) with visits of their own that must never count in Tân Hà's figures."""
    leader, member = users["leader"], users["member"]
    phu_binh = [make_household(leader, geo["tanha_v1"], f"Hộ {n}", lat=21.83, lon=105.19) for n in range(5)]
    tan_ha = [make_household(leader, geo["tanha_v2"], f"Hộ TH {n}", lat=21.84, lon=105.20) for n in range(2)]
    other_leader = users["leader_other"]
    other_member = make_user("member.minhkhuong", "member", geo["minhkhuong_v1"])
    outside = [make_household(other_leader, geo["minhkhuong_v1"], f"Hộ MK {n}", lat=22.0, lon=105.0) for n in range(4)]
    doican = make_household(users["admin"], geo["doican_v1"], "Hộ ĐC", lat=21.80, lon=105.22)
    data = CampaignInput("Mọi nhà", date(2026, 11, 1), date(2026, 12, 31), [geo["tanha_v1"].id, geo["tanha_v2"].id])
    campaign = save_campaign(leader, geo["tanha"], data, now=NOW)
    first = visit_payload(phu_binh[0], vneid_level1=False)
    record_visit(member, first, now=NOW)
    record_visit(member, visit_payload(phu_binh[0], supersedes=first["client_id"], people_helped=3), now=NOW)
    record_visit(member, visit_payload(phu_binh[1], outcome="nobody_home"), now=NOW)
    record_visit(
        member,
        visit_payload(phu_binh[2], outcome="follow_up", follow_up_on="2026-11-26", vneid_level1=False),
        now=NOW,
    )
    record_visit(member, visit_payload(phu_binh[3], outcome="nobody_home"), now=NOW)
    record_visit(member, visit_payload(phu_binh[3], device_time="2026-11-26T15:00:00+07:00", people_helped=1), now=NOW)
    record_visit(member, visit_payload(phu_binh[4], device_time="2026-10-01T09:00:00+07:00"), now=NOW)  # before
    record_visit(leader, visit_payload(tan_ha[0], procedure_submitted=True, procedure="Đăng ký khai sinh"), now=NOW)
    record_visit(leader, visit_payload(tan_ha[1]), now=NOW)
    for n, household in enumerate(outside):
        record_visit(
            other_member,
            visit_payload(
                household,
                device_time="2026-11-20T09:00:00+07:00",
                outcome="follow_up",
                follow_up_on="2026-11-22",
                vneid_level1=n % 2 == 0,
            ),
            now=NOW,
        )
    record_visit(users["admin"], visit_payload(doican, people_helped=5), now=NOW)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(VisitRecord.id))) == 14  # every visit above was stored
    erase_household(leader, tan_ha[1].id, now=NOW)
    db.session.commit()
    return {"campaign": campaign, "phu_binh": phu_binh, "tan_ha": tan_ha, "outside": outside}


def test_progress_counts_the_campaigns_households_only(area):
    rows = {r.label: r for r in progress_by_village(area["campaign"], today=DAY)}
    phu_binh, tan_ha = rows["Thôn Phú Bình"], rows["Thôn Tân Hà"]
    figures = lambda r: (  # noqa: E731
        r.households,
        r.visited,
        r.helped,
        r.people_helped,
        r.activated,
        r.submitted,
        r.follow_ups_due,
        r.nobody_home,
    )
    assert figures(phu_binh) == (5, 3, 2, 6, 2, 0, 1, 1)
    assert figures(tan_ha) == (1, 1, 1, 2, 1, 1, 0, 0)
    members = progress_by_member(area["campaign"], today=DAY)
    assert [(m.label, m.visited, m.nobody_home) for m in members] == [("Leader.Tanha", 1, 0), ("Member.Tanha", 3, 1)]


def test_coverage_counts_the_units_own_households(users, geo, area):
    villages = {c.name: c for c in coverage(users["admin"], geo["tanha"], "village")}
    phu_binh = villages["Thôn Phú Bình"]
    assert (phu_binh.households, phu_binh.visited, phu_binh.activated, phu_binh.nobody_home) == (5, 4, 3, 1)
    assert phu_binh.people_helped == 8
    assert (villages["Thôn Tân Hà"].households, villages["Thôn Tân Hà"].visited) == (1, 1)
    communes = {c.name: c for c in coverage(users["admin"], geo["province"], "commune")}
    assert [(n, c.households, c.visited, c.activated) for n, c in sorted(communes.items())] == [
        ("Phường Tân Hà", 6, 5, 4, ),
        ("Phường Đội Cấn", 1, 1, 1),
        ("Xã Minh Khương", 4, 4, 2),
    ]  # fmt: skip
    districts = {c.name: (c.households, c.visited) for c in coverage(users["admin"], geo["province"], "district")}
    assert districts == {"Thành phố Tuyên Quang": (7, 6), "Huyện Hàm Yên": (4, 4)}


def test_the_household_map_and_assign_read_the_areas_latest_visits(users, geo, area):
    points = {p.name: p.status for p in household_points(users["leader"], geo["tanha"], today=DAY)}
    assert points == {
        "Hộ 0": "helped", "Hộ 1": "nobody_home", "Hộ 2": "follow_up", "Hộ 3": "helped", "Hộ 4": "helped",
        "Hộ TH 0": "helped",
    }  # fmt: skip
    leader = users["leader"]

    def picked(which, **kw):
        return sorted(
            h.head_name for h, _a, _v in pick_households(leader, village_id=None, which=which, today=DAY, **kw)
        )

    assert picked("not_visited") == ["Hộ 1"]
    assert picked("no_account") == ["Hộ 1", "Hộ 2"]
    assert picked("follow_up_due") == ["Hộ 2"]
    assert picked("all", unit=geo["tanha"]) == ["Hộ 0", "Hộ 1", "Hộ 2", "Hộ 3", "Hộ 4", "Hộ TH 0"]
    # An administrator planning Tân Hà sees Tân Hà's households, not the country's.
    admin_picked = pick_households(users["admin"], village_id=None, which="follow_up_due", today=DAY, unit=geo["tanha"])
    assert [h.head_name for h, _a, _v in admin_picked] == ["Hộ 2"]


def test_the_impact_report_counts_people_helped_per_unit(users, geo, area):
    report = impact(users["admin"], geo["province"], Period(date(2026, 1, 1), date(2026, 12, 31)))
    helped = {r.unit.name: (r.households, r.visited, r.people_helped) for r in report.rows}
    assert helped == {"Phường Tân Hà": (6, 5, 10), "Phường Đội Cấn": (1, 1, 5), "Xã Minh Khương": (4, 4, 8)}
