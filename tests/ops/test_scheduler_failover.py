"""The scheduler on every server, exactly one active: the others wait on standby and one takes over
when the active one is killed (kill -9); SIGTERM stops it cleanly. Real processes on the suite's
database (a PostgreSQL advisory lock, or the file lock beside the SQLite file)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from outreach.extensions import db
from outreach.ops.heartbeat import heartbeat

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def start_scheduler(app, tmp_path):
    started: list[subprocess.Popen] = []

    def start(*args: str) -> subprocess.Popen:
        log = (tmp_path / f"scheduler-{len(started)}.log").open("w")
        env = dict(
            os.environ,
            FLASK_CONFIG="development",
            DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
            SMS_GATEWAY="console",
            SCHEDULER_HEARTBEAT_S="1",
            SCHEDULER_STANDBY_POLL_S="0.5",
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "outreach", "scheduler", *args],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        process.log = tmp_path / f"scheduler-{len(started)}.log"
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def _wait_for(condition, seconds: float) -> float:
    """Seconds until ``condition()`` held; fails after ``seconds``."""
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        db.session.rollback()
        if condition():
            return time.monotonic() - began
        time.sleep(0.2)
    pytest.fail(f"not within {seconds} s")


def _active_pid() -> int | None:
    beat = heartbeat()
    return int(beat.holder.rsplit(":", 1)[1]) if beat else None


def test_a_standby_takes_over_when_the_active_one_is_killed(app, start_scheduler):
    first = start_scheduler()
    _wait_for(lambda: _active_pid() == first.pid, 60)
    second = start_scheduler()
    third = start_scheduler("--no-standby")  # one that may not wait says so and leaves
    _wait_for(lambda: "standby" in second.log.read_text(), 60)
    assert _active_pid() == first.pid
    assert third.wait(60) == 1
    assert "Scheduler not started: another scheduler holds" in third.log.read_text()

    first.send_signal(signal.SIGKILL)
    took = _wait_for(lambda: _active_pid() == second.pid, 30)
    assert took < 30

    second.send_signal(signal.SIGTERM)  # systemd stopping it: the running job ends, the lock goes
    assert second.wait(30) == 0
    assert "Traceback" not in second.log.read_text()
