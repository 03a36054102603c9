import sqlalchemy as sa

from outreach.auth.models import User
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Household, Level


def test_demo_seeds_the_2025_structure_by_default(runner):
    from datetime import date
    from pathlib import Path

    from outreach.geo.models import REFORM_DATE, FormerUnit
    from outreach.geo.services import commune_area
    from outreach.reports import services
    from outreach.reports.models import Agency, AgencyStatus, SubmissionStat

    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert "124 communes and wards, no districts" in result.output
    assert set(db.session.scalars(sa.select(AdminUnit.dataset))) == {"2025"}
    assert db.session.scalar(sa.select(sa.func.count()).where(AdminUnit.level == Level.DISTRICT)) == 0
    roles = set(db.session.scalars(sa.select(User.role)))
    assert roles == {"admin", "staff", "leader", "member"}
    # Staff below the province sit in a commune: there are no districts to sit in.
    staff_levels = {u.scope_unit.level for u in db.session.scalars(sa.select(User).where(User.role == "staff"))}
    assert staff_levels == {Level.PROVINCE, Level.COMMUNE}
    villages = db.session.scalars(sa.select(AdminUnit).where(AdminUnit.level == Level.VILLAGE)).all()
    assert len(villages) > 124 * 5
    areas = {}
    outside = [
        v.name
        for v in villages
        if not areas.setdefault(v.parent_id, commune_area(v.parent_unit)).contains(v.lat, v.lon)
    ]
    assert outside == [] and all(area.known for area in areas.values())
    # README's logins are the demo's.
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for username in db.session.scalars(sa.select(User.username)):
        assert f"`{username}`" in readme, username
    # One agency waits to be matched, named as README names it.
    waiting = db.session.scalars(sa.select(Agency.name).where(Agency.status == AgencyStatus.UNRESOLVED)).all()
    assert waiting == ["UBND xa Tan Thanh"] and f'"{waiting[0]}"' in readme
    # Statistics before the reform name the former communes and count in today's: one series per commune,
    # every month from the first to the last. Phường Minh Xuân, by hand: its months before 1/7/2025 are
    # the sums of the six former committees that went into it.
    admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
    minh_xuan = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.name == "Phường Minh Xuân"))
    period = services.report_period(admin, minh_xuan)
    points = services.trend(admin, minh_xuan, period)
    months = [p.start for p in points]
    first, last = db.session.execute(
        sa.select(sa.func.min(SubmissionStat.period_start), sa.func.max(SubmissionStat.period_start))
    ).one()
    assert months[0] == first < REFORM_DATE <= months[-1] == last
    assert all((b.year - a.year) * 12 + b.month - a.month == 1 for a, b in zip(months, months[1:], strict=False))
    former = {
        f.id: f.name
        for f in db.session.scalars(sa.select(FormerUnit))
        if f.main_successor is not None and f.main_successor.id == minh_xuan.id
    }
    assert sorted(former.values()) == sorted(
        ["Phường Minh Xuân", "Phường Phan Thiết", "Phường Tân Quang", "Phường Ỷ La", "Phường Tân Hà", "Xã Trung Môn"]
    )
    rows = db.session.execute(
        sa.select(SubmissionStat.period_start, SubmissionStat.total, SubmissionStat.online, Agency.former_unit_id)
        .join(Agency, Agency.id == SubmissionStat.agency_id)
        .where(Agency.unit_id == minh_xuan.id, SubmissionStat.replaced_by_batch_id.is_(None))
    ).all()
    march = date(first.year, 3, 1)
    by_hand = [r for r in rows if r.period_start == march]
    assert {r.former_unit_id for r in by_hand} == set(former)  # six committees reported that month
    point = next(p for p in points if p.start == march)
    assert (point.figures.total, point.figures.online) == (
        sum(r.total for r in by_hand),
        sum(r.online for r in by_hand),
    )
    after = [r for r in rows if r.period_start >= REFORM_DATE]
    assert after and {r.former_unit_id for r in after} == {None}  # since the reform, the ward itself
    # A merged ward's size carries over the reform: the months either side are of the same order.
    june, july = (next(p for p in points if p.start == m) for m in (date(2025, 6, 1), date(2025, 7, 1)))
    assert 0.6 < july.figures.total / june.figures.total < 1.6
    # Last month's activity reports went from the communes straight to the province.
    from outreach.activity.models import ActivityReport
    from outreach.activity.services import reviewer_unit

    reports = db.session.scalars(sa.select(ActivityReport)).all()
    assert sorted(r.status for r in reports) == ["approved", "returned"] + ["submitted"] * 4
    assert {reviewer_unit(r.unit).level for r in reports} == {Level.PROVINCE}
    returned = next(r for r in reports if r.status == "returned")
    assert returned.unit.name == "Xã Bạch Xa"  # as README says
    # Not twice into the same database; --if-empty makes `make run` safe to repeat.
    assert runner.invoke(args=["demo", "seed"]).exit_code == 2
    assert runner.invoke(args=["demo", "seed", "--if-empty"]).exit_code == 0


