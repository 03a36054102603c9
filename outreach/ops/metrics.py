"""Prometheus metrics at ``/metrics`` (prometheus-client's text format).

Counted by each process as requests come: requests by route, method and status with their latency,
visit records the sync API received by result, import durations. Under gunicorn several worker
processes count: with ``PROMETHEUS_MULTIPROC_DIR`` set (deploy/gunicorn.conf.py sets it) they write
to files there and any worker's scrape adds them up (prometheus-client's multiprocess mode).

Read from the database at scrape time, so every worker and server answers alike: the SMS outbox by
status, how long the oldest due message has waited, messages needing a person's check, and the
scheduler's heartbeat and each job's last run."""

import ipaddress
import os
from collections.abc import Iterator, Mapping
from datetime import datetime

import sqlalchemy as sa
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from outreach.extensions import db
from outreach.ops.heartbeat import heartbeat, job_runs
from outreach.sms.models import STATUSES, SmsMessage, Status

disable_created_metrics()  # the *_created series only double what Prometheus already knows
PROCESS_METRICS = CollectorRegistry()
REQUESTS = Counter(
    "outreach_http_requests", "HTTP requests answered, by route, method and status.",
    ["route", "method", "status"], registry=PROCESS_METRICS,
)  # fmt: skip
LATENCY = Histogram(
    "outreach_http_request_duration_seconds", "Time to answer an HTTP request, by route and method.",
    ["route", "method"], registry=PROCESS_METRICS,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)  # fmt: skip
SYNC_RECORDS = Counter(
    "outreach_sync_records", "Visit records received by POST /api/v1/visits/sync, by result.",
    ["result"], registry=PROCESS_METRICS,
)  # fmt: skip
IMPORT_DURATION = Histogram(
    "outreach_import_duration_seconds", "Time to answer an import upload (households or statistics).",
    ["kind"], registry=PROCESS_METRICS, buckets=(0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300),
)  # fmt: skip

# The routes whose POST is an import, and what they import.
IMPORT_ENDPOINTS = {"geo.imports": "households", "reports.imports_page": "statistics"}
SYNC_ENDPOINT = "api.sync"


def observe_request(endpoint: str | None, route: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(route, method, str(status)).inc()
    LATENCY.labels(route, method).observe(seconds)
    if method == "POST" and endpoint in IMPORT_ENDPOINTS:
        IMPORT_DURATION.labels(IMPORT_ENDPOINTS[endpoint]).observe(seconds)


def observe_sync(counts: Mapping[str, int]) -> None:
    """Count the records of one sync answer by their result (created, duplicate, rejected), as the
    route left them in ``g.sync_statuses``."""
    for status, count in counts.items():
        SYNC_RECORDS.labels(status).inc(count)


def _seconds(moment: datetime | None) -> float:
    return moment.timestamp() if moment else 0.0


class DatabaseCollector:
    """Gauges read from the database when Prometheus scrapes."""

    def __init__(self, now: datetime):
        self.now = now

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("outreach_database_up", "1 when the database answered this scrape.")
        try:
            families = list(self._families())
        except sa.exc.SQLAlchemyError:
            db.session.rollback()
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self) -> Iterator[Metric]:
        now = self.now
        by_status = dict(
            db.session.execute(sa.select(SmsMessage.status, sa.func.count()).group_by(SmsMessage.status)).all()
        )
        outbox = GaugeMetricFamily("outreach_sms_outbox_messages", "SMS outbox messages by status.", labels=["status"])
        for status in STATUSES:
            outbox.add_metric([status], by_status.get(status, 0))
        yield outbox

        oldest_due = db.session.scalar(
            sa.select(sa.func.min(SmsMessage.due_at)).where(
                SmsMessage.status == Status.QUEUED, SmsMessage.due_at <= now
            )
        )
        if oldest_due is not None and oldest_due.tzinfo is None:  # SQLite's aggregate loses the column type
            oldest_due = oldest_due.replace(tzinfo=now.tzinfo)
        yield GaugeMetricFamily(
            "outreach_sms_oldest_queued_age_seconds",
            "How long the oldest queued message that is due has waited (0 when none waits).",
            value=max(0.0, (now - oldest_due).total_seconds()) if oldest_due else 0.0,
        )
        waiting_check = db.session.scalar(
            sa.select(sa.func.count()).where(SmsMessage.status == Status.NEEDS_CHECK, SmsMessage.dismissed_at.is_(None))
        )
        yield GaugeMetricFamily(
            "outreach_sms_needs_check_messages",
            "Messages that may or may not have gone out, waiting for a person to decide.",
            value=waiting_check or 0,
        )

        beat = heartbeat()
        yield GaugeMetricFamily(
            "outreach_scheduler_heartbeat_timestamp_seconds",
            "When the active scheduler last said it was alive (Unix time; 0: never).",
            value=_seconds(beat.beat_at if beat else None),
        )
        last_run = GaugeMetricFamily(
            "outreach_scheduler_last_run_timestamp_seconds", "When each job last finished (Unix time).", labels=["job"]
        )
        succeeded = GaugeMetricFamily(
            "outreach_scheduler_last_run_success", "1 when the job's last run succeeded.", labels=["job"]
        )
        for run in job_runs():
            last_run.add_metric([run.name], _seconds(run.beat_at))
            succeeded.add_metric([run.name], 1 if run.ok else 0)
        yield last_run
        yield succeeded


def render(now: datetime) -> tuple[bytes, str]:
    """The scrape: this process's counters (or every worker's, in multiprocess mode) and the
    database's gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(PROCESS_METRICS)
    registry.register(DatabaseCollector(now))
    return generate_latest(registry), CONTENT_TYPE_LATEST


def allowed(address: str | None, setting: str) -> bool:
    """Whether ``address`` is one of the addresses or networks of ``METRICS_ALLOWED`` (comma-separated)."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in setting.replace(";", ",").split(","):
        entry = entry.strip()
        if not entry:
            continue
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue  # a typo in the setting allows nobody more
    return False
