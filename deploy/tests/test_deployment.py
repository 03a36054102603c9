"""A province's installation on one machine, checked the way its IT team and its phones would see it.
The tests run in this order and share one stack (conftest.py); the scheduler's failover comes last."""

import hashlib
import http.client
import re
import secrets
import signal
import subprocess
import time

import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from deploy.tests.conftest import Phone, wait_until  # noqa: F401 - the stack fixture is there too

ADMIN, PASSWORD = "admin.tinh", "a-long-deploy-test-password"


def _create_users(stack) -> str:
    stack.flask("users", "create", ADMIN, "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    return stack.flask("users", "token", ADMIN).stdout.strip().split()[-1]


def test_the_release_step_installed_only_the_runtime(stack):
    log = stack.released.stdout
    steps = [line for line in log.splitlines() if line.startswith("[release] ")]
    assert [s.split()[1] for s in steps[:7]] == ["1/7", "2/7", "3/7", "4/7", "5/7", "6/7", "7/7"]
    assert "Running upgrade" in stack.released.stderr + log  # migrated before the code served
    installed = (
        subprocess.run([str(stack.venv / "pip"), "list", "--format=freeze"], capture_output=True, text=True, check=True)
        .stdout.lower()
        .replace("_", "-")
    )
    for tool in ("pytest", "playwright", "ruff", "mypy", "jsonschema", "pip-tools"):
        assert f"\n{tool}==" not in "\n" + installed, f"{tool} is in the production virtualenv"
    for needed in ("flask==", "gunicorn==", "prometheus-client==", "redis==", "psycopg=="):
        assert needed in installed
    assert stack.current.resolve().parent == stack.home / "releases"


def test_http_sends_the_phone_to_https(stack):
    answer = Phone("127.0.0.2", stack).get("/login", https=False)
    assert answer.status == 301
    assert answer.headers["Location"] == f"https://127.0.0.1:{stack.https_port}/login"


def test_a_page_over_https_gzipped(stack):
    answer = Phone("127.0.0.2", stack).get("/login")
    assert answer.status == 200
    assert answer.headers["Content-Encoding"] == "gzip" and len(answer.raw) < len(answer.body)
    assert "Strict-Transport-Security" in answer.headers
    assert re.fullmatch(r"[2-9A-Z]{8}", answer.headers["X-Request-Id"])  # the app answered, through nginx
    assert 'name="csrf_token"' in answer.text


def test_the_api_through_nginx(stack):
    token = _create_users(stack)
    phone = Phone("127.0.0.2", stack)
    me = phone.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status == 200 and me.json()["username"] == ADMIN
    spec = phone.get("/api/v1/openapi.json")
    assert spec.status == 200 and spec.headers["Content-Encoding"] == "gzip"
    assert spec.json()["openapi"].startswith("3.1")
    assert phone.get("/api/v1/me").status == 401


def test_static_files_served_by_nginx_cached_and_fingerprinted(stack):
    phone = Phone("127.0.0.2", stack)
    page = phone.get("/login").text
    for path in re.findall(r"/static/[\w/.-]+\.(?:css|js)", page):
        answer = phone.get(path)
        assert answer.status == 200, path
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert "X-Request-Id" not in answer.headers  # nginx answered from disk, not the app
        assert answer.headers["Content-Encoding"] == "gzip"
        digest = re.search(r"\.([0-9a-f]{12})\.\w+$", path).group(1)
        assert hashlib.sha256(answer.body).hexdigest()[:12] == digest
    assert re.search(r"/static/css/app\.[0-9a-f]{12}\.css", page)
    # The service worker names this release's files, and is itself never cached.
    worker = phone.get("/sw.js")
    assert worker.headers["Cache-Control"] == "no-cache"
    assert re.search(r"/static/js/outbox\.[0-9a-f]{12}\.js", worker.text)


def test_the_phones_address_in_the_audit_log_and_the_limiter(stack):
    """Two phones behind nginx: one is throttled after five wrong passwords, the other is not; the
    audit log has each phone's address, never nginx's or one a phone made up."""
    name = f"guess-{secrets.token_hex(3)}"
    first, second = Phone("127.0.0.2", stack), Phone("127.0.0.3", stack)
    token = first.csrf()
    statuses = [
        first.request(
            "POST", "/login", form={"username": name, "password": "wrong", "csrf_token": token},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},  # made up by the phone: changes nothing
        ).status
        for n in range(6)
    ]  # fmt: skip
    assert statuses == [200] * 5 + [429]
    token = second.csrf()
    answer = second.request("POST", "/login", form={"username": name, "password": "wrong", "csrf_token": token})
    assert answer.status == 200
    with stack.engine.connect() as conn:
        addresses = conn.execute(
            sa.text("SELECT ip FROM audit_event WHERE action = 'login.failed' AND actor_name = :n"), {"n": name}
        ).scalars().all()  # fmt: skip
    assert sorted(set(addresses)) == ["127.0.0.2", "127.0.0.3"]
    assert addresses.count("127.0.0.2") == 5