def test_demo_seed_keeps_the_legacy_structure_on_request(runner):
    result = runner.invoke(args=["demo", "seed", "--dataset", "legacy"])
    assert result.exit_code == 0, result.output
    assert "7 districts, 137 communes" in result.output
    assert "lanhdao.tanha" in result.output and "demo-2026" in result.output
    assert set(db.session.scalars(sa.select(AdminUnit.dataset))) == {"legacy"}
    roles = set(db.session.scalars(sa.select(User.role)))
    assert roles == {"admin", "staff", "leader", "member"}
    villages = db.session.scalars(sa.select(AdminUnit).where(AdminUnit.level == Level.VILLAGE)).all()
    assert len(villages) > 137 * 5
    outside = [v for v in villages if not v.parent.contains(v.lat, v.lon)]
    assert outside == []
    first = db.session.scalar(sa.select(Household).order_by(Household.id).limit(1))
    assert first.head_name and first.village.level == Level.VILLAGE
    from outreach.reports.models import Agency, AgencyStatus

    waiting = db.session.scalars(sa.select(Agency.name).where(Agency.status == AgencyStatus.UNRESOLVED)).all()
    assert waiting == ["UBND xa Tan Thanh"]
    # Personal data: one request answered, one past its deadline on the commune leader's start page.
    from outreach.privacy.models import RightsCase

    assert sorted(db.session.scalars(sa.select(RightsCase.status))) == ["done", "open"]


def test_the_demo_tells_its_story_relative_to_the_day_it_is_seeded(app):
    """Seeded far from the real date, every date in the demo follows the ``now`` it was given."""
    from datetime import UTC, date, datetime

    from outreach.demo.seed import seed_demo
    from outreach.planning.models import Assignment, Campaign
    from outreach.reports.models import SubmissionStat
    from outreach.visits.models import VisitRecord

    now = datetime(2031, 3, 15, 2, 30, tzinfo=UTC)  # 09:30 in Vietnam
    seed_demo(now=now)
    db.session.flush()
    names = set(db.session.scalars(sa.select(Campaign.name)))
    assert "Gõ cửa từng nhà – Quý I/2031" in names
    assert "Chiến dịch 90 ngày – Xuân 2030" in names
    due = set(db.session.scalars(sa.select(Assignment.due_on)))
    assert due == {date(2031, 3, 15), date(2031, 3, 16)}  # today's walk lists, and tomorrow's
    latest_visit = db.session.scalar(sa.select(sa.func.max(VisitRecord.device_time)))
    assert latest_visit <= now
    first, last = db.session.execute(
        sa.select(sa.func.min(SubmissionStat.period_start), sa.func.max(SubmissionStat.period_start))
    ).one()
    assert (first, last) == (date(2028, 1, 1), date(2031, 2, 1))  # to last month
