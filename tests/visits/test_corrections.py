"""A correction changes what was recorded, not when the visit happened: the visit keeps its time,
and the time of the correction is kept beside it."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from outreach.extensions import db
from outreach.planning.progress import progress_by_village
from outreach.planning.services import CampaignInput, save_campaign
from outreach.visits.models import VisitRecord, current_visits, latest_visits
from outreach.visits.services import record_visit, sync_visits
from tests.conftest import NOW, login, make_household, visit_payload

VISITED = "2026-11-20T09:30:00+07:00"
CORRECTED = "2026-11-26T08:15:00+07:00"


@pytest.fixture
def home(users, geo):
    return make_household(users["leader"], geo["tanha_v1"], "Nguyễn Văn An")


def _stored(client_id: str) -> VisitRecord:
    return db.session.scalar(sa.select(VisitRecord).where(VisitRecord.client_id == client_id))


def test_a_correction_keeps_the_visits_time_and_records_its_own(users, home):
    member = users["member"]
    original = visit_payload(home, device_time=VISITED, vneid_level1=False)
    record_visit(member, original, now=NOW)
    fix = visit_payload(home, device_time=CORRECTED, supersedes=original["client_id"])
    assert record_visit(member, fix, now=NOW).status == "created"
    db.session.commit()
    stored = _stored(fix["client_id"])
    assert stored.device_time == datetime.fromisoformat(VISITED)
    assert stored.corrected_at == datetime.fromisoformat(CORRECTED)
    assert _stored(original["client_id"]).corrected_at is None
    # A correction of the correction still belongs to the visit of the 20th.
    again = visit_payload(home, device_time="2026-11-27T10:00:00+07:00", supersedes=fix["client_id"])
    assert record_visit(users["leader"], again, now=NOW).status == "created"
    db.session.commit()
    latest = _stored(again["client_id"])
    assert latest.device_time == datetime.fromisoformat(VISITED)
    assert latest.corrected_at == datetime.fromisoformat("2026-11-27T10:00:00+07:00")


def test_corrections_in_a_batch_keep_the_time_too(users, home):
    original = visit_payload(home, device_time=VISITED)
    fix = visit_payload(home, device_time=CORRECTED, supersedes=original["client_id"])
    assert [r.status for r in sync_visits(users["member"], [original, fix], now=NOW)] == ["created", "created"]
    db.session.commit()
    assert _stored(fix["client_id"]).device_time == datetime.fromisoformat(VISITED)


def test_a_follow_up_date_is_checked_against_the_visit_not_the_correction(users, home):
    member = users["member"]
    original = visit_payload(
        home, device_time=VISITED, outcome="follow_up", follow_up_on="2026-11-22", vneid_level1=False
    )
    record_visit(member, original, now=NOW)
    notes = visit_payload(
        home, device_time=CORRECTED, outcome="follow_up", follow_up_on="2026-11-22", vneid_level1=False,
        notes="Hẹn lại: con trai ở nhà buổi chiều", supersedes=original["client_id"],
    )  # fmt: skip
    result = record_visit(member, notes, now=NOW)
    assert result.status == "created", result.errors
    before = visit_payload(
        home, device_time=CORRECTED, outcome="follow_up", follow_up_on="2026-11-19", vneid_level1=False,
        supersedes=notes["client_id"],
    )  # fmt: skip
    assert "follow_up_on" in record_visit(member, before, now=NOW).errors  # still before the visit


def test_correcting_an_old_visit_does_not_make_it_the_latest(users, home):
    member = users["member"]
    old = visit_payload(home, device_time=VISITED, outcome="follow_up", follow_up_on="2026-11-24", vneid_level1=False)
    newer = visit_payload(home, device_time="2026-11-25T09:00:00+07:00")
    record_visit(member, old, now=NOW)
    record_visit(member, newer, now=NOW)
    fix = visit_payload(
        home, outcome="follow_up", follow_up_on="2026-11-28", device_time=CORRECTED, supersedes=old["client_id"],
        vneid_level1=False,
    )  # fmt: skip
    assert record_visit(member, fix, now=NOW).status == "created"
    db.session.commit()
    latest = latest_visits()
    newest = db.session.scalar(sa.select(latest.c.visit_id).where(latest.c.household_id == home.id))
    assert newest == _stored(newer["client_id"]).id


def test_a_corrected_visit_counts_in_the_period_of_the_visit(users, geo, home):
    member = users["member"]
    later = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    original = visit_payload(home, device_time="2026-11-30T16:00:00+07:00")
    assert record_visit(member, original, now=later).status == "created"
    fix = visit_payload(home, device_time="2026-12-02T08:00:00+07:00", supersedes=original["client_id"])
    assert record_visit(member, fix, now=later).status == "created"
    data = CampaignInput("Tháng 11", date(2026, 11, 1), date(2026, 11, 30), [geo["tanha_v1"].id])
    november = save_campaign(users["leader"], geo["tanha"], data, now=NOW)
    db.session.commit()
    assert [v.client_id for v in db.session.scalars(current_visits())] == [fix["client_id"]]
    rows = {r.label: r for r in progress_by_village(november, today=date(2026, 12, 2))}
    assert rows["Thôn Phú Bình"].visited == 1


def test_the_history_shows_when_a_record_was_corrected(client, users, home):
    member = users["member"]
    original = visit_payload(home, device_time=VISITED)
    record_visit(member, original, now=NOW)
    record_visit(member, visit_payload(home, device_time=CORRECTED, supersedes=original["client_id"]), now=NOW)
    db.session.commit()
    login(client, "member.tanha")
    page = client.get(f"/households/{home.id}/visits").get_data(as_text=True)
    assert page.count("20/11/2026 09:30") == 2  # the visit and its correction: the same visit
    assert "26/11/2026 08:15" in page  # when it was corrected
