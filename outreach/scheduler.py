"""The scheduler process: ``flask --app outreach scheduler``. Never started inside web workers (each
would run every job). It may run on every server: exactly one is active, the one holding the database's
scheduler lock (a PostgreSQL advisory lock held by the process's own connection, or a file lock next to
the SQLite database); the others wait on standby and ask for the lock every few seconds.

When the active one dies, even by ``kill -9``, its connection closes and the lock with it: a standby
takes over within ``SCHEDULER_STANDBY_POLL_S`` (a whole server lost: after PostgreSQL's keepalive gives
up on it, about 25 s, which this connection asks for). Nothing is sent twice: a message the dead one
was sending stays "sending" and goes to "needs checking" (outreach/sms/dispatcher.py). SIGTERM (systemd
stopping it) lets the running job finish, then releases the lock.

The active scheduler writes a heartbeat every ``SCHEDULER_HEARTBEAT_S`` and each job's last run
(outreach/ops/heartbeat.py), which ``/readyz`` and ``/metrics`` read.

Jobs: the SMS outbox every few seconds, follow-up reminders each morning at FOLLOW_UP_REMINDER_HOUR
(a run missed while no scheduler was active is made up only the same morning), leaders' daily summary,
reminders of the monthly activity reports from ACTIVITY_REMINDER_DAY (once per person and month), and
every hour the removal of expired pending uploads (statistics files waiting for their second step);
each night the retention of personal data (outreach/privacy/retention.py) at PRIVACY_RETENTION_HOUR."""

import contextlib
import fcntl
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import click
import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask, current_app
from flask.cli import with_appcontext

from outreach.activity.reminders import send_reminders
from outreach.clock import local_today, local_zone, utcnow
from outreach.extensions import db
from outreach.ops.heartbeat import record_heartbeat, record_job_run
from outreach.privacy.retention import run_retention
from outreach.reports.imports.pending import remove_expired
from outreach.sms import services
from outreach.sms.dispatcher import dispatch_once
from outreach.sms.gateway import gateway_from_config

logger = logging.getLogger("outreach.scheduler")
LOCK_KEY = 0x0_5C4ED  # the advisory lock's number: one active scheduler per database
# How soon PostgreSQL gives up on a silent client (a server that lost power): 10 s, then 3 probes 5 s apart.
KEEPALIVE = {"tcp_keepalives_idle": 10, "tcp_keepalives_interval": 5, "tcp_keepalives_count": 3}
# How long after FOLLOW_UP_REMINDER_HOUR the morning's reminders may still be made up (a late start,
# a stalled process): 08:00 to 12:00 by default. Later, they wait for the next morning's run.
REMINDER_CATCH_UP = timedelta(hours=4)


class AlreadyRunning(RuntimeError):
    pass


@dataclass
class Lock:
    """The scheduler lock this process holds; ``check()`` raises once it may have lost it."""

    check: Callable[[], None]


@contextlib.contextmanager
def single_instance(app: Flask) -> Iterator[Lock]:
    """Hold the database's scheduler lock while the block runs; ``AlreadyRunning`` if another has it."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            for name, value in KEEPALIVE.items():
                conn.execute(sa.text(f"SET {name} = {int(value)}"))
            conn.execute(sa.text("SET application_name = 'outreach-scheduler'"))
            if not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar():
                conn.rollback()
                raise AlreadyRunning("another scheduler holds the PostgreSQL advisory lock")
            conn.commit()

            def check() -> None:
                conn.execute(sa.text("SELECT 1"))  # the lock lives as long as this connection
                conn.commit()

            try:
                yield Lock(check)
            finally:
                with contextlib.suppress(sa.exc.SQLAlchemyError):
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
            yield Lock(lambda: None)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _job(app: Flask, work, name: str = "job", holder: str = ""):
    """A job run: the work commits or rolls back, then its run is recorded (when, and whether it succeeded)."""

    def run():
        with app.app_context():
            started, ok = utcnow(), False
            try:
                work()
                db.session.commit()
                ok = True
            except Exception:
                db.session.rollback()
                logger.exception("job failed", extra={"job": name})
            try:
                record_job_run(name, holder, started=started, finished=utcnow(), ok=ok)
                db.session.commit()
            except Exception:
                db.session.rollback()
                logger.exception("could not record the job's run", extra={"job": name})
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


def expire_uploads() -> None:
    remove_expired(now=utcnow())
def privacy_retention() -> None:
    run_retention(now=utcnow())


def reminders_may_catch_up(now: datetime) -> bool:
    """Whether the morning's reminders may still go out at ``now``: from FOLLOW_UP_REMINDER_HOUR
    (local) for ``REMINDER_CATCH_UP``, never at another hour of the day."""
    local = now.astimezone(local_zone())
    due = local.replace(hour=current_app.config["FOLLOW_UP_REMINDER_HOUR"], minute=0, second=0, microsecond=0)
    return due <= local < due + REMINDER_CATCH_UP


def catch_up(app: Flask, *, now: datetime, holder: str = "") -> None:
    """What a scheduler becoming active at ``now`` makes up for the time none was: yesterday's summary,
    and today's reminders only while it is still their morning (active from 22:00, it sends none:
    the next morning's run takes them, a day late and worded so)."""
    day = local_today(now)
    _job(app, lambda: services.daily_summaries(day=day - timedelta(days=1), now=now), "leader-daily-summary", holder)()
    # Report reminders go once per person and month: a run at start adds only those still missing
    # (its SMS wait for the end of the quiet hours like any other).
    _job(app, lambda: send_reminders(today=day, now=now), "activity-report-reminders", holder)()
    if reminders_may_catch_up(now):
        _job(app, lambda: services.follow_up_reminders(today=day, now=now), "follow-up-reminders", holder)()


