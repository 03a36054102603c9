"""Is this server ready to take requests? The database answers, its schema is the code's (every
migration applied), and a scheduler is alive somewhere (its heartbeat is fresh)."""

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import current_app

from outreach.extensions import db
from outreach.ops.heartbeat import heartbeat


@dataclass
class Readiness:
    checks: dict[str, str] = field(default_factory=dict)  # check -> "ok" or what is wrong
    reasons: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.reasons

    def fail(self, check: str, reason: str) -> None:
        self.checks[check] = "failed"
        self.reasons.append(reason)

    def as_json(self) -> dict:
        return {"status": "ready" if self.ready else "unavailable", "checks": self.checks, "reasons": self.reasons}


def migration_heads() -> set[str]:
    """The revisions the code expects the database at (read once from migrations/)."""
    heads = current_app.extensions.get("migration_heads")
    if heads is None:
        config = AlembicConfig()
        config.set_main_option("script_location", current_app.extensions["migrate"].directory)
        heads = set(ScriptDirectory.from_config(config).get_heads())
        current_app.extensions["migration_heads"] = heads
    return heads


def readiness(*, now: datetime) -> Readiness:
    """Each check that failed, with a reason a person can act on; no secrets, no data."""
    state = Readiness()
    try:
        db.session.execute(sa.text("SELECT 1"))
        state.checks["database"] = "ok"
    except sa.exc.SQLAlchemyError as exc:
        db.session.rollback()
        state.fail("database", f"database unreachable ({type(getattr(exc, 'orig', None) or exc).__name__})")
        return state

    expected = migration_heads()
    try:
        applied = set(db.session.scalars(sa.text("SELECT version_num FROM alembic_version")))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        applied = set()
    if applied == expected:
        state.checks["migrations"] = "ok"
    else:
        state.fail(
            "migrations",
            f"database schema at {', '.join(sorted(applied)) or 'nothing'}, code expects {', '.join(sorted(expected))}:"
            " run `flask --app outreach db upgrade`",
        )

    try:
        beat = heartbeat()
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        beat = None
    stale_after = current_app.config["SCHEDULER_STALE_S"]
    if beat is None:
        state.fail("scheduler", "no scheduler has ever run: start `flask --app outreach scheduler`")
    else:
        age = (now - beat.beat_at).total_seconds()
        if age > stale_after:
            state.fail("scheduler", f"the scheduler's last heartbeat is {age:.0f} s old (more than {stale_after} s)")
        else:
            state.checks["scheduler"] = "ok"
    return state
