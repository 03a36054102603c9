"""gunicorn's settings for Outreach: `gunicorn -c deploy/gunicorn.conf.py` (outreach-web.service).

Every value can be changed from the environment file without editing this one (GUNICORN_*).
The app is loaded by each worker (no preload), so `systemctl reload outreach-web` (SIGHUP) starts
new workers on the new code while the old ones finish their requests."""

import gc
import json
import logging
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

wsgi_app = "outreach:create_app()"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
# Synchronous workers: nginx buffers slow phones' uploads and downloads, so a worker is busy only while
# the app works. Two per core and one more; each holds the app (numpy, scipy, folium): about 150 MB.
workers = int(os.environ.get("GUNICORN_WORKERS", str(2 * (os.cpu_count() or 1) + 1)))
# A statistics import of a million rows takes about 10 s; nothing should take two minutes.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
# On SIGTERM (systemctl stop, a release) the workers finish the requests they have, for this long.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5  # nginx keeps connections to us open (upstream keepalive)
max_requests = 2000  # a worker is replaced now and then, so nothing can grow without end
max_requests_jitter = 200
# Workers' liveness files in memory, not on a disk that may stall (gunicorn's own advice).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
# The app alone decides which X-Forwarded-* to believe (TRUSTED_PROXIES, werkzeug's ProxyFix).
forwarded_allow_ips = ""
proc_name = os.environ.get("GUNICORN_NAME", "outreach-web")

# Logs: the app writes one JSON line per request (id, user id, route, status, duration; no query
# string, no phone numbers or names), so gunicorn's access log is off unless GUNICORN_ACCESS_LOG names a
# file ("-" for standard output); it is JSON as well, without the query string.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = (
    '{"logger": "gunicorn.access", "request_id": "%({x-request-id}o)s", "method": "%(m)s", '
    '"path": "%(U)s", "status": %(s)s, "bytes": %(B)s, "duration_ms": %(M)s}'
)
errorlog = "-"


class _JsonLines(logging.Formatter):
    """gunicorn's own messages in the app's JSON shape (outreach/ops/logs.py). Defined here: the master
    process never imports the app, so a restart always loads the release's code."""

    def format(self, record):
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": _JsonLines}, "plain": {"format": "%(message)s"}},
    "handlers": {
        "error": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
        "access": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stdout"},
    },
    "root": {"handlers": ["error"], "level": "INFO"},  # the app replaces it with its own JSON lines (LOG_JSON)
    "loggers": {
        "gunicorn.error": {"handlers": ["error"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
}

# Prometheus: each worker counts in files of this directory; any worker's /metrics adds them up. It is
# emptied when gunicorn starts (RuntimeDirectory= in outreach-web.service gives a fresh /run/outreach).
_metrics = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR",
    str(Path(tempfile.gettempdir()) / f"outreach-metrics-{bind[0].replace(':', '-').replace('/', '-')}"),
)


def on_starting(server):
    shutil.rmtree(_metrics, ignore_errors=True)
    Path(_metrics).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """The app is loaded. What it keeps for the worker's life (modules, routes, the ORM's mappings,
    translations: some 280,000 objects) leaves the garbage collector's sight (``gc.freeze``), so the
    collections that a request's own objects start no longer walk all of it every time: a sync of 500
    visits allocates enough to start a hundred of them."""
    gc.freeze()
