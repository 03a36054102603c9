"""The deployment kit, run for real on this machine (`make deploy-test`): nginx from Debian's package,
with the kit's site on unprivileged ports and a self-signed certificate; a release made by
deploy/release.sh (its own virtualenv from requirements.txt); two gunicorn servers with the kit's
gunicorn.conf.py; two schedulers; PostgreSQL and Redis on loopback. Everything lives in a temporary
folder and stops at the end.

Needs: PostgreSQL on 127.0.0.1:5432 (trust authentication for ``postgres``), Redis on 127.0.0.1:6379,
root (to install nginx if it is missing, and to run it). Settings: DEPLOY_TEST_DATABASE (a database
it drops and makes again, default ``outreach_deploy``), DEPLOY_TEST_REDIS (a Redis database it empties,
default redis://127.0.0.1:6379/9)."""

import gzip
import hashlib
import http.client
import itertools
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
DATABASE = os.environ.get("DEPLOY_TEST_DATABASE", "outreach_deploy")
REDIS = os.environ.get("DEPLOY_TEST_REDIS", "redis://127.0.0.1:6379/9")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "outreach-deploy-test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, seconds: float, what: str, interval: float = 0.2) -> float:
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        if condition():
            return time.monotonic() - began
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {seconds} s")


# --- a phone: HTTP(S) from one loopback address, with its cookies ------------------------------------


class Answer:
    def __init__(self, response: http.client.HTTPResponse):
        self.status = response.status
        self.headers = response.headers
        self.raw = response.read()
        self.body = gzip.decompress(self.raw) if self.headers.get("Content-Encoding") == "gzip" else self.raw

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self):
        return json.loads(self.body)


class Phone:
    """A client at its own loopback address (127.0.0.2, 127.0.0.3 ...), so nginx sees two phones."""

    def __init__(self, address: str, stack: "Stack"):
        self.address, self.stack, self.cookies = address, stack, {}

    def request(self, method: str, path: str, *, form: dict | None = None, headers: dict | None = None,
                https: bool = True, port: int | None = None, files: dict | None = None) -> Answer:  # fmt: skip
        if https:
            conn = http.client.HTTPSConnection(
                "127.0.0.1", port or self.stack.https_port, context=self.stack.tls, source_address=(self.address, 0),
                timeout=60,
            )  # fmt: skip
        else:
            conn = http.client.HTTPConnection(
                "127.0.0.1", port or self.stack.http_port, source_address=(self.address, 0), timeout=60
            )
        sent = {"Accept-Encoding": "gzip", "User-Agent": "deploy-test phone"}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if files is not None:  # multipart: the form's fields and {name: (filename, bytes)}
            boundary = "deploy-test-" + os.urandom(8).hex()
            parts = [
                f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                for k, v in (form or {}).items()
            ]
            for field, (filename, data) in files.items():
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
                    f"Content-Type: application/octet-stream\r\n\r\n".encode()
                    + data
                    + b"\r\n"
                )
            body = b"".join(parts) + f"--{boundary}--\r\n".encode()
            sent["Content-Type"] = f"multipart/form-data; boundary={boundary}"
            sent["Referer"] = f"https://127.0.0.1:{self.stack.https_port}{path}"
        elif form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent["Referer"] = f"https://127.0.0.1:{self.stack.https_port}{path}"
        sent.update(headers or {})
        try:
            conn.request(method, path, body=body, headers=sent)
            answer = Answer(conn.getresponse())
        finally:
            conn.close()
        for cookie in answer.headers.get_all("Set-Cookie") or []:
            name, _eq, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return answer

    def get(self, path: str, **kwargs) -> Answer:
        return self.request("GET", path, **kwargs)

    def csrf(self, path: str = "/login") -> str:
        page = self.get(path).text
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page
        )
        assert match, f"no CSRF token on {path}"
        return match.group(1)


# --- a stand-in for Twilio that counts what it is asked to send ---------------------------------------


class SlowTwilio:
    """Answers each send after ``delay`` seconds, and remembers every body it was given."""

    def __init__(self, delay: float):
        self.delay, self.bodies, self.lock, self.ids = delay, [], threading.Lock(), itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                form = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
                time.sleep(fake.delay)
                with fake.lock:
                    fake.bodies.append(form.get("Body", ""))
                    sid = f"SM{next(fake.ids):032x}"
                data = json.dumps({"sid": sid, "status": "queued"}).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --- the whole stack ----------------------------------------------------------------------------------


