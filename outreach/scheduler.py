"""The one scheduler process: ``flask --app outreach scheduler``. Never started inside web workers
(each would run every job). A second instance refuses to start: a PostgreSQL advisory lock held by
the process's own connection, or a file lock next to the SQLite database.

Jobs: the SMS outbox every few seconds, follow-up reminders each morning at FOLLOW_UP_REMINDER_HOUR
(a run missed while the process was down is made up only the same morning), leaders' daily summary,
and reminders of the monthly activity reports from ACTIVITY_REMINDER_DAY (once per person and month)."""

import contextlib
import fcntl
import logging
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import click
import sqlalchemy as sa
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask, current_app
from flask.cli import with_appcontext

from outreach.activity.reminders import send_reminders
from outreach.clock import local_today, local_zone, utcnow
from outreach.extensions import db
from outreach.sms import services
from outreach.sms.dispatcher import dispatch_once
from outreach.sms.gateway import gateway_from_config

logger = logging.getLogger("outreach.scheduler")
LOCK_KEY = 0x0_5C4ED  # the advisory lock's number: one scheduler per database
# How long after FOLLOW_UP_REMINDER_HOUR the morning's reminders may still be made up (a late start,
# a stalled process): 08:00 to 12:00 by default. Later, they wait for the next morning's run.
REMINDER_CATCH_UP = timedelta(hours=4)


class AlreadyRunning(RuntimeError):
    pass


@contextlib.contextmanager
def single_instance(app: Flask) -> Iterator[None]:
    """Hold the database's scheduler lock while the block runs; ``AlreadyRunning`` if another has it."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            if not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar():
                raise AlreadyRunning("another scheduler holds the PostgreSQL advisory lock")
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
                conn.commit()
        return
    database = engine.url.database
    path = (
        Path(database + ".scheduler.lock")
        if database and database != ":memory:"
        else Path(app.instance_path) / "scheduler.lock"
    )
    with path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise AlreadyRunning(f"another scheduler holds {path}") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _job(app: Flask, work):
    def run():
        with app.app_context():
            try:
                work()
                db.session.commit()
            except Exception:
                db.session.rollback()
                logger.exception("job failed")
            finally:
                db.session.remove()

    return run


def follow_up_reminders() -> None:
    now = utcnow()
    services.follow_up_reminders(today=local_today(now), now=now)


def daily_summary() -> None:
    now = utcnow()
    services.daily_summaries(day=local_today(now) - timedelta(days=1), now=now)


def activity_reminders() -> None:
    now = utcnow()
    send_reminders(today=local_today(now), now=now)


def reminders_may_catch_up(now: datetime) -> bool:
    """Whether the morning's reminders may still go out at ``now``: from FOLLOW_UP_REMINDER_HOUR
    (local) for ``REMINDER_CATCH_UP``, never at another hour of the day."""
    local = now.astimezone(local_zone())
    due = local.replace(hour=current_app.config["FOLLOW_UP_REMINDER_HOUR"], minute=0, second=0, microsecond=0)
    return due <= local < due + REMINDER_CATCH_UP


def catch_up(app: Flask, *, now: datetime) -> None:
    """What a scheduler starting at ``now`` makes up for the time it was down: yesterday's summary,
    and today's reminders only while it is still their morning (started at 22:00, it sends none:
    the next morning's run takes them, a day late and worded so)."""
    _job(app, lambda: services.daily_summaries(day=local_today(now) - timedelta(days=1), now=now))()
    # Report reminders go once per person and month: a run at start adds only those still missing
    # (its SMS wait for the end of the quiet hours like any other).
    _job(app, lambda: send_reminders(today=local_today(now), now=now))()
    if reminders_may_catch_up(now):
        _job(app, lambda: services.follow_up_reminders(today=local_today(now), now=now))()


def build_scheduler(app: Flask) -> BlockingScheduler:
    """The jobs, with fixed ids (a restart replaces, never duplicates), coalesced misfires and an
    explicit time zone."""
    gateway = gateway_from_config(app.config)
    scheduler = BlockingScheduler(timezone=local_zone(), job_defaults={"coalesce": True, "max_instances": 1})
    scheduler.add_job(
        _job(app, lambda: dispatch_once(gateway)), "interval", seconds=app.config["SMS_DISPATCH_SECONDS"],
        id="sms-dispatch", replace_existing=True, coalesce=True, misfire_grace_time=30,
    )  # fmt: skip
    scheduler.add_job(
        _job(app, follow_up_reminders), "cron", hour=app.config["FOLLOW_UP_REMINDER_HOUR"], minute=0,
        id="follow-up-reminders", replace_existing=True, coalesce=True,
        misfire_grace_time=int(REMINDER_CATCH_UP.total_seconds()),
    )  # fmt: skip
    scheduler.add_job(
        _job(app, daily_summary), "cron", hour=app.config["DAILY_SUMMARY_HOUR"], minute=0,
        id="leader-daily-summary", replace_existing=True, coalesce=True, misfire_grace_time=12 * 3600,
    )  # fmt: skip
    scheduler.add_job(
        _job(app, activity_reminders), "cron", hour=app.config["ACTIVITY_REMINDER_HOUR"], minute=0,
        id="activity-report-reminders", replace_existing=True, coalesce=True, misfire_grace_time=12 * 3600,
    )  # fmt: skip
    return scheduler


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the scheduler (SMS outbox, follow-up reminders, daily summaries, report reminders) until stopped."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # Flask types the proxy as the app
    try:
        with single_instance(app):
            scheduler = build_scheduler(app)
            click.echo(f"Scheduler running (jobs: {', '.join(j.id for j in scheduler.get_jobs())}); Ctrl+C stops it.")
            catch_up(app, now=utcnow())  # in case the process was down at a job's hour
            with contextlib.suppress(KeyboardInterrupt, SystemExit):
                scheduler.start()
    except AlreadyRunning as exc:
        click.echo(f"Scheduler not started: {exc}.", err=True)
        sys.exit(1)
