"""What each role is offered in the interface: the menu, the start page and the role-dependent
buttons of the other pages. These pin the templates' behaviour role by role, whatever helper the
templates use to ask."""

import re
from datetime import date

import pytest

from outreach.extensions import db
from outreach.planning.services import CampaignInput, save_campaign
from outreach.sms.services import GuideInput, save_guide
from outreach.visits.services import record_visit
from tests.conftest import NOW, csrf_token, login, make_household, visit_payload

ROLES = ("admin", "staff", "leader", "member")

MENU = {
    "admin": [
        "/", "/campaigns", "/assign", "/requests", "/households", "/maps/", "/reports/", "/activity/", "/privacy",
        "/reports/imports", "/guides", "/sms", "/units", "/imports", "/admin/users", "/admin/audit", "/maps/boundaries",
        "/account/tokens",
    ],
    "staff": [
        "/", "/campaigns", "/maps/", "/reports/", "/activity/", "/privacy", "/guides", "/units", "/account/tokens",
    ],
    "leader": [
        "/", "/today", "/campaigns", "/assign", "/requests", "/desk", "/team", "/households", "/maps/", "/reports/",
        "/activity/", "/privacy", "/guides", "/sms", "/units", "/imports", "/account/tokens",
    ],
    "member": ["/", "/today", "/desk", "/households", "/maps/", "/activity/mine", "/guides", "/units"],
}  # fmt: skip

START_PAGE_BUTTONS = {
    "admin": ["/campaigns", "/households/new", "/households", "/units", "/imports"],
    "staff": ["/campaigns", "/units"],
    # A leader's today is their team's: a card of its own above these buttons (test_leaders_today_is_their_teams).
    "leader": ["/campaigns", "/households/new", "/households", "/units", "/imports"],
    "member": ["/today", "/households/new", "/households", "/units"],
}