class Stack:
    def __init__(self, base: Path):
        self.base = base
        self.home = base / "srv"
        self.env_file = base / "outreach.env"
        self.http_port, self.https_port = free_port(), free_port()
        self.app_ports = [free_port(), free_port()]
        self.processes: dict[str, subprocess.Popen] = {}
        self.twilio = SlowTwilio(delay=0.25)
        self.database_url = f"{POSTGRES}/{DATABASE}"
        self.engine = sa.create_engine(self.database_url)
        self.tls: ssl.SSLContext | None = None  # trusts the test's own certificate, once made

    # settings -------------------------------------------------------------------------------------
    def settings(self) -> dict[str, str]:
        return {
            "FLASK_CONFIG": "production",
            "SECRET_KEY": "deploy-test-" + "0" * 52,
            "DATABASE_URL": self.database_url,
            "RATELIMIT_STORAGE_URI": REDIS,
            # Production refuses a loopback address here (SMS links must reach residents): a name, as in the field.
            "PUBLIC_BASE_URL": f"https://outreach.deploy-test.example:{self.https_port}",
            "TRUSTED_PROXIES": "1",
            "METRICS_ALLOWED": "127.0.0.1",
            "MAX_UPLOAD_MB": "32",
            "SMS_GATEWAY": "twilio",
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_AUTH_TOKEN": "deploy-test-token",
            "TWILIO_FROM": "+15005550006",
            "TWILIO_API_BASE": self.twilio.url,
            "SMS_QUIET_START": "00:00",  # no quiet hours, whatever the hour the test runs at
            "SMS_QUIET_END": "00:00",
            "SMS_DISPATCH_SECONDS": "1",
            "SMS_STALE_CLAIM_S": "5",
            "SCHEDULER_HEARTBEAT_S": "2",
            "SCHEDULER_STANDBY_POLL_S": "1",
            "GUNICORN_WORKERS": "2",
            "NGINX_SERVER_NAME": "127.0.0.1 localhost",
            "NGINX_TLS_CERTIFICATE": str(self.base / "tls" / "cert.pem"),
            "NGINX_TLS_CERTIFICATE_KEY": str(self.base / "tls" / "key.pem"),
            "NGINX_HTTP_PORT": str(self.http_port),
            "NGINX_HTTPS_PORT": str(self.https_port),
            "NGINX_LISTEN_ADDRESS": "127.0.0.1",
            "NGINX_UPSTREAMS": " ".join(f"127.0.0.1:{p}" for p in self.app_ports),
            "NGINX_STATIC_ROOT": str(self.home / "current" / "static"),
            "NGINX_ACCESS_LOG": str(self.base / "nginx" / "access.log"),
            "NGINX_ERROR_LOG": str(self.base / "nginx" / "error.log"),
        }

    def env(self, **extra: str) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
        return {**keep, **self.settings(), **extra}

    @property
    def current(self) -> Path:
        return self.home / "current"

    @property
    def venv(self) -> Path:
        return self.current / ".venv" / "bin"

    def flask(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.venv / "flask"), "--app", "outreach", *args], cwd=self.current, env=self.env(),
            input=stdin, capture_output=True, text=True, check=True, timeout=300,
        )  # fmt: skip

    # building it ----------------------------------------------------------------------------------
    def make_certificate(self) -> None:
        tls = self.base / "tls"
        tls.mkdir()
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", str(tls / "key.pem"), "-out", str(tls / "cert.pem")],
            check=True, capture_output=True,
        )  # fmt: skip
        self.tls = ssl.create_default_context(cafile=str(tls / "cert.pem"))

    def make_databases(self) -> None:
        admin = sa.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in (DATABASE, f"{DATABASE}_restore"):
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{DATABASE}"'))
        admin.dispose()
        import redis

        redis.Redis.from_url(REDIS).flushdb()

    def wheelhouse(self) -> Path:
        """The runtime wheels, downloaded once per requirements.txt (the release installs from them)."""
        digest = hashlib.sha256((ROOT / "requirements.txt").read_bytes()).hexdigest()[:12]
        folder = CACHE / f"wheels-{digest}"
        if not (folder / ".complete").exists():
            shutil.rmtree(folder, ignore_errors=True)
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--require-hashes", "--only-binary", ":all:",
                 "-r", str(ROOT / "requirements.txt"), "-d", str(folder)],
                check=True, timeout=600,
            )  # fmt: skip
            (folder / ".complete").touch()
        return folder

    def release(self) -> subprocess.CompletedProcess:
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in self.settings().items()))
        return subprocess.run(
            ["bash", str(ROOT / "deploy" / "release.sh"), str(ROOT)],
            env={**os.environ, "OUTREACH_HOME": str(self.home), "OUTREACH_ENV": str(self.env_file),
                 "OUTREACH_RESTART": "true", "OUTREACH_WHEELHOUSE": str(self.wheelhouse()),
                 "OUTREACH_VENDOR_FROM": str(ROOT / "static" / "vendor"), "PYTHON": sys.executable},
            capture_output=True, text=True, timeout=900,
        )  # fmt: skip

    def start_nginx(self) -> None:
        if not shutil.which("nginx"):
            subprocess.run(["apt-get", "install", "-y", "-qq", "nginx"], check=False, capture_output=True)
            if not shutil.which("nginx"):
                subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
                subprocess.run(["apt-get", "install", "-y", "-qq", "nginx"], check=True, capture_output=True)
        folder = self.base / "nginx"
        folder.mkdir(exist_ok=True)
        site = subprocess.run(
            [sys.executable, str(self.current / "deploy" / "nginx" / "render.py"), str(self.env_file)],
            check=True, capture_output=True, text=True, env={"PATH": os.environ["PATH"]},
        ).stdout  # fmt: skip
        (folder / "outreach.conf").write_text(site)
        temp = "\n".join(
            f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        # Debian's /etc/nginx/nginx.conf, reduced to what a test needs: its own pid, logs and temp paths.
        (folder / "nginx.conf").write_text(
            f"user root;\nworker_processes 2;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\n"
            "events { worker_connections 512; }\n"
            "http {\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
            f"    sendfile on;\n{temp}\n    access_log {folder / 'access.log'};\n"
            f"    include {folder / 'outreach.conf'};\n}}\n"
        )
        args = ["nginx", "-p", str(folder), "-c", str(folder / "nginx.conf")]
        check = subprocess.run([*args, "-t"], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        self.processes["nginx"] = subprocess.Popen([*args, "-g", "daemon off;"], stderr=subprocess.DEVNULL)
        wait_until(lambda: _listening(self.https_port), 20, "nginx listening")

    def start_web(self, index: int) -> None:
        name = f"web-{index}"
        log = (self.base / f"{name}.log").open("w")
        self.processes[name] = subprocess.Popen(
            [str(self.venv / "gunicorn"), "--config", str(self.current / "deploy" / "gunicorn.conf.py")],
            cwd=self.current, stdout=log, stderr=subprocess.STDOUT,
            env=self.env(GUNICORN_BIND=f"127.0.0.1:{self.app_ports[index]}", GUNICORN_NAME=name,
                         PROMETHEUS_MULTIPROC_DIR=str(self.base / f"metrics-{index}")),
        )  # fmt: skip

    def start_scheduler(self, name: str) -> subprocess.Popen:
        log = (self.base / f"{name}.log").open("a")
        process = subprocess.Popen(
            [str(self.venv / "flask"), "--app", "outreach", "scheduler"],
            cwd=self.current, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.processes[name] = process
        return process

    def log(self, name: str) -> str:
        return (self.base / f"{name}.log").read_text()

    def active_scheduler(self) -> int | None:
        with self.engine.connect() as conn:
            holder = conn.execute(sa.text("SELECT holder FROM scheduler_beat WHERE name = 'heartbeat'")).scalar()
        return int(holder.rsplit(":", 1)[1]) if holder else None

    def stop(self) -> None:
        for name, process in reversed(list(self.processes.items())):
            if process.poll() is None:
                process.send_signal(signal.SIGQUIT if name == "nginx" else signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.twilio.close()
        self.engine.dispose()


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _answers(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def stack(request):
    try:
        sa.create_engine(f"{POSTGRES}/postgres").connect().close()
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable on 127.0.0.1:5432: {exc}")
    # Our own folder, not pytest's (another pytest run on the machine may tidy those away meanwhile).
    base = Path(tempfile.mkdtemp(prefix="outreach-deploy-"))
    base.chmod(0o755)
    stack = Stack(base)
    failed_before, ready = request.session.testsfailed, False
    try:
        stack.make_certificate()
        stack.make_databases()
        released = stack.release()
        assert released.returncode == 0, released.stdout + released.stderr
        stack.released = released
        for index in range(2):
            stack.start_web(index)
        for index, port in enumerate(stack.app_ports):
            wait_until(lambda port=port: _answers(port), 90, f"gunicorn {index} answering")
        stack.start_nginx()
        stack.start_scheduler("scheduler-a")
        wait_until(lambda: stack.active_scheduler() is not None, 60, "a scheduler active")
        stack.start_scheduler("scheduler-b")
        wait_until(lambda: "standby" in stack.log("scheduler-b"), 60, "the second scheduler on standby")
        ready = True
        yield stack
    finally:
        stack.stop()
        if ready and request.session.testsfailed == failed_before:
            shutil.rmtree(base, ignore_errors=True)
        else:
            print(f"\nThe deployment's files and logs are kept in {base}")
