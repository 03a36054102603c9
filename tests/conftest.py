"""Fixtures: one migrated database per run (SQLite file, or TEST_DATABASE_URL), emptied after
every test; small factories for units, users and households; a login helper; a live server and
headless Chromium (Debian's package) driven by Playwright, for tests/e2e and tests/maps."""

import contextvars
import logging
import os
import re
import shutil
import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from werkzeug.serving import make_server

from config import TestConfig
from outreach import create_app
from outreach.auth.models import Role, User
from outreach.extensions import db, limiter
from outreach.geo.models import AdminUnit, Household, Level, unit_names
from outreach.geo.services import HouseholdInput, create_household

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
PASSWORD = "correct-horse-1"


def pytest_report_header(config):
    return f"database: {_database_url().split('@')[-1]}"


def _database_url() -> str:
    return os.environ.get("TEST_DATABASE_URL") or ""


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = _database_url()
    if url:
        engine = sa.create_engine(TestConfig.SQLALCHEMY_DATABASE_URI)
        try:
            with engine.begin() as conn:
                # A clean schema for the run: migrations are the only way tables are made.
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        except sa.exc.OperationalError as exc:
            pytest.exit(f"TEST_DATABASE_URL is set but PostgreSQL is unreachable: {exc}", returncode=3)
        engine.dispose()
        uri = TestConfig.SQLALCHEMY_DATABASE_URI
    else:
        uri = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = uri

    app = create_app(Config)
    with app.app_context():
        upgrade()
    listen_to_every_log_line()
    return app


@pytest.fixture(autouse=True)
def clean_db(app):
    with app.app_context():
        yield
        db.session.rollback()
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if db.engine.dialect.name == "postgresql":
                conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(sa.text(f'DELETE FROM "{table}"'))
        limiter.reset()