def test_a_session_works_on_both_servers(stack):
    phone = Phone("127.0.0.4", stack)
    token = phone.csrf()
    answer = phone.request("POST", "/login", form={"username": ADMIN, "password": PASSWORD, "csrf_token": token})
    assert answer.status == 302
    for port in stack.app_ports:  # each gunicorn directly, with the cookie nginx's answer set
        page = phone.get("/", https=False, port=port)
        assert page.status == 200, port
        assert ADMIN in page.text


def test_an_upload_on_one_server_is_imported_through_the_other(stack):
    """A statistics file whose columns a person chooses: uploaded to one server, its second step sent to
    the other. The file waits in the shared database, so the second server finds it."""
    stack.flask("geo", "import-units", "--province", "08")
    with stack.engine.connect() as conn:
        province = conn.execute(sa.text("SELECT id FROM admin_unit WHERE level = 'province'")).scalar_one()
    phone = Phone("127.0.0.5", stack)
    token = phone.csrf()
    answer = phone.request("POST", "/login", form={"username": ADMIN, "password": PASSWORD, "csrf_token": token})
    assert answer.status == 302
    one, two = stack.app_ports
    page = phone.get("/reports/imports", https=False, port=one).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    odd = "Nơi nhận,Kỳ,Cột A,Cột B\nUBND phường Minh Xuân,09/2026,100,40\n".encode()
    answer = phone.request(
        "POST", "/reports/imports", https=False, port=one, form={"csrf_token": token, "province": str(province)},
        files={"file": ("thang-9.csv", odd)},
    )  # fmt: skip
    assert answer.status == 400 and 'id="mapping"' in answer.text, answer.text[:500]
    upload = re.search(r'name="upload"[^>]*value="([^"]+)"', answer.text).group(1)
    answer = phone.request(
        "POST", "/reports/imports", https=False, port=two,
        form={"csrf_token": token, "upload": upload, "filename": "thang-9.csv", "province": str(province),
              "col_agency": "0", "col_period": "1", "col_total": "2", "col_online": "3"},
    )  # fmt: skip
    assert answer.status == 200, answer.text[:500]
    with stack.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT total, online FROM submission_stat")).one() == (100, 40)
        assert conn.execute(sa.text("SELECT count(*) FROM pending_upload")).scalar() == 0


def test_ready(stack):
    answer = Phone("127.0.0.2", stack).get("/readyz")
    assert answer.status == 200, answer.text
    assert answer.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "scheduler": "ok"},
        "reasons": [],
    }
    assert Phone("127.0.0.2", stack).get("/healthz").json() == {"status": "ok"}


