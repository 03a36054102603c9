"""The one scheduler process: ``flask --app outreach scheduler``. Never started inside web workers
(each would run every job). A second instance refuses to start: a PostgreSQL advisory lock held by
the process's own connection, or a file lock next to the SQLite database.

Jobs: the SMS outbox every few seconds, follow-up reminders each morning, leaders' daily summary."""

import contextlib
import fcntl
import logging
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import sqlalchemy as sa
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask, current_app
from flask.cli import with_appcontext

from outreach.extensions import db
from outreach.sms import services
from outreach.sms.dispatcher import dispatch_once
from outreach.sms.gateway import gateway_from_config
from outreach.types import utcnow

logger = logging.getLogger("outreach.scheduler")
LOCK_KEY = 0x0_5C4ED  # the advisory lock's number: one scheduler per database


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


def local_today(app: Flask):
    return utcnow().astimezone(ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def build_scheduler(app: Flask) -> BlockingScheduler:
    """The jobs, with fixed ids (a restart replaces, never duplicates), coalesced misfires and an
    explicit time zone."""
    zone = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
    gateway = gateway_from_config(app.config)
    scheduler = BlockingScheduler(timezone=zone, job_defaults={"coalesce": True, "max_instances": 1})
    scheduler.add_job(
        _job(app, lambda: dispatch_once(gateway)), "interval", seconds=app.config["SMS_DISPATCH_SECONDS"],
        id="sms-dispatch", replace_existing=True, coalesce=True, misfire_grace_time=30,
    )  # fmt: skip
    scheduler.add_job(
        _job(app, lambda: services.follow_up_reminders(today=local_today(app), now=utcnow())), "cron",
        hour=app.config["FOLLOW_UP_REMINDER_HOUR"], minute=0, id="follow-up-reminders",
        replace_existing=True, coalesce=True, misfire_grace_time=6 * 3600,
    )  # fmt: skip
    scheduler.add_job(
        _job(app, lambda: services.daily_summaries(day=local_today(app) - timedelta(days=1), now=utcnow())), "cron",
        hour=app.config["DAILY_SUMMARY_HOUR"], minute=0, id="leader-daily-summary",
        replace_existing=True, coalesce=True, misfire_grace_time=12 * 3600,
    )  # fmt: skip
    return scheduler


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the scheduler (SMS outbox, follow-up reminders, daily summaries) until stopped."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # Flask types the proxy as the app
    try:
        with single_instance(app):
            scheduler = build_scheduler(app)
            click.echo(f"Scheduler running (jobs: {', '.join(j.id for j in scheduler.get_jobs())}); Ctrl+C stops it.")
            # Today's reminders and yesterday's summary, in case the process was down at their hour.
            _job(app, lambda: services.follow_up_reminders(today=local_today(app), now=utcnow()))()
            _job(app, lambda: services.daily_summaries(day=local_today(app) - timedelta(days=1), now=utcnow()))()
            with contextlib.suppress(KeyboardInterrupt, SystemExit):
                scheduler.start()
    except AlreadyRunning as exc:
        click.echo(f"Scheduler not started: {exc}.", err=True)
        sys.exit(1)