@pytest.fixture
def is_postgres(app):
    return db.engine.dialect.name == "postgresql"


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (and so its own ``g`` and database session), as in
    production, even though the test itself runs inside an app context."""

    def open(self, *args, **kwargs):
        # End the test's own read transaction, so it neither holds a snapshot older than the
        # request's writes nor keeps the request waiting (as two requests would not).
        in_test = has_app_context()  # not in a thread a test started
        if in_test:
            db.session.rollback()
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if in_test:
            db.session.rollback()
        return response


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- factories -------------------------------------------------------------------------------


def make_unit(
    level: str,
    code: str,
    name: str,
    parent: AdminUnit | None = None,
    *,
    dataset: str = "legacy",
    bounds: tuple[float, float, float, float] | None = None,
) -> AdminUnit:
    kind, _, short = name.partition(" ") if level != Level.VILLAGE else ("Thôn", "", name.removeprefix("Thôn "))
    unit = AdminUnit(
        dataset=dataset,
        code=code,
        level=level,
        kind=kind,
        **unit_names(name, short),
        parent=parent,
        path=f"{parent.path if parent else dataset + '/'}{code}/",
    )
    if bounds:
        unit.south, unit.west, unit.north, unit.east = bounds
        unit.lat, unit.lon = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    db.session.add(unit)
    db.session.flush()
    return unit


@pytest.fixture
def geo(app):
    """Two communes in one district, a third in another district, each with villages."""
    province = make_unit(Level.PROVINCE, "08", "Tỉnh Tuyên Quang")
    city = make_unit(Level.DISTRICT, "070", "Thành phố Tuyên Quang", province)
    hamyen = make_unit(Level.DISTRICT, "074", "Huyện Hàm Yên", province)
    tanha = make_unit(Level.COMMUNE, "02216", "Phường Tân Hà", city, bounds=(21.82, 105.18, 21.85, 105.21))
    doican = make_unit(Level.COMMUNE, "02524", "Phường Đội Cấn", city)
    minhkhuong = make_unit(Level.COMMUNE, "02383", "Xã Minh Khương", hamyen)
    units = {
        "province": province,
        "city": city,
        "hamyen": hamyen,
        "tanha": tanha,
        "doican": doican,
        "minhkhuong": minhkhuong,
        "tanha_v1": make_unit(Level.VILLAGE, "02216-001", "Thôn Phú Bình", tanha),
        "tanha_v2": make_unit(Level.VILLAGE, "02216-002", "Thôn Tân Hà", tanha),
        "doican_v1": make_unit(Level.VILLAGE, "02524-001", "Thôn Đồng Mới", doican),
        "minhkhuong_v1": make_unit(Level.VILLAGE, "02383-001", "Thôn Nà Khà", minhkhuong),
    }
    db.session.commit()
    return units


def make_user(username: str, role: Role, unit: AdminUnit | None, password: str = PASSWORD) -> User:
    user = User(username=username, role=role, scope_unit=unit, full_name=username.title())
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def make_household(actor: User, village: AdminUnit, head_name: str = "Nguyễn Văn An", **fields) -> Household:
    data = HouseholdInput(village_id=village.id, head_name=head_name, **fields)
    if data.phone:
        data.consent_store_phone = fields.get("consent_store_phone", True)
    household = create_household(actor, data, now=NOW, confirm_duplicate=True)
    db.session.commit()
    return household


@pytest.fixture
def users(geo):
    return {
        "admin": make_user("admin", Role.ADMIN, None),
        "staff": make_user("staff.city", Role.STAFF, geo["city"]),
        "leader": make_user("leader.tanha", Role.LEADER, geo["tanha"]),
        "leader_other": make_user("leader.minhkhuong", Role.LEADER, geo["minhkhuong"]),
        "member": make_user("member.tanha", Role.MEMBER, geo["tanha_v1"]),
    }


def csrf_token(client, url: str = "/login") -> str:
    page = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def visit_payload(household, **fields) -> dict:
    """A visit as the phone sends it."""
    import uuid

    payload = {
        "client_id": str(uuid.uuid4()),
        "household_id": household.id if hasattr(household, "id") else household,
        "device_time": "2026-11-26T09:30:00+07:00",
        "outcome": "helped",
        "people_helped": 2,
        "vneid_installed": True,
        "vneid_level1": True,
    }
    if fields.get("outcome") in ("nobody_home", "refused", "moved_away"):
        payload.update(people_helped=0, vneid_installed=False, vneid_level1=False)
    payload.update(fields)
    return payload


# --- browser tests ---------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # A short poll, so shutdown() returns at once instead of after the default 0.5 s poll.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


# Every page of a browser test runs under the app's Content-Security-Policy, and any violation fails
# the test: the page reports it (securitypolicyviolation) to the test, as does Chromium's console.
# So page.wait_for_function takes a function ("() => ..."): Playwright evals a bare expression, which
# the policy forbids.
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__policyViolated(e.effectiveDirective + " refused " + (e.blockedURI || "inline code") +
    " in " + e.sourceFile + ":" + e.lineNumber + " (" + (e.sample || "") + ")");
});
"""


def watch_policy(context) -> list[str]:
    """Collect the Content-Security-Policy violations of every page of ``context``."""
    violations: list[str] = []
    context.expose_function("__policyViolated", lambda text: violations.append(text))
    context.add_init_script(_REPORT_VIOLATIONS)
    context.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return violations


def assert_policy_kept(context, violations: list[str]) -> None:
    """Let the pages' last violation reports arrive, then fail on any."""
    if context.pages:
        context.pages[0].wait_for_timeout(50)
    assert violations == [], f"Content-Security-Policy violations: {violations}"


