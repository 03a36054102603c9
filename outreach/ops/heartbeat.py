"""The scheduler's heartbeat and each job's last run, written by the active scheduler and read by
``/readyz`` and ``/metrics``."""

from datetime import datetime

import sqlalchemy as sa

from outreach.extensions import db
from outreach.ops.models import HEARTBEAT, SchedulerBeat


def _row(name: str, now: datetime) -> SchedulerBeat:
    row = db.session.get(SchedulerBeat, name)
    if row is None:
        row = SchedulerBeat(name=name, started_at=now, beat_at=now)
        db.session.add(row)
    return row


def record_heartbeat(holder: str, *, now: datetime) -> None:
    """The active scheduler is alive; a new holder (a takeover) restarts ``started_at``."""
    row = _row(HEARTBEAT, now)
    if row.holder != holder:
        row.holder, row.started_at = holder, now
    row.beat_at = now
    db.session.flush()


def record_job_run(name: str, holder: str, *, started: datetime, finished: datetime, ok: bool) -> None:
    """A job ran from ``started`` to ``finished``, and succeeded or not."""
    row = _row(name, started)
    row.holder, row.started_at, row.beat_at, row.ok = holder, started, finished, ok
    db.session.flush()


def heartbeat() -> SchedulerBeat | None:
    return db.session.get(SchedulerBeat, HEARTBEAT)


def job_runs() -> list[SchedulerBeat]:
    """The last run of every job that ran at least once, by name."""
    return list(
        db.session.scalars(sa.select(SchedulerBeat).where(SchedulerBeat.name != HEARTBEAT).order_by(SchedulerBeat.name))
    )
