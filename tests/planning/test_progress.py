from datetime import date

import pytest

from outreach.extensions import db
from outreach.planning.progress import progress_by_member, progress_by_village, total
from outreach.planning.services import CampaignInput, save_campaign
from outreach.visits.services import record_visit
from tests.conftest import NOW, csrf_token, login, make_household, visit_payload

DAY = date(2026, 11, 26)


@pytest.fixture
def campaign(users, geo):
    villages = [geo["tanha_v1"].id, geo["tanha_v2"].id]
    data = CampaignInput("Mọi nhà trước Tết", date(2026, 11, 1), date(2026, 12, 31), villages, 100, 80)
    campaign = save_campaign(users["leader"], geo["tanha"], data, now=NOW)
    db.session.commit()
    return campaign


def test_progress_counts_households_and_corrections_replace(users, geo, campaign):
    v1 = [make_household(users["leader"], geo["tanha_v1"], f"Hộ {n}") for n in range(4)]
    make_household(users["leader"], geo["tanha_v2"], "Hộ thôn 2")
    member = users["member"]
    first = visit_payload(v1[0], vneid_level1=False, procedure_submitted=True, procedure="Đăng ký khai sinh")
    record_visit(member, first, now=NOW)
    record_visit(
        member,
        visit_payload(v1[0], supersedes=first["client_id"], procedure_submitted=True, procedure="Đăng ký khai sinh"),
        now=NOW,
    )
    record_visit(
        member,
        visit_payload(
            v1[1],
            outcome="follow_up",
            follow_up_on="2026-11-26",
            vneid_level1=False,
            people_helped=0,
            vneid_installed=False,
        ),
        now=NOW,
    )
    record_visit(member, visit_payload(v1[1], device_time="2026-10-01T09:00:00+07:00"), now=NOW)  # before the campaign
    db.session.commit()

    rows = {r.label: r for r in progress_by_village(campaign, today=DAY)}
    phu_binh = rows["Thôn Phú Bình"]
    assert (phu_binh.households, phu_binh.visited, phu_binh.helped, phu_binh.activated, phu_binh.submitted) == (
        4,
        2,
        1,
        1,
        1,
    )
    assert phu_binh.follow_ups_due == 1
    assert phu_binh.pct(phu_binh.visited) == 50.0
    assert rows["Thôn Tân Hà"].visited == 0 and rows["Thôn Tân Hà"].households == 1
    all_rows = total(list(rows.values()))
    assert (all_rows.households, all_rows.visited, all_rows.people_helped) == (5, 2, 2)
    members = progress_by_member(campaign, today=DAY)
    assert [(m.label, m.visited, m.activated) for m in members] == [("Member.Tanha", 2, 1)]


def test_progress_page_per_role(client, users, geo, campaign):
    login(client, "leader.tanha")
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "Mọi nhà trước Tết" in page and "Thôn Phú Bình" in page
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "staff.city")
    assert client.get(f"/campaigns/{campaign.id}").status_code == 200  # staff read their subtree
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "leader.minhkhuong")
    assert client.get(f"/campaigns/{campaign.id}").status_code == 404


def test_campaign_form_refuses_another_communes_village(client, users, geo):
    login(client, "leader.tanha")
    response = client.post(
        "/campaigns",
        data={
            "csrf_token": csrf_token(client, "/campaigns"),
            "name": "X",
            "starts_on": "2026-12-01",
            "ends_on": "2026-12-31",
            "village_ids": [geo["minhkhuong_v1"].id],
            "goal_visited_pct": 100,
            "goal_activated_pct": 80,
        },
    )
    assert response.status_code == 200
    created = client.post(
        "/campaigns",
        data={
            "csrf_token": csrf_token(client, "/campaigns"),
            "name": "Tháng 12",
            "starts_on": "2026-12-01",
            "ends_on": "2026-12-31",
            "village_ids": [geo["tanha_v1"].id],
            "goal_visited_pct": 100,
            "goal_activated_pct": 80,
        },
    )
    assert created.status_code == 302