@pytest.fixture
def phone(browser, live_server):
    """A page the size of a cheap Android phone; requests that leave the app are refused and recorded,
    and a Content-Security-Policy violation fails the test."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.policy_violations = watch_policy(context)
    page.outside_requests = []
    page.console_errors = []

    def guard(route):
        if route.request.url.startswith(live_server):
            route.continue_()
        else:
            page.outside_requests.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page.on("console", lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: page.console_errors.append(f"uncaught: {error}"))
    page.set_default_timeout(10_000)
    yield page
    try:
        assert_policy_kept(context, page.policy_violations)
    finally:
        context.close()


# --- personal data in logs -------------------------------------------------------------------
# Every log record of the whole run is kept (from INFO, as a server logs) and searched at the end
# for the phone number of any household the tests made, for anything shaped like a Vietnamese
# mobile number, and for any SMS body: none may appear. A leak fails the run and names the line.

_MOBILE = re.compile(r"(?<![\d+])(?:\+?84|0)([35789]\d{8})(?!\d)")


class _AllLogRecords(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = logging.Formatter().format(record)  # the message and its traceback, as written
        except Exception:  # a bad format string is not our concern here; its parts still are
            text = f"{record.msg} {record.args}"
        self.lines.append(f"{record.name}: {text}")


_LOG = _AllLogRecords()
_PERSONAL: dict[str, set[str]] = {"phones": set(), "bodies": set()}


def _remember_household(_mapper, _connection, household) -> None:
    if household.phone:
        _PERSONAL["phones"].add(household.phone[-9:])


def _remember_sms(_mapper, _connection, message) -> None:
    if message.to_phone:
        _PERSONAL["phones"].add(message.to_phone[-9:])
    if message.body and len(message.body) >= 12:
        _PERSONAL["bodies"].add(message.body)


def listen_to_every_log_line() -> None:
    """Keep every log record from INFO up, as a server would write it. Called once the migrations
    ran: Alembic's logging set-up drops the root's handlers and disables the loggers that exist."""
    root = logging.getLogger()
    root.addHandler(_LOG)
    root.setLevel(logging.INFO)
    for logger in logging.root.manager.loggerDict.values():
        if isinstance(logger, logging.Logger):
            logger.disabled = False
    from outreach.sms.models import SmsMessage

    for model, remember in ((Household, _remember_household), (SmsMessage, _remember_sms)):
        sa.event.listen(model, "before_insert", remember)
        sa.event.listen(model, "before_update", remember)


def personal_data_in(lines: list[str], phones: set[str], bodies: set[str]) -> list[str]:
    """The log lines that hold a phone number (in any of its spellings) or an SMS body."""
    leaks = []
    for line in lines:
        joined = re.sub(r"(?<=\d)[ .\-](?=\d)", "", line)  # "0912 345 678", "091-234-5678"
        known = any(9 <= len(run) <= 11 and run[-9:] in phones for run in re.findall(r"\d+", joined))
        if known or _MOBILE.search(joined) or any(body in line for body in bodies):
            leaks.append(line[:300])
    return leaks


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    logging.getLogger().removeHandler(_LOG)
    leaks = personal_data_in(_LOG.lines, _PERSONAL["phones"], _PERSONAL["bodies"])
    if leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        say = reporter.write_line if reporter else print
        say("")
        say(f"PERSONAL DATA IN LOGS: {len(leaks)} of {len(_LOG.lines)} log lines name a phone or an SMS body:")
        for line in leaks[:20]:
            say(f"  {line}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


class Units2025:
    """A province of the 2025 structure as loaded from the package, its communes by full name."""

    def __init__(self, province: AdminUnit):
        self.province = province

    def __getitem__(self, name: str) -> AdminUnit:
        unit = db.session.scalar(
            sa.select(AdminUnit).where(
                AdminUnit.dataset == "2025",
                AdminUnit.name == name,
                AdminUnit.path.startswith(self.province.path),
            )
        )
        assert unit is not None, f"no 2025 unit {name!r}"
        return unit


@pytest.fixture
def tq2025(app):
    """Tuyên Quang on the 2025 structure (124 communes, Hà Giang merged in) and its crosswalk from
    the communes before 1/7/2025 (330 of them)."""
    from outreach.geo.crosswalk import import_crosswalk
    from outreach.geo.units import import_units

    import_units("2025", "Tuyên Quang")
    import_crosswalk("Tuyên Quang")
    db.session.commit()
    province = db.session.scalar(
        sa.select(AdminUnit).where(AdminUnit.dataset == "2025", AdminUnit.level == Level.PROVINCE)
    )
    return Units2025(province)