def _scrape(port: int) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/metrics")
    response = conn.getresponse()
    assert response.status == 200
    samples = {}
    for family in text_string_to_metric_families(response.read().decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_add_up_every_worker_and_only_for_the_allowed(stack):
    port = stack.app_ports[0]
    before = _scrape(port)
    key = ("outreach_http_requests_total", (("method", "GET"), ("route", "/offline"), ("status", "200")))
    for _ in range(20):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/offline")
        conn.getresponse().read()
        conn.close()
    # Whichever of the two workers answers the scrape, it counts both workers' requests.
    for _ in range(4):
        assert _scrape(port)[key] - before.get(key, 0) == 20
    samples = _scrape(port)
    assert samples[("outreach_database_up", ())] == 1
    assert ("outreach_scheduler_last_run_success", (("job", "sms-dispatch"),)) in samples
    assert samples[("outreach_scheduler_heartbeat_timestamp_seconds", ())] > time.time() - 30
    # A phone, through nginx, even one claiming to be the server: nothing there.
    phone = Phone("127.0.0.2", stack)
    assert phone.get("/metrics").status == 404
    assert phone.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status == 404


def test_a_backup_restored_has_every_row(stack):
    backups = stack.base / "backups"
    stack.flask("ops", "backup", str(backups), "--keep", "3")
    (dump,) = backups.glob("outreach-*.dump")
    admin = sa.create_engine(stack.database_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    restored_name = stack.database_url.rsplit("/", 1)[1] + "_restore"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{restored_name}"'))
    restored_url = stack.database_url.rsplit("/", 1)[0] + "/" + restored_name
    stack.flask("ops", "restore", str(dump), "--database-url", restored_url)
    restored = sa.create_engine(restored_url)
    try:
        tables = sa.inspect(stack.engine).get_table_names()
        assert "household" in tables and "scheduler_beat" in tables
        for table in tables:
            if table == "scheduler_beat":
                continue  # the running scheduler writes its heartbeat after the backup
            query = sa.text(f'SELECT * FROM "{table}"')
            with stack.engine.connect() as a, restored.connect() as b:
                assert sorted(map(repr, a.execute(query))) == sorted(map(repr, b.execute(query))), table
    finally:
        restored.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)'))
        admin.dispose()


def _queue(stack, count: int, tag: str) -> None:
    """Messages due now, written as the app writes them (in a commune)."""
    with stack.engine.begin() as conn:
        commune = conn.execute(sa.text("SELECT id FROM admin_unit WHERE code = 'DT-01'")).scalar()
        if commune is None:
            unit = (
                "INSERT INTO admin_unit (dataset, code, level, kind, name, short_name, name_folded, sort_key, path,"
                " parent_id, created_at, updated_at) VALUES ('2025', :code, :level, :kind, :name, 'Thử', 'thu', 'thu',"
                " :path, :parent, now(), now()) RETURNING id"
            )
            province = conn.execute(
                sa.text(unit),
                {"code": "DT", "level": "province", "kind": "Tỉnh", "name": "Tỉnh Thử", "path": "2025/DT/",
                 "parent": None},
            ).scalar()  # fmt: skip
            commune = conn.execute(
                sa.text(unit),
                {"code": "DT-01", "level": "commune", "kind": "Xã", "name": "Xã Thử", "path": "2025/DT/DT-01/",
                 "parent": province},
            ).scalar()  # fmt: skip
        for n in range(count):
            conn.execute(
                sa.text(
                    "INSERT INTO sms_message (kind, commune_id, to_phone, body, encoding, segments, token, status,"
                    " due_at, attempts, provider_status, error_message, opens, created_at, updated_at)"
                    " VALUES ('guide', :c, '+84912345678', :body, 'GSM-7', 1, :token, 'queued', now(), 0, '', '', 0,"
                    " now(), now())"
                ),
                {"c": commune, "body": f"{tag}-{n}", "token": secrets.token_hex(8)},
            )


def _statuses(stack, tag: str) -> dict[str, int]:
    with stack.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT status, count(*) FROM sms_message WHERE body LIKE :t GROUP BY status"), {"t": f"{tag}-%"}
        ).all()
    return dict(rows)


def test_a_scheduler_killed_the_other_takes_over_and_nothing_goes_twice(stack):
    _queue(stack, 60, "kill")
    wait_until(lambda: any(b.startswith("kill-") for b in stack.twilio.bodies), 30, "sending began")
    active = stack.active_scheduler()
    pids = {p.pid: name for name, p in stack.processes.items() if name.startswith("scheduler")}
    assert active in pids
    stack.processes[pids[active]].send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    wait_until(lambda: stack.active_scheduler() not in (None, active), 30, "the standby taking over")
    assert time.monotonic() - killed_at < 30
    # Every message ends sent, or (the one being sent when it died) waiting for a person's check.
    wait_until(lambda: set(_statuses(stack, "kill")) <= {"sent", "needs_check"}, 90, "the outbox emptied")
    bodies = [b for b in stack.twilio.bodies if b.startswith("kill-")]
    assert len(bodies) == len(set(bodies)), "a message went out twice"
    statuses = _statuses(stack, "kill")
    assert statuses.get("sent", 0) + statuses.get("needs_check", 0) == 60
    assert statuses.get("sent", 0) <= len(set(bodies)) <= 60
    # The dead one's place: a new standby, as systemd would restart it.
    stack.start_scheduler(pids[active])


def test_sigterm_lets_the_running_job_finish(stack):
    _queue(stack, 20, "term")
    wait_until(lambda: any(b.startswith("term-") for b in stack.twilio.bodies), 30, "sending began")
    active = stack.active_scheduler()
    process = next(p for p in stack.processes.values() if p.pid == active)
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0
    # The batch it had claimed went out before it stopped: nothing left half-sent.
    statuses = _statuses(stack, "term")
    assert statuses.get("sending", 0) == 0 and statuses.get("needs_check", 0) == 0
    wait_until(lambda: stack.active_scheduler() not in (None, active), 30, "the standby taking over")
    wait_until(lambda: _statuses(stack, "term") == {"sent": 20}, 60, "the rest sent")
    bodies = [b for b in stack.twilio.bodies if b.startswith("term-")]
    assert sorted(bodies) == sorted(f"term-{n}" for n in range(20))
