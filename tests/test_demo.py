import sqlalchemy as sa

from outreach.auth.models import User
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Household, Level


def test_demo_seed_builds_tuyen_quang_and_is_deterministic(runner):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert "7 districts, 137 communes" in result.output
    assert "lanhdao.tanha" in result.output and "demo-2026" in result.output
    roles = set(db.session.scalars(sa.select(User.role)))
    assert roles == {"admin", "staff", "leader", "member"}
    villages = db.session.scalars(sa.select(AdminUnit).where(AdminUnit.level == Level.VILLAGE)).all()
    assert len(villages) > 137 * 5
    outside = [v for v in villages if not v.parent.contains(v.lat, v.lon)]
    assert outside == []
    first = db.session.scalar(sa.select(Household).order_by(Household.id).limit(1))
    assert first.head_name and first.village.level == Level.VILLAGE
    # What README promises: one agency waiting to be matched, named as README names it.
    from pathlib import Path

    from outreach.reports.models import Agency, AgencyStatus

    waiting = db.session.scalars(sa.select(Agency.name).where(Agency.status == AgencyStatus.UNRESOLVED)).all()
    assert waiting == ["UBND xa Tan Thanh"]
    assert f'"{waiting[0]}"' in (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    # Personal data: one request answered, one past its deadline on the commune leader's start page.
    from outreach.privacy.models import RightsCase

    assert sorted(db.session.scalars(sa.select(RightsCase.status))) == ["done", "open"]
    # Not twice into the same database; --if-empty makes `make run` safe to repeat.
    assert runner.invoke(args=["demo", "seed"]).exit_code == 2
    assert runner.invoke(args=["demo", "seed", "--if-empty"]).exit_code == 0


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