def build_scheduler(app: Flask, holder: str = "") -> BackgroundScheduler:
    """The jobs, with fixed ids (a restart replaces, never duplicates), coalesced misfires and an
    explicit time zone. They run in the scheduler's threads; the caller's thread keeps the heartbeat."""
    gateway = gateway_from_config(app.config)
    scheduler = BackgroundScheduler(timezone=local_zone(), job_defaults={"coalesce": True, "max_instances": 1})
    scheduler.add_job(
        _job(app, lambda: dispatch_once(gateway), "sms-dispatch", holder), "interval",
        seconds=app.config["SMS_DISPATCH_SECONDS"], id="sms-dispatch", replace_existing=True, coalesce=True,
        misfire_grace_time=30,
    )  # fmt: skip
    scheduler.add_job(
        _job(app, follow_up_reminders, "follow-up-reminders", holder), "cron",
        hour=app.config["FOLLOW_UP_REMINDER_HOUR"], minute=0, id="follow-up-reminders",
        replace_existing=True, coalesce=True, misfire_grace_time=int(REMINDER_CATCH_UP.total_seconds()),
    )  # fmt: skip
    scheduler.add_job(
        _job(app, daily_summary, "leader-daily-summary", holder), "cron",
        hour=app.config["DAILY_SUMMARY_HOUR"], minute=0, id="leader-daily-summary",
        replace_existing=True, coalesce=True, misfire_grace_time=12 * 3600,
    )  # fmt: skip
    scheduler.add_job(
        _job(app, activity_reminders, "activity-report-reminders", holder), "cron",
        hour=app.config["ACTIVITY_REMINDER_HOUR"], minute=0,
        id="activity-report-reminders", replace_existing=True, coalesce=True, misfire_grace_time=12 * 3600,
    )  # fmt: skip
    scheduler.add_job(
        _job(app, expire_uploads, "pending-uploads-expire", holder), "interval", hours=1,
        id="pending-uploads-expire", replace_existing=True, coalesce=True, misfire_grace_time=3600,
    )  # fmt: skip
    # Personal data past its retention period, anonymised each night (a missed night: the next one does it).
    scheduler.add_job(
        _job(app, privacy_retention, "privacy-retention", holder), "cron",
        hour=app.config["PRIVACY_RETENTION_HOUR"], minute=30, id="privacy-retention",
        replace_existing=True, coalesce=True, misfire_grace_time=12 * 3600,
    )  # fmt: skip
    return scheduler


def _beat(app: Flask, holder: str) -> None:
    with app.app_context():
        try:
            record_heartbeat(holder, now=utcnow())
            db.session.commit()
        except sa.exc.SQLAlchemyError:
            db.session.rollback()
            logger.exception("could not write the heartbeat")
        finally:
            db.session.remove()


def run_active(app: Flask, lock: Lock, stop: threading.Event, holder: str) -> None:
    """Run the jobs while this process holds the lock, until ``stop`` is set; the running job finishes."""
    scheduler = build_scheduler(app, holder)
    _beat(app, holder)
    catch_up(app, now=utcnow(), holder=holder)  # in case no scheduler was active at a job's hour
    scheduler.start()
    try:
        while not stop.wait(app.config["SCHEDULER_HEARTBEAT_S"]):
            lock.check()
            _beat(app, holder)
    finally:
        scheduler.shutdown(wait=True)


@click.command("scheduler")
@click.option(
    "--standby/--no-standby", default=True,
    help="When another scheduler is active: wait and take over when it stops (default), or exit at once.",
)  # fmt: skip
@with_appcontext
def scheduler_command(standby: bool) -> None:
    """Run the scheduler (SMS outbox, follow-up reminders, daily summaries) until stopped."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # Flask types the proxy as the app
    holder = f"{socket.gethostname()}:{os.getpid()}"
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    waiting = False
    while not stop.is_set():
        try:
            with single_instance(app) as lock:
                jobs = ", ".join(job.id for job in build_scheduler(app).get_jobs())
                click.echo(f"Scheduler active ({holder}; jobs: {jobs}); Ctrl+C stops it.")
                logger.info("scheduler active", extra={"holder": holder})
                run_active(app, lock, stop, holder)
            logger.info("scheduler stopped", extra={"holder": holder})
            return
        except AlreadyRunning as exc:
            if not standby:
                click.echo(f"Scheduler not started: {exc}.", err=True)
                sys.exit(1)
            if not waiting:
                click.echo(f"Scheduler on standby ({holder}): {exc}; it takes over when that one stops.")
                waiting = True
            stop.wait(app.config["SCHEDULER_STANDBY_POLL_S"])
        except sa.exc.SQLAlchemyError as exc:
            # The lock's connection broke: another scheduler may be active by now. Stop; systemd restarts us.
            logger.exception("scheduler lost its database connection", extra={"holder": holder})
            click.echo(f"Scheduler stopped: lost the database connection ({type(exc).__name__}).", err=True)
            sys.exit(1)
