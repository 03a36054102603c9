"""What every benchmark shares: the databases, child processes, the app served over HTTP, timing, the
OK/FAIL lines and peak memory; and ``main``, the command line of ``python -m bench``."""

import argparse
import contextlib
import gc
import importlib.util
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench")


def _run_clock() -> datetime:
    """The one clock of a run: read once by the parent (or pinned with BENCH_NOW=ISO-8601) and handed to
    every child process through the environment, so that data, seeds and timings agree on the day. The
    app served over HTTP reads the real clock, so pin BENCH_NOW only for benchmarks that do not serve."""
    pinned = os.environ.get("BENCH_NOW")
    if pinned:
        return datetime.fromisoformat(pinned)
    now = datetime.now(UTC).replace(microsecond=0)
    os.environ["BENCH_NOW"] = now.isoformat()
    return now


NOW = _run_clock()
SEED = 20261126

failures: list[str] = []


def verdict(ok: bool, name: str) -> str:
    if not ok:
        failures.append(name)
    return "OK" if ok else "FAIL"


def rss_mb() -> float:
    """Current resident set size of this process (Linux /proc; elsewhere the peak so far)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mb()


def reset_peak_rss() -> None:
    """Start the peak over (Linux). A child started by fork inherits its parent's high-water mark, so
    without this a measured import would report the parent's size after the benchmarks before it."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    """This process's peak resident set size since it started (or since ``reset_peak_rss``)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def make_app(url: str):
    from config import Config
    from outreach import create_app

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        RATELIMIT_ENABLED = False
        PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # the benchmarks log in; they do not measure hashing

    return create_app(BenchConfig)


def close(app) -> None:
    from outreach.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def child(*args: str) -> dict:
    """Run ``python -m bench`` with these arguments in a fresh interpreter and return the JSON object it
    prints last."""
    command = [sys.executable, "-m", "bench", *args]
    proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0 or not proc.stdout.strip():
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise RuntimeError(f"child {' '.join(args[:2])} failed with status {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def postgres_problem() -> str | None:
    """None if PostgreSQL answers (creating the bench database when missing), else why not."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL)
    params = {"host": url.host or "127.0.0.1", "port": url.port or 5432, "user": url.username or "postgres"}
    if url.password:
        params["password"] = url.password
    try:
        with psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=5, **params) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,)).fetchone():
                conn.execute(f'CREATE DATABASE "{url.database}"')
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]
    return None


def fresh_database(kind: str, tmp: Path, name: str) -> str | None:
    """The URL of an empty database with the schema built by the migrations; None if unreachable.

    Migrations run in a child process so Alembic's logging stays out of the figures.
    """
    if kind == "sqlite":
        path = tmp / f"{name}.db"
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        if postgres_problem():
            return None
        import sqlalchemy as sa

        engine = sa.create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
        url = PG_URL
    child("_migrate", url)
    return url


def migrate_child(url: str) -> None:
    from flask_migrate import upgrade

    app = make_app(url)
    with app.app_context():
        upgrade()
    close(app)
    print(json.dumps({"migrated": True}))


def databases(selected: str) -> list[str]:
    return ["sqlite", "postgresql"] if selected == "all" else [selected]


def server_kind() -> str:
    return "gunicorn" if importlib.util.find_spec("gunicorn") else "werkzeug"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def live_server(url: str, tmp: Path, name: str):
    """The app over real HTTP on 127.0.0.1, in a child process (``_serve``): gunicorn with one sync
    worker, or werkzeug's threaded server when gunicorn is missing. Yields the base URL and the file
    where the server logs every response it sends (see ByteLog)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path, requests_path = tmp / f"{name}-server.log", tmp / f"{name}-requests.jsonl"
    requests_path.write_text("")
    with log_path.open("w") as log:
        command = [sys.executable, "-m", "bench", "_serve", url, str(port), str(requests_path)]
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"the server stopped: {log_path.read_text()[-2000:]}")
                try:
                    with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:
                        if answer.status == 200:
                            break
                except OSError as exc:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"no answer within 30 s: {log_path.read_text()[-2000:]}") from exc
                    time.sleep(0.1)
            yield base, requests_path
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class ByteLog:
    """WSGI middleware: once a response's body is sent, one JSON line (path, status, body bytes, content
    type, the request's Sec-Fetch-Dest) is appended to a file. What the server sent, counted where it sent it."""

    def __init__(self, app, path: str):
        self.app, self.path = app, path

    def __call__(self, environ, start_response):
        sent = {"path": environ.get("PATH_INFO", ""), "dest": environ.get("HTTP_SEC_FETCH_DEST", "")}

        def start(status, headers, exc_info=None):
            sent["status"] = int(status.split()[0])
            sent["type"] = next((v for k, v in headers if k.lower() == "content-type"), "").split(";")[0]
            return start_response(status, headers, exc_info)

        result = self.app(environ, start)
        size = 0
        try:
            for chunk in result:
                size += len(chunk)
                yield chunk
        finally:
            if hasattr(result, "close"):
                result.close()
            with open(self.path, "a", encoding="utf-8") as log:
                log.write(json.dumps({**sent, "bytes": size}) + "\n")


def serve_child(url: str, port: str, requests_path: str) -> None:
    app = make_app(url)
    app.wsgi_app = ByteLog(app.wsgi_app, requests_path)
    if server_kind() == "werkzeug":
        from werkzeug.serving import make_server

        make_server("127.0.0.1", int(port), app, threaded=True).serve_forever()
        return
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self):
            options = {"bind": f"127.0.0.1:{port}", "workers": 1, "worker_class": "sync", "timeout": 600}
            # As deploy/gunicorn.conf.py: what the loaded app keeps leaves the garbage collector's sight.
            options["post_worker_init"] = lambda _worker: gc.freeze()
            for key, value in {**options, "loglevel": "warning"}.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    Server().run()


def milliseconds(runs: list[float]) -> str:
    return f"median_ms={statistics.median(runs):.1f} max_ms={max(runs):.1f}"


def versions() -> str:
    import psycopg
    import sqlalchemy

    return (
        f"python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, psycopg {psycopg.__version__}, "
        f"{os.cpu_count()} CPUs"
    )


def main(argv: list[str], benchmarks: dict[str, Callable], children: dict[str, Callable]) -> int:
    """``python -m bench``: run the ``benchmarks`` named in ``argv`` (all by default); or, when ``argv``
    starts with the name of one of the ``children`` (``_serve``, ...), that child's work, with the
    arguments that follow it."""
    if argv[:1] and argv[0] in children:
        children[argv[0]](*argv[1:])
        return 0

    parser = argparse.ArgumentParser(prog="python -m bench", description="Outreach benchmarks (see bench/README.md).")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of: {', '.join(benchmarks)} (default: all)")
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes: one province, 10,000 households, 2,000 visits, 5 walk runs"
    )
    parser.add_argument("--db", choices=["all", "sqlite", "postgresql"], default="all", help="default: both")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in benchmarks]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}: choose from {', '.join(benchmarks)}")
    names = list(dict.fromkeys(args.names)) or list(benchmarks)

    print(f"# Outreach benchmarks, {'quick' if args.quick else 'full'} sizes: {', '.join(names)} ({versions()})")
    tmp = Path(tempfile.mkdtemp(prefix="outreach-bench-"))
    try:
        for name in names:
            benchmarks[name](tmp, args.quick, args.db)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"# FAILED: {', '.join(failures)}" if failures else "# all targets met")
    return 1 if failures else 0