def _links(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


def _main(html: str) -> str:
    return re.search(r"<main>(.*)</main>", html, re.S).group(1)


@pytest.mark.parametrize("role", ROLES)
def test_menu_and_start_page_offer_each_role_its_own_links(client, users, role):
    login(client, users[role].username)
    page = client.get("/").get_data(as_text=True)
    menu = re.search(r'<details class="menu">(.*?)</details>', page, re.S).group(1)
    assert _links(menu) == MENU[role]
    buttons = re.search(r'<section class="actions">(.*?)</section>', page, re.S).group(1)
    assert _links(buttons) == START_PAGE_BUTTONS[role]
    # The number of communes only where the user's area holds several.
    assert page.count('<div class="stat">') == (4 if role in ("admin", "staff") else 3)


@pytest.fixture
def world(users, geo):
    """A household that agreed to SMS, visited once by the member and once by the leader; a guide; a campaign."""
    household = make_household(users["leader"], geo["tanha_v1"], "Nguyễn Thị Hoà", phone="0912345678", consent_sms=True)
    by_member = visit_payload(household)
    by_leader = visit_payload(household, device_time="2026-11-26T10:30:00+07:00")
    record_visit(users["member"], by_member, now=NOW)
    record_visit(users["leader"], by_leader, now=NOW)
    # A guide of Tân Hà (its leader edits it) and one of the country (only administrators edit it).
    guide = save_guide(users["leader"], GuideInput("tanha1", "Cài VNeID", "1. Mở CH Play\n2. Tìm VNeID"), now=NOW)
    shipped = save_guide(None, GuideInput("vneid1", "Cài VNeID", "1. Mở CH Play\n2. Tìm VNeID"), now=NOW)
    villages = [geo["tanha_v1"].id, geo["tanha_v2"].id]
    data = CampaignInput("Mọi nhà trước Tết", date(2026, 11, 1), date(2026, 12, 31), villages, 100, 80)
    campaign = save_campaign(users["leader"], geo["tanha"], data, now=NOW)
    db.session.commit()
    return {
        "h": household.id,
        "by_member": by_member["client_id"],
        "by_leader": by_leader["client_id"],
        "guide": guide.id,
        "shipped": shipped.id,
        "campaign": campaign.id,
        "village": geo["tanha_v1"].id,
        "commune": geo["tanha"].id,
    }


def _gates(w: dict) -> list[tuple[str, str, set[str]]]:
    """(page, what its main part contains, the roles that see it)."""
    h, v, c = w["h"], w["village"], w["commune"]
    household, history = f"/households/{h}", f"/households/{h}/visits"
    return [
        (household, f'href="/record?h={h}"', {"leader", "member"}),
        (household, f'href="/households/{h}/sms"', {"leader", "member"}),
        (household, f'href="/households/{h}/edit"', {"admin", "leader", "member"}),
        (household, f'action="/households/{h}/consent/store_phone/withdraw"', {"admin", "leader", "member"}),
        (household, f'href="/households/{h}/export"', {"admin", "leader"}),
        (household, f'action="/households/{h}/erase"', {"admin", "leader"}),
        (history, f'href="/record?h={h}"', {"leader", "member"}),
        (history, f"corrects={w['by_member']}", {"leader", "member"}),
        (history, f"corrects={w['by_leader']}", {"leader"}),
        (history, f"/households/{h}/sms?visit=", {"leader", "member"}),
        (f"/units/{v}", f'href="/households?village={v}"', {"admin", "leader", "member"}),
        (f"/units/{v}", f'href="/households/new?village={v}"', {"admin", "leader", "member"}),
        (f"/units/{v}", f'href="/villages/{v}/edit"', {"admin", "leader"}),
        ("/households", 'href="/households/new"', {"admin", "leader", "member"}),
        ("/guides", 'href="/guides/new"', {"admin", "leader"}),
        ("/guides", 'href="/sms/bulk"', {"admin", "leader"}),
        ("/guides", 'href="/sms"', {"admin", "leader"}),
        ("/guides", f'href="/guides/{w["guide"]}/edit"', {"admin", "leader"}),
        ("/guides", f'href="/guides/{w["shipped"]}/edit"', {"admin"}),
        (f"/maps/units/{c}?measure=online_rate", f'href="/reports/units/{c}"', {"admin", "staff", "leader"}),
        (f"/reports/units/{c}", 'href="/reports/imports"', {"admin", "staff"}),
        ("/campaigns", '<p class="hint">', {"admin"}),  # where to create a campaign, for whoever has no form here
        (f"/campaigns/{w['campaign']}", f'href="/assign?commune={c}"', {"admin"}),
        (f"/campaigns/{w['campaign']}", 'href="/assign"', {"leader"}),
        (f"/assign?commune={c}", f'name="commune" value="{c}"', {"admin"}),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_role_dependent_buttons_on_each_page(client, users, world, role):
    login(client, users[role].username)
    pages: dict[str, str] = {}
    wrong = []
    for url, needle, allowed in _gates(world):
        if url not in pages:
            response = client.get(url)
            pages[url] = _main(response.get_data(as_text=True)) if response.status_code == 200 else ""
        if (needle in pages[url]) != (role in allowed):
            wrong.append((url, needle, "missing" if role in allowed else "shown"))
    assert wrong == []


def test_leaders_today_is_their_teams(client, users, geo):
    """A leader gets no walk list of their own: the start page shows what the team does today instead."""
    from outreach.clock import local_today, utcnow
    from outreach.planning.services import assign_households

    homes = [make_household(users["leader"], geo["tanha_v1"], f"Hộ {n}") for n in range(3)]
    now = utcnow()
    assign_households(users["leader"], users["member"].id, [homes[0].id, homes[1].id], due_on=local_today(), now=now)
    record_visit(users["member"], visit_payload(homes[0], device_time=now.isoformat()), now=now)
    later = local_today().isoformat()  # a follow-up due today, and nobody has the household
    record_visit(
        users["leader"],
        visit_payload(homes[2], outcome="follow_up", follow_up_on=later, device_time=now.isoformat()),
        now=now,
    )
    db.session.commit()
    login(client, "leader.tanha")
    page = client.get("/").get_data(as_text=True)
    day = re.search(r'<section class="card highlight" id="team-day".*?</section>', page, re.S).group(0)
    assert "Hôm nay" in day and "Member.Tanha" in day
    assert "1 hộ cần ghé, 1 hộ đã ghi hôm nay" in day  # one of two visited: one left
    assert 'href="/assign"' in day and 'href="/assign?which=follow_up_due"' in day
    assert 'href="/today"' not in re.search(r'<section class="actions">(.*?)</section>', page, re.S).group(1)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "member.tanha")
    assert 'id="team-day"' not in client.get("/").get_data(as_text=True)
