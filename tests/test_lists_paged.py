"""Every list is paged: campaigns 20 a page, the audit log and the SMS outbox 100, agencies 50, the
statistics imports 50; the same pager (templates/_pager.html) under each, keeping the list's filter.
Today shows at most 300 stops and says how many more wait."""

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from outreach.audit.models import AuditEvent, ImportBatch
from outreach.extensions import db
from outreach.planning.models import Campaign
from outreach.planning.services import assign_households
from outreach.reports.models import Agency
from outreach.sms.models import SmsMessage
from tests.conftest import NOW, login, make_household


def _pager(page: str) -> list[str]:
    found = re.search(r'<nav class="pager">(.*?)</nav>', page, re.S)
    if found is None:
        return []
    return re.findall(r'href="([^"]+)"', found.group(1)) + re.findall(r"<span>(.*?)</span>", found.group(1))


def test_campaigns_come_20_a_page(client, users, geo):
    village = geo["tanha_v1"]
    for n in range(21):
        campaign = Campaign(
            commune_id=geo["tanha"].id, created_by_id=users["leader"].id, created_at=NOW, name=f"Chiến dịch {n:02d}",
            starts_on=date(2026, 1, 1) + timedelta(days=n), ends_on=date(2026, 12, 31),
        )  # fmt: skip
        campaign.villages = [village]
        db.session.add(campaign)
    db.session.commit()
    login(client, "staff.city")
    first = client.get("/campaigns").get_data(as_text=True)
    assert len(re.findall(r"<strong>Chiến dịch \d\d</strong>", first)) == 20
    assert "Chiến dịch 20" in first and "Chiến dịch 00" not in first  # newest first
    assert _pager(first) == ["/campaigns?page=2", "Trang 1/2"]
    second = client.get("/campaigns?page=2").get_data(as_text=True)
    assert re.findall(r"<strong>(Chiến dịch \d\d)</strong>", second) == ["Chiến dịch 00"]
    assert _pager(second) == ["/campaigns?page=1", "Trang 2/2"]
    past = client.get("/campaigns?page=9")
    assert past.status_code == 200
    assert re.findall(r"<strong>Chiến dịch \d\d</strong>", past.get_data(as_text=True)) == []
    assert _pager(past.get_data(as_text=True)) == ["/campaigns?page=8", "Trang 9/2"]


def test_the_audit_log_comes_100_a_page_and_keeps_its_filter(client, users):
    db.session.add_all(AuditEvent(action="consent.grant", actor_name="x", at=NOW) for _ in range(101))
    db.session.commit()
    login(client, "admin")
    page = client.get("/admin/audit?action=consent.").get_data(as_text=True)
    assert page.count("<li>\n    <strong>") == 100
    assert _pager(page) == ["/admin/audit?action=consent.&amp;page=2", "Trang 1/2"]
    last = client.get("/admin/audit?action=consent.&page=2").get_data(as_text=True)
    assert last.count("<li>\n    <strong>") == 1


def test_the_outbox_comes_100_a_page(client, users, geo):
    db.session.add_all(
        SmsMessage(
            commune_id=geo["tanha"].id,
            to_phone="+84912345678",
            body=f"Tin {n}",
            encoding="GSM-7",
            token=f"tok{n:05d}",
            due_at=NOW,
            status="sent",
        )  # fmt: skip
        for n in range(101)
    )
    db.session.commit()
    login(client, "leader.tanha")
    page = client.get("/sms?status=sent").get_data(as_text=True)
    messages = page.split('id="messages"')[1].split("</ul>")[0]
    assert messages.count("<li") == 100
    assert _pager(page) == ["/sms?status=sent&amp;page=2", "Trang 1/2"]
    second = client.get("/sms?status=sent&page=2").get_data(as_text=True)
    assert second.split('id="messages"')[1].split("</ul>")[0].count("<li") == 1


def test_agencies_come_50_a_page(client, users, geo):
    db.session.add_all(
        Agency(
            province_id=geo["province"].id,
            name=f"Sở {n:02d}",
            name_key=f"so {n:02d}",
            kind="department",
            status="not_a_unit",
        )  # fmt: skip
        for n in range(51)
    )
    db.session.commit()
    login(client, "admin")
    page = client.get("/reports/agencies").get_data(as_text=True)
    assert len(re.findall(r'id="agency-\d+"', page)) == 50
    assert _pager(page) == ["/reports/agencies?status=&amp;page=2", "Trang 1/2"]
    assert len(re.findall(r'id="agency-\d+"', client.get("/reports/agencies?page=2").get_data(as_text=True))) == 1


def test_statistics_imports_come_50_a_page(client, users, geo):
    db.session.add_all(
        ImportBatch(
            kind="stats",
            filename=f"f{n}.csv",
            sha256=f"{n:064d}",
            rows=1,
            unit_id=geo["province"].id,
            created_at=NOW,
            detail={},
        )  # fmt: skip
        for n in range(51)
    )
    db.session.commit()
    login(client, "admin")
    page = client.get("/reports/imports").get_data(as_text=True)
    assert len(re.findall(r'id="batch-\d+"', page)) == 50
    assert _pager(page) == ["/reports/imports?page=2", "Trang 1/2"]


@pytest.fixture
def long_day(users, geo):
    """302 households assigned to the member for today."""
    homes = [make_household(users["leader"], geo["tanha_v1"], f"Hộ {n:03d}") for n in range(302)]
    assign_households(users["leader"], users["member"].id, [h.id for h in homes], due_on=NOW.date(), now=NOW)
    db.session.commit()


def test_today_shows_300_stops_and_says_how_many_more(client, users, long_day):
    login(client, "member.tanha")
    page = client.get("/today").get_data(as_text=True)
    assert page.count("data-household=") == 300
    assert re.search(r'id="more-stops">2 hộ nữa', page)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SmsMessage)) == 0  # nothing else happened
