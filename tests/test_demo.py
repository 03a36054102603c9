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
    # Not twice into the same database; --if-empty makes `make run` safe to repeat.
    assert runner.invoke(args=["demo", "seed"]).exit_code == 2
    assert runner.invoke(args=["demo", "seed", "--if-empty"]).exit_code == 0
