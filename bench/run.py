"""Benchmarks for the bulk imports, the visit sync, the walk list and the "Today" page (``make bench``);
see bench/README.md.

    .venv/bin/python bench/run.py                  # everything, full sizes
    .venv/bin/python bench/run.py units            # only the administrative-unit import
    .venv/bin/python bench/run.py households       # only the household CSV import
    .venv/bin/python bench/run.py sync walk today  # the field app: visit sync, walk list, first load of "Today"
    .venv/bin/python bench/run.py --quick          # smaller sizes, for a smoke run
    .venv/bin/python bench/run.py households --db sqlite

Every measured figure is one line ending in OK or FAIL against its target; the exit status is 1
if any figure failed. PostgreSQL is ``postgresql+psycopg://postgres@127.0.0.1:5432/bench``
(override with BENCH_DATABASE_URL): the database is created when missing, and its ``public``
schema is dropped and rebuilt by the migrations before each benchmark. When PostgreSQL cannot be
reached its lines say SKIP. SQLite databases and the generated CSV live in a temporary directory
that is removed at the end. ``sync`` and ``today`` serve the app over HTTP from a child process
(gunicorn, else werkzeug); ``today`` drives headless Chromium (/usr/bin/chromium) with Playwright.
"""

import argparse
import collections
import contextlib
import csv
import functools
import gc
import importlib.util
import itertools
import json
import os
import platform
import random
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench")
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)

UNITS_TARGET_S = 10.0
HOUSEHOLDS_ROWS = 100_000
HOUSEHOLDS_ROWS_QUICK = 10_000
HOUSEHOLDS_TARGET_S = 20.0
HOUSEHOLDS_TARGET_MB = 300.0
PROVINCE = "Tuyên Quang"
COMMUNES = 8  # the first communes of the province, by code
VILLAGES_PER_COMMUNE = 10
SEED = 20261126

failures: list[str] = []


# --- helpers ---------------------------------------------------------------------------------


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
    """Run this script in a fresh interpreter and return the JSON object it prints last."""
    command = [sys.executable, str(Path(__file__).resolve()), *args]
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


# --- 1. administrative units -----------------------------------------------------------------


def bench_units(tmp: Path, quick: bool, selected_db: str) -> None:
    """``geo import-units`` (import_units + commit) into a fresh database, then the same again."""
    from outreach.extensions import db
    from outreach.geo.units import import_units

    province = PROVINCE if quick else None
    scope = f"province {PROVINCE}" if quick else "whole country"
    for kind in databases(selected_db):
        for dataset in ("legacy", "2025"):
            label = f"{dataset} {kind}"
            url = fresh_database(kind, tmp, f"units-{dataset}")
            if url is None:
                print(f"units.import {label} SKIP (PostgreSQL unreachable: {postgres_problem()})")
                continue
            app = make_app(url)
            with app.app_context():
                runs = []
                for _ in range(2):
                    started = time.perf_counter()
                    stats = import_units(dataset, province)
                    db.session.commit()
                    runs.append((time.perf_counter() - started, stats))
                stored = db.session.execute(db.text("SELECT count(*) FROM admin_unit")).scalar_one()
            close(app)

            (first_s, first), (again_s, again) = runs
            by_level = ", ".join(f"{level} {n}" for level, n in first.created.items() if n)
            ok = first_s < UNITS_TARGET_S and first.total_updated == 0 and stored == first.total_created
            print(
                f"units.import {label} ({scope}) seconds={first_s:.2f} created={first.total_created} ({by_level}) "
                f"updated={first.total_updated} stored={stored} "
                f"(target <{UNITS_TARGET_S:g} s) {verdict(ok, 'units.import ' + label)}"
            )
            ok = again_s < UNITS_TARGET_S and again.total_created == 0 and again.total_updated == 0
            ok = ok and again.unchanged == stored
            print(
                f"units.rerun  {label} ({scope}) seconds={again_s:.2f} created={again.total_created} "
                f"updated={again.total_updated} unchanged={again.unchanged} "
                f"(target <{UNITS_TARGET_S:g} s, nothing created or updated) {verdict(ok, 'units.rerun ' + label)}"
            )


# --- 2. households CSV ----------------------------------------------------------------------

HEADER = ["Mã xã", "Thôn", "Họ tên chủ hộ", "Địa chỉ", "Số điện thoại", "Số nhân khẩu", "Vĩ độ", "Kinh độ", "Ghi chú"]
HEADER += ["Đồng ý lưu số điện thoại", "Đồng ý nhận SMS"]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương", "Lý"]
FAMILY += ["Ma", "Nông", "Hà", "Triệu", "Quan", "Lương"]  # Tày and Nùng families, common in Tuyên Quang
MIDDLE_M = ["Văn", "Đức", "Minh", "Quang", "Hữu", "Xuân", "Thanh", "Ngọc", "Công"]
MIDDLE_F = ["Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Hồng"]
GIVEN_M = ["An", "Bình", "Cường", "Dũng", "Đạt", "Hùng", "Hưng", "Khánh", "Lộc", "Phúc", "Quý", "Sơn"]
GIVEN_M += ["Thắng", "Tuấn", "Việt", "Định", "Toản"]
GIVEN_F = ["Hương", "Lan", "Mai", "Nga", "Nhung", "Oanh", "Thủy", "Trang", "Yến", "Hạnh", "Ánh", "Huệ", "Liên"]
VILLAGE_NAMES = ["Phú Bình", "Tân Lập", "Đồng Mới", "Nà Khà", "Làng Chùa", "Khuôn Phẩy", "Bản Cải", "Thác Mơ"]
VILLAGE_NAMES += ["Đồng Cầu", "Pắc Cáp", "Nà Héc", "Cây Thị"]
NOTES = ["Hộ nghèo", "Có người cao tuổi", "Gia đình chính sách", "Cần hỗ trợ cài VNeID"]
NOTES += ["Đi làm xa; liên hệ buổi tối", 'Con trai "Tí" ở nhà']  # quoted on writing


def bench_villages() -> list[tuple[str, list[str]]]:
    """The communes (legacy codes) and village names the setup creates and the CSV refers to."""
    from outreach.geo.models import Level
    from outreach.geo.units import official_units

    communes = sorted(u["code"] for u in official_units("legacy", PROVINCE) if u["level"] == Level.COMMUNE)
    return [(code, VILLAGE_NAMES[:VILLAGES_PER_COMMUNE]) for code in communes[:COMMUNES]]


def valid_mobile(rng: random.Random) -> str:
    """A 09xxxxxxxx number the app's own normalizer accepts (a few 09x ranges are unallocated)."""
    from outreach.geo.phone import PhoneError, normalize_phone

    while True:
        phone = f"09{rng.randint(0, 99_999_999):08d}"
        try:
            normalize_phone(phone)
        except PhoneError:
            continue
        return phone


def write_households_csv(path: Path, rows: int, villages: list[tuple[str, list[str]]]) -> dict:
    """A deterministic household file as a commune exports it from Excel: CSV UTF-8 with BOM, ';'."""
    rng = random.Random(SEED)
    phones = consents = 0
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(HEADER)
        for i in range(rows):
            commune, names = villages[i % len(villages)]
            village = rng.choice(names)
            female = rng.random() < 0.35
            family = rng.choice(FAMILY)
            head = (
                f"{family} {rng.choice(MIDDLE_F if female else MIDDLE_M)} {rng.choice(GIVEN_F if female else GIVEN_M)}"
            )
            address = f"Số {rng.randint(1, 250)}, thôn {village}" if rng.random() < 0.8 else ""
            if rng.random() < 0.7:
                phone = valid_mobile(rng)
                if rng.random() < 0.1:
                    phone = f"{phone[:4]} {phone[4:7]} {phone[7:]}"
                consent_phone, consent_sms = "có", ("có" if rng.random() < 0.6 else "không")
                phones += 1
                consents += 1 + (consent_sms == "có")
            else:
                phone = ""
                consent_phone = consent_sms = "không" if rng.random() < 0.5 else ""
            lat = lon = ""
            if rng.random() < 0.3:  # decimal comma, as Vietnamese Excel writes it
                lat = f"{21.8 + rng.random() * 0.1:.6f}".replace(".", ",")
                lon = f"{105.15 + rng.random() * 0.1:.6f}".replace(".", ",")
            notes = rng.choice(NOTES) if rng.random() < 0.1 else ""
            members = rng.randint(1, 9)
            writer.writerow(
                [commune, village, head, address, phone, members, lat, lon, notes, consent_phone, consent_sms]
            )
    return {"rows": rows, "phones": phones, "consents": consents, "bytes": path.stat().st_size}


def setup_households_db(url: str, villages: list[tuple[str, list[str]]]) -> dict:
    """Tuyên Quang's legacy units and the benchmark's villages, in a freshly migrated database."""
    import sqlalchemy as sa

    from outreach.auth.models import Role, User
    from outreach.extensions import db
    from outreach.geo.models import AdminUnit, Level
    from outreach.geo.services import VillageInput, save_village
    from outreach.geo.units import import_units

    app = make_app(url)
    with app.app_context():
        stats = import_units("legacy", PROVINCE)
        admin = User(role=Role.ADMIN, username="bench.admin")  # never stored, like the CLI's system actor
        for code, names in villages:
            commune = db.session.scalar(
                sa.select(AdminUnit).where(AdminUnit.dataset == "legacy", AdminUnit.code == code)
            )
            for name in names:
                save_village(admin, commune, VillageInput(name=name))
        db.session.commit()
        stored = db.session.scalar(sa.select(sa.func.count()).where(AdminUnit.level == Level.VILLAGE))
    close(app)
    return {"units": stats.total_created, "villages": stored}


def households_child(kind: str, csv_path: str, url: str) -> None:
    """The measured import, alone in this fresh process; prints one JSON line for the parent."""
    reset_peak_rss()
    import sqlalchemy as sa

    from outreach.errors import ValidationError
    from outreach.extensions import db
    from outreach.geo.imports import import_households
    from outreach.geo.models import Consent, Household

    app = make_app(url)
    with app.app_context():
        db.session.execute(sa.text("SELECT 1"))  # connect (and load the driver) before measuring
        rss_before, peak_before = rss_mb(), peak_rss_mb()
        started = time.perf_counter()
        try:
            with open(csv_path, "rb") as stream:
                result = import_households(None, stream, Path(csv_path).name, now=NOW)
        except ValidationError as exc:
            lines = [f"{where}: {message}" for where, messages in exc.errors.items() for message in messages]
            print(
                json.dumps({"error": f"the import refused the file ({len(lines)} messages): " + " | ".join(lines[:3])})
            )
            return
        imported = time.perf_counter()
        db.session.commit()
        finished = time.perf_counter()
        peak = peak_rss_mb()
        count = sa.select(sa.func.count())
        households = db.session.scalar(count.select_from(Household))
        phones = db.session.scalar(count.select_from(Household).where(Household.phone.is_not(None)))
        consents = db.session.scalar(count.select_from(Consent))
    close(app)
    print(
        json.dumps(
            {
                "rows": result.rows,
                "seconds": finished - started,
                "import_seconds": imported - started,
                "commit_seconds": finished - imported,
                "rss_before_mb": rss_before,
                "peak_before_mb": peak_before,
                "peak_rss_mb": peak,
                "households": households,
                "phones": phones,
                "consents": consents,
            }
        )
    )


def bench_households(tmp: Path, quick: bool, selected_db: str) -> None:
    rows = HOUSEHOLDS_ROWS_QUICK if quick else HOUSEHOLDS_ROWS
    villages = bench_villages()
    csv_path = tmp / "ho-gia-dinh.csv"
    started = time.perf_counter()
    expected = write_households_csv(csv_path, rows, villages)
    print(
        f"households.csv rows={rows} with_phone={expected['phones']} consents={expected['consents']} "
        f"size_mb={expected['bytes'] / 1e6:.1f} communes={len(villages)} "
        f"villages={len(villages) * VILLAGES_PER_COMMUNE} generated_in={time.perf_counter() - started:.1f}s"
    )
    for kind in databases(selected_db):
        name = f"households.import {kind}"
        url = fresh_database(kind, tmp, "households")
        if url is None:
            print(f"{name} SKIP (PostgreSQL unreachable: {postgres_problem()})")
            continue
        setup = setup_households_db(url, villages)
        try:
            result = child("_households_child", kind, str(csv_path), url)
        except RuntimeError as exc:
            result = {"error": str(exc)}
        if "error" in result:
            print(f"{name} rows={rows} {verdict(False, name)}: {result['error']}")
            continue
        seconds, peak, before = result["seconds"], result["peak_rss_mb"], result["rss_before_mb"]
        stored = (result["households"], result["phones"], result["consents"])
        stored_ok = stored == (rows, expected["phones"], expected["consents"]) and result["rows"] == rows
        ok = stored_ok and seconds < HOUSEHOLDS_TARGET_S and peak < HOUSEHOLDS_TARGET_MB
        print(
            f"{name} rows={result['households']} seconds={seconds:.1f} peak_rss_mb={peak:.0f} "
            f"rss_before_mb={before:.0f} import_footprint_mb={peak - before:.0f} "
            f"(target <{HOUSEHOLDS_TARGET_S:g} s, <{HOUSEHOLDS_TARGET_MB:g} MB) {verdict(ok, name)}"
        )
        print(
            f"    import_households {result['import_seconds']:.1f} s + commit {result['commit_seconds']:.1f} s "
            f"= {rows / seconds:,.0f} rows/s; stored households/with phone/consents = {'/'.join(map(str, stored))} "
            f"(expected {rows}/{expected['phones']}/{expected['consents']}: {'match' if stored_ok else 'MISMATCH'}); "
            f"setup {setup['units']} units, {setup['villages']} villages"
        )


# --- shared by sync, walk and today: a commune in the field, and a live server ----------------

FIELD_BOUNDS = (21.82, 105.18, 21.85, 105.21)  # south, west, north, east: a ward of about 3.3 x 3.1 km
FIELD_PASSWORD = "bench-password-1"
MEMBER = "member.bench"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def add_unit(level: str, code: str, name: str, parent=None, bounds: tuple | None = None):
    """An administrative unit, made as tests/conftest.py's make_unit makes one."""
    from outreach.extensions import db
    from outreach.geo.models import AdminUnit, Level, unit_names

    kind, _sep, short = name.partition(" ") if level != Level.VILLAGE else ("Thôn", "", name.removeprefix("Thôn "))
    unit = AdminUnit(
        dataset="legacy",
        code=code,
        level=level,
        kind=kind,
        **unit_names(name, short),
        parent=parent,
        path=f"{parent.path if parent else 'legacy/'}{code}/",
    )
    if bounds:
        unit.south, unit.west, unit.north, unit.east = bounds
        unit.lat, unit.lon = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    db.session.add(unit)
    db.session.flush()
    return unit


def head_of_household(rng: random.Random) -> str:
    middle, given = (MIDDLE_F, GIVEN_F) if rng.random() < 0.35 else (MIDDLE_M, GIVEN_M)
    return f"{rng.choice(FAMILY)} {rng.choice(middle)} {rng.choice(given)}"


def setup_field(url: str, households: int, *, assigned: int, located: float = 1.0, phones: float = 0.6) -> dict:
    """A province > district > commune > village; a leader of the commune and a member of the village;
    ``households`` households of the village made with create_household, a share ``located`` of them
    with coordinates spread over the commune; the first ``assigned`` checked out to the member for
    today (assign_households); an API token for the member (issue_token)."""
    from outreach.auth.models import Role, User
    from outreach.auth.services import issue_token
    from outreach.extensions import db
    from outreach.geo.models import Level
    from outreach.geo.services import HouseholdInput, create_household
    from outreach.planning.services import assign_households
    from outreach.types import utcnow
    from outreach.web import local_today

    rng = random.Random(SEED)
    south, west, north, east = FIELD_BOUNDS
    app = make_app(url)
    started = time.perf_counter()
    with app.test_request_context():
        province = add_unit(Level.PROVINCE, "08", "Tỉnh Tuyên Quang")
        district = add_unit(Level.DISTRICT, "070", "Thành phố Tuyên Quang", province)
        commune = add_unit(Level.COMMUNE, "02216", "Phường Tân Hà", district, FIELD_BOUNDS)
        village = add_unit(Level.VILLAGE, "02216-001", "Thôn Phú Bình", commune)
        users = {}
        for username, role, unit in (("leader.bench", Role.LEADER, commune), (MEMBER, Role.MEMBER, village)):
            users[role] = User(username=username, role=role, scope_unit=unit, full_name=username.title())
            users[role].set_password(FIELD_PASSWORD)
            db.session.add(users[role])
        db.session.flush()
        leader, member = users[Role.LEADER], users[Role.MEMBER]
        ids = []
        for number in range(1, households + 1):
            lat = lon = None
            if rng.random() < located:
                lat, lon = south + rng.random() * (north - south), west + rng.random() * (east - west)
            phone = valid_mobile(rng) if rng.random() < phones else ""
            data = HouseholdInput(
                village_id=village.id,
                head_name=head_of_household(rng),
                address=f"Số {number}, tổ {number % 12 + 1}",
                phone=phone,
                members=rng.randint(1, 9),
                lat=lat,
                lon=lon,
                consent_store_phone=bool(phone),
                consent_sms=bool(phone) and rng.random() < 0.6,
            )
            ids.append(create_household(leader, data, now=NOW, confirm_duplicate=True).id)
        today = local_today()
        if assigned:
            assign_households(leader, member.id, ids[:assigned], due_on=today, now=utcnow())
        token = issue_token(member, label="bench", now=utcnow())
        db.session.commit()
        member_id = member.id
    close(app)
    seconds = time.perf_counter() - started
    return {"member_id": member_id, "household_ids": ids, "token": token, "today": today, "seconds": seconds}


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
        command = [sys.executable, str(Path(__file__).resolve()), "_serve", url, str(port), str(requests_path)]
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
            for key, value in {**options, "loglevel": "warning"}.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    Server().run()


def milliseconds(runs: list[float]) -> str:
    return f"median_ms={statistics.median(runs):.1f} max_ms={max(runs):.1f}"


# --- 3. visit sync --------------------------------------------------------------------------

SYNC_VISITS = 10_000
SYNC_VISITS_QUICK = 2_000
SYNC_BATCH = 500  # MAX_BATCH of the endpoint
SYNC_HOUSEHOLDS = 2_000
SYNC_TARGET_RATIO = 0.30
SYNC_CEILING_RUNS = 3
PROCEDURES = ["Đăng ký khai sinh", "Đăng ký thường trú", "Cấp đổi giấy phép lái xe", "Cấp phiếu lý lịch tư pháp"]
VISIT_NOTES = ["Hẹn quay lại buổi chiều", "Con trai đi làm xa, về cuối tuần", "Đã hướng dẫn cài VNeID cho cả nhà"]
VISIT_NOTES += ["Cần mang căn cước gắn chip lên xã", "Bà cụ nghe kém, nói chậm"]
OUTCOMES = {"helped": 60, "nobody_home": 20, "follow_up": 10, "refused": 6, "moved_away": 4}


def visit_payloads(count: int, household_ids: list[int], *, seed: int) -> list[dict]:
    """Visits as the phone sends them: a fresh UUID each, times of the last hours in Vietnam's time
    zone, realistic answers, 1 to 3 obstacles each (and "other" with its text now and then)."""
    from outreach.visits.models import Obstacle

    rng = random.Random(seed)
    codes = [o.value for o in Obstacle if o != Obstacle.OTHER]
    local = timezone(timedelta(hours=7))
    now = datetime.now(UTC)
    south, west, north, east = FIELD_BOUNDS
    visits = []
    for i in range(count):
        moment = (now - timedelta(minutes=rng.randint(5, 600))).astimezone(local)
        outcome = rng.choices(list(OUTCOMES), list(OUTCOMES.values()))[0]
        visit = {
            "client_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "household_id": household_ids[i % len(household_ids)],
            "device_time": moment.isoformat(timespec="seconds"),
            "outcome": outcome,
        }
        if outcome in ("helped", "follow_up"):
            bands = [rng.randint(0, 2), rng.randint(0, 2), rng.randint(0, 1)]
            bands[1] += not sum(bands)
            visit.update(people_helped=sum(bands), helped_under_30=bands[0], helped_30_to_59=bands[1])
            visit.update(helped_60_plus=bands[2], vneid_installed=True, vneid_level1=rng.random() < 0.7)
            visit.update(referred_level2=rng.random() < 0.2, portal_login=rng.random() < 0.3)
            visit.update(fee_payment_setup=rng.random() < 0.1, guide_given=rng.choice(["", "printed", "sms"]))
            if rng.random() < 0.2:
                visit.update(procedure_submitted=True, procedure=rng.choice(PROCEDURES))
        if outcome == "follow_up":
            visit["follow_up_on"] = (moment.date() + timedelta(days=rng.randint(1, 14))).isoformat()
        visit["obstacles"] = rng.sample(codes, rng.randint(1, 3))
        if rng.random() < 0.1:
            visit["obstacles"].append(Obstacle.OTHER.value)
            visit["obstacle_other"] = "Mất điện cả thôn"
        if rng.random() < 0.5:
            lat, lon = south + rng.random() * (north - south), west + rng.random() * (east - west)
            visit.update(location_consent=True, location={"lat": lat, "lon": lon, "accuracy": rng.randint(5, 40)})
        if rng.random() < 0.3:
            visit["notes"] = rng.choice(VISIT_NOTES)
        visits.append(visit)
    return visits


def sync_over_http(base: str, token: str, visits: list[dict]) -> dict:
    """POST the visits in batches of SYNC_BATCH, one after the other, as one phone catching up."""
    bodies = [json.dumps({"visits": visits[i : i + SYNC_BATCH]}).encode() for i in range(0, len(visits), SYNC_BATCH)]
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    statuses: collections.Counter = collections.Counter()
    latencies = []
    started = time.perf_counter()
    for body in bodies:
        sent = time.perf_counter()
        request = urllib.request.Request(f"{base}/api/v1/visits/sync", data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=600) as answer:
            statuses.update(r["status"] for r in json.loads(answer.read())["results"])
        latencies.append(time.perf_counter() - sent)
    return {"seconds": time.perf_counter() - started, "latencies": latencies, "statuses": statuses}


def visit_rows(visits: list[dict], member_id: int) -> tuple[list[dict], list[list[dict]]]:
    """The visit_record and visit_obstacle rows the endpoint stores for these visits (via check_visit),
    with ids given here so each batch is one executemany per table."""
    from outreach.types import utcnow
    from outreach.visits.services import check_visit

    now = utcnow()
    records, obstacles = [], []
    for number, payload in enumerate(visits, start=1):
        values, errors = check_visit(payload, now)
        if errors:
            raise RuntimeError(f"the generated visit {number} is invalid: {errors}")
        obstacles.append([{"visit_id": number, "code": code} for code in values.pop("obstacles")])
        values.pop("supersedes")
        records.append({**values, "id": number, "member_id": member_id, "server_time": now, "supersedes_id": None})
    return records, obstacles


def visit_counts() -> tuple[int, int]:
    import sqlalchemy as sa

    from outreach.extensions import db
    from outreach.visits.models import VisitObstacle, VisitRecord

    count = sa.select(sa.func.count())
    return db.session.scalar(count.select_from(VisitRecord)), db.session.scalar(count.select_from(VisitObstacle))


def empty_visits() -> None:
    import sqlalchemy as sa

    from outreach.extensions import db
    from outreach.visits.models import VisitObstacle, VisitRecord

    db.session.remove()
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # CASCADE: tables that may point at visits (the SMS outbox, follow-up tasks) hold none here.
            conn.execute(sa.text("TRUNCATE visit_obstacle, visit_record RESTART IDENTITY CASCADE"))
        else:
            conn.execute(sa.delete(VisitObstacle.__table__))
            conn.execute(sa.delete(VisitRecord.__table__))


def sync_ceiling(url: str, visits: list[dict], member_id: int) -> dict:
    """Count what the endpoint stored; then, SYNC_CEILING_RUNS times, empty the tables and insert the same
    rows directly: one Core executemany per SYNC_BATCH visits into visit_record, one into visit_obstacle,
    one commit. The best run is the ceiling."""
    import sqlalchemy as sa

    from outreach.extensions import db
    from outreach.planning.models import Assignment
    from outreach.visits.models import VisitObstacle, VisitRecord

    app = make_app(url)
    with app.test_request_context():
        stored = visit_counts()
        still_open = db.session.scalar(
            sa.select(sa.func.count()).select_from(Assignment).where(Assignment.released_at.is_(None))
        )
        records, obstacles = visit_rows(visits, member_id)
        runs = []
        for _run in range(SYNC_CEILING_RUNS):
            empty_visits()
            started = time.perf_counter()
            for i in range(0, len(records), SYNC_BATCH):
                with db.engine.begin() as conn:
                    conn.execute(sa.insert(VisitRecord.__table__), records[i : i + SYNC_BATCH])
                    rows = [o for v in obstacles[i : i + SYNC_BATCH] for o in v]
                    conn.execute(sa.insert(VisitObstacle.__table__), rows)
            runs.append(time.perf_counter() - started)
        inserted = visit_counts()
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # the ids were given: move the sequence past them
                conn.execute(
                    sa.text("SELECT setval(pg_get_serial_sequence('visit_record', 'id'), :n)"), {"n": len(records)}
                )
    close(app)
    return {"stored": stored, "still_open": still_open, "seconds": min(runs), "runs": runs, "inserted": inserted}


def bench_sync(tmp: Path, quick: bool, selected_db: str) -> None:
    count = SYNC_VISITS_QUICK if quick else SYNC_VISITS
    for kind in databases(selected_db):
        name = f"sync.endpoint {kind}"
        url = fresh_database(kind, tmp, "sync")
        if url is None:
            print(f"{name} SKIP (PostgreSQL unreachable: {postgres_problem()})")
            continue
        setup = setup_field(url, SYNC_HOUSEHOLDS, assigned=SYNC_HOUSEHOLDS, located=0.3)
        visits = visit_payloads(count, setup["household_ids"], seed=SEED + 1)
        expected = (count, sum(len(set(v["obstacles"])) for v in visits))
        try:
            with live_server(url, tmp, f"sync-{kind}") as (base, _requests):
                sent = sync_over_http(base, setup["token"], visits)
            result = sync_ceiling(url, visits, setup["member_id"])
        except (RuntimeError, OSError) as exc:
            print(f"{name} visits={count} {verdict(False, name)}: {exc}")
            continue
        endpoint_rate, ceiling_rate = count / sent["seconds"], count / result["seconds"]
        ratio = endpoint_rate / ceiling_rate
        stored_ok = sent["statuses"] == {"created": count} and result["stored"] == expected
        stored_ok = stored_ok and result["inserted"] == expected and result["still_open"] == 0
        ok = stored_ok and ratio >= SYNC_TARGET_RATIO
        print(
            f"{name} visits={count} seconds={sent['seconds']:.1f} records_per_s={endpoint_rate:,.0f} "
            f"ceiling_per_s={ceiling_rate:,.0f} ratio={ratio:.1%} "
            f"(target >={SYNC_TARGET_RATIO:.0%} of the ceiling) {verdict(ok, name)}"
        )
        statuses = ", ".join(f"{n} {status}" for status, n in sorted(sent["statuses"].items()))
        print(
            f"    endpoint: {len(sent['latencies'])} POSTs of {SYNC_BATCH} over HTTP to {server_kind()} "
            f"(1 worker), per request {milliseconds([s * 1000 for s in sent['latencies']])}; {statuses}; "
            f"stored visit_record/visit_obstacle = {'/'.join(map(str, result['stored']))} "
            f"(expected {'/'.join(map(str, expected))}: {'match' if stored_ok else 'MISMATCH'}), "
            f"open assignments left {result['still_open']}"
        )
        print(
            f"    ceiling: the same rows by Core executemany, {SYNC_BATCH} visits + their obstacles per "
            f"transaction, best of {SYNC_CEILING_RUNS} runs {result['seconds']:.2f} s "
            f"(runs {', '.join(f'{r:.2f}' for r in result['runs'])} s; inserted "
            f"{'/'.join(map(str, result['inserted']))}); "
            f"setup {len(setup['household_ids'])} households assigned to the member in {setup['seconds']:.1f} s"
        )
        if ratio < SYNC_TARGET_RATIO:
            for line in sync_profile(url, setup):
                print(f"    profile: {line}")


PROFILE_LABELS = {
    "flush": "Session.flush (the ORM INSERTs of the visit and its obstacles)",
    "get_household": "get_household (scope check, one SELECT per record)",
    "_close_assignment": "_close_assignment (one UPDATE per record)",
    "scalar": "Session.scalar (the client_id duplicate SELECT)",
    "__exit__": "leaving begin_nested (RELEASE SAVEPOINT)",
    "begin_nested": "begin_nested (SAVEPOINT)",
    "check_visit": "check_visit (validation)",
}


def sync_profile(url: str, setup: dict) -> list[str]:
    """Where the endpoint's time goes, on two more batches of SYNC_BATCH through the Flask test client in
    this process: one with the database calls timed by kind (engine events), one under cProfile for the
    shares of what record_visit calls."""
    import cProfile
    import pstats

    import sqlalchemy as sa

    from outreach.extensions import db

    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {setup['token']}"}
    app = make_app(url)
    client = app.test_client()
    client.get("/healthz")  # the first request and connection are not measured
    with app.app_context():
        engine = db.engine
    calls: dict[str, list] = collections.defaultdict(lambda: [0, 0.0])

    def before(conn, _cursor, _statement, _parameters, _context, _executemany):
        conn.info["bench_started"] = time.perf_counter()

    def after(conn, _cursor, statement, _parameters, _context, _executemany):
        words = statement.split()
        kind = " ".join(words[:2] if words[0] in ("SAVEPOINT", "RELEASE", "ROLLBACK") else words[:3])
        calls[kind][0] += 1
        calls[kind][1] += time.perf_counter() - conn.info.pop("bench_started")

    lines = []
    for seed in (SEED + 2, SEED + 3):
        body = json.dumps({"visits": visit_payloads(SYNC_BATCH, setup["household_ids"], seed=seed)}).encode()
        profiler = cProfile.Profile() if seed == SEED + 3 else None
        if profiler is None:
            sa.event.listen(engine, "before_cursor_execute", before)
            sa.event.listen(engine, "after_cursor_execute", after)
        else:
            profiler.enable()
        started = time.perf_counter()
        answer = client.post("/api/v1/visits/sync", data=body, headers=headers)
        seconds = time.perf_counter() - started
        if profiler is None:
            sa.event.remove(engine, "before_cursor_execute", before)
            sa.event.remove(engine, "after_cursor_execute", after)
        else:
            profiler.disable()
        statuses = collections.Counter(r["status"] for r in (answer.get_json() or {}).get("results", []))
        if answer.status_code != 200 or statuses != {"created": SYNC_BATCH}:
            close(app)
            return [f"the profiled request answered {answer.status_code}: {dict(statuses)}"]
        if profiler is None:
            in_db = sum(t for _n, t in calls.values())
            count = sum(n for n, _t in calls.values())
            top = sorted(calls.items(), key=lambda item: -item[1][1])[:6]
            lines.append(
                f"one POST of {SYNC_BATCH} in-process: {seconds:.2f} s, of which {in_db:.2f} s ({in_db / seconds:.0%}) "
                f"in {count:,} database calls: " + ", ".join(f"{k} {t:.2f} s ({n})" for k, (n, t) in top)
            )
        else:
            lines.append(f"another under cProfile: {seconds:.2f} s; what record_visit calls, as a share of that time:")
            children = []
            for (path, line, function), (*_counts, callers) in pstats.Stats(profiler).stats.items():
                for caller, (_cc, ncalls, _tt, cumtime) in callers.items():
                    if caller[2] == "record_visit" and cumtime / seconds >= 0.01:
                        where = f"{Path(path).parent.name}/{Path(path).name}:{line}"
                        children.append((cumtime, ncalls, f"{PROFILE_LABELS.get(function, function)} [{where}]"))
            for cumtime, ncalls, label in sorted(children, reverse=True):
                lines.append(f"  {cumtime / seconds:4.0%} {label}, {ncalls} calls")
    close(app)
    return lines


# --- 4. walk list ----------------------------------------------------------------------------

WALK_STOPS = 300
WALK_RUNS = 20
WALK_RUNS_QUICK = 5
WALK_TARGET_MS = 200.0
WALK_START = (21.8185, 105.1790)  # just outside the ward's south-west corner, where the main road comes in


def walk_stops(count: int) -> list:
    from outreach.planning.route import Stop

    rng = random.Random(SEED + 4)
    south, west, north, east = FIELD_BOUNDS
    return [Stop(i, south + rng.random() * (north - south), west + rng.random() * (east - west)) for i in range(count)]


def path_km(points: list[tuple[float, float]]) -> float:
    from geopy.distance import geodesic

    return sum(geodesic(a, b).meters for a, b in itertools.pairwise(points)) / 1000


def timed_ms(function, runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each of ``runs`` calls, after one warm-up call that is not counted;
    a garbage collection before each run."""
    function()
    wall, cpu = [], []
    for _ in range(runs):
        gc.collect()  # each run starts without the garbage of the previous one
        started, cpu_started = time.perf_counter(), time.process_time()
        function()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    return wall, cpu


def walk_verdict(name: str, wall: list[float], cpu: list[float], ok: bool = True) -> str:
    """Under target: the wall-clock median, and the slowest run in CPU time. The wall-clock maximum is
    printed too, but other processes on the machine can stretch it: the input is the same every run."""
    ok = ok and statistics.median(wall) < WALK_TARGET_MS and max(cpu) < WALK_TARGET_MS
    return (
        f"{milliseconds(wall)} cpu_max_ms={max(cpu):.1f} "
        f"(target <{WALK_TARGET_MS:g} ms: median, and max in CPU time) {verdict(ok, name)}"
    )


def bench_walk(tmp: Path, quick: bool, selected_db: str) -> None:
    """walk_order on 300 stops spread over a ward, then walk_list (query + ordering) for a member."""
    from outreach.planning.route import walk_order

    runs = WALK_RUNS_QUICK if quick else WALK_RUNS
    stops = walk_stops(WALK_STOPS)
    listed_km = path_km([(s.lat, s.lon) for s in stops])
    for label, start in (("no-start", None), ("from-position", WALK_START)):
        name = f"walk.order {label}"
        wall, cpu = timed_ms(functools.partial(walk_order, stops, start), runs)
        ordered = walk_order(stops, start)
        complete = sorted(s.key for s, _leg in ordered) == list(range(WALK_STOPS))
        walked_km = sum(leg for _s, leg in ordered if leg is not None) / 1000
        print(
            f"{name} stops={WALK_STOPS} runs={runs} walk_km={walked_km:.1f} (list order {listed_km:.0f} km) "
            f"{walk_verdict(name, wall, cpu, complete)}"
        )
    for kind in databases(selected_db):
        name = f"walk.list {kind}"
        url = fresh_database(kind, tmp, "walk")
        if url is None:
            print(f"{name} SKIP (PostgreSQL unreachable: {postgres_problem()})")
            continue
        setup = setup_field(url, WALK_STOPS, assigned=WALK_STOPS)
        result = walk_list_times(url, setup, runs)
        complete = result["stops"] == WALK_STOPS and result["legs"] == WALK_STOPS - 1
        print(
            f"{name} households={result['stops']} runs={runs} "
            f"{walk_verdict(name, result['wall'], result['cpu'], complete)}"
        )
        print(
            f"    walk_list(member, today=..., position=None): the query of the open assignments with their "
            f"households, then walk_order; a new session each run; {result['legs']} legs "
            f"({result['walked_km']:.1f} km); setup {setup['seconds']:.1f} s"
        )


def walk_list_times(url: str, setup: dict, runs: int) -> dict:
    from outreach.auth.models import User
    from outreach.extensions import db
    from outreach.planning.services import walk_list

    app = make_app(url)
    wall, cpu = [], []
    with app.test_request_context():
        for _ in range(runs + 1):  # the first run warms up and is not counted
            db.session.remove()  # each run as a new request: nothing in the identity map
            member = db.session.get(User, setup["member_id"])
            gc.collect()
            started, cpu_started = time.perf_counter(), time.process_time()
            stops = walk_list(member, today=setup["today"])
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
        legs = [s.leg_m for s in stops if s.leg_m is not None]
    close(app)
    return {"wall": wall[1:], "cpu": cpu[1:], "stops": len(stops), "legs": len(legs), "walked_km": sum(legs) / 1000}


# --- 5. the "Today" page on a phone ----------------------------------------------------------

TODAY_HOUSEHOLDS = 30
TODAY_TARGET_KB = 150.0  # 1 KB = 1,000 bytes


KINDS = {"text/html": "html", "text/css": "css", "text/javascript": "js", "application/javascript": "js"}
KINDS |= {"application/json": "json", "application/manifest+json": "manifest"}


def bench_today(tmp: Path, quick: bool, selected_db: str) -> None:
    """Bytes of the member's first load of /today in a fresh Chromium context, service worker included."""
    name = "today.first_load"
    if not Path(CHROMIUM).exists():
        print(f"{name} SKIP ({CHROMIUM} is not installed)")
        return
    url = fresh_database("sqlite", tmp, "today")  # the bytes do not depend on the database
    setup = setup_field(url, TODAY_HOUSEHOLDS, assigned=TODAY_HOUSEHOLDS, located=0.8)
    try:
        with live_server(url, tmp, "today") as (base, requests_path):
            result = first_load(base, requests_path)
    except Exception as exc:  # any failure of the browser run is a failed figure
        print(f"{name} {verdict(False, name)}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return
    rows = result["rows"]
    page = [r for r in rows if not r["worker"]]
    worker = [r for r in rows if r["worker"]]
    total = sum(r["bytes"] for r in rows)
    ok = total < TODAY_TARGET_KB * 1000 and result["households"] == TODAY_HOUSEHOLDS and result["sw"] == "ready"
    print(
        f"{name} households={result['households']} bytes={total:,} ({total / 1000:.1f} KB) responses={len(rows)}: "
        f"page {kb(page)} + service worker install {kb(worker)} "
        f"(target <{TODAY_TARGET_KB:g} KB, service worker counted) {verdict(ok, name)}"
    )
    print(f"    by type: {by_kind(rows)}")
    print(f"    page by type: {by_kind(page)}")
    print(f"    service worker by type: {by_kind(worker)}")
    for label, group in (("page", page), ("service worker", worker)):
        print(f"    {label}: " + ", ".join(f"{r['path']} {r['bytes']:,}" + status(r) for r in group))
    print(
        f"    body bytes as the server sent them (Content-Encoding none, response headers not counted); "
        f"the browser answered {result['cached']} requests from its cache without asking; "
        f"the service worker is {result['sw']}; setup {setup['seconds']:.1f} s"
    )
    if result["unfetched"]:
        print(f"    referenced by the page but fetched by nobody: {', '.join(result['unfetched'])}")


def status(row: dict) -> str:
    return "" if row["status"] == 200 else f" ({row['status']})"


def kb(rows: list[dict]) -> str:
    return f"{sum(r['bytes'] for r in rows) / 1000:.1f} KB"


def by_kind(rows: list[dict]) -> str:
    groups: dict[str, list[dict]] = collections.defaultdict(list)
    for row in rows:
        groups[row["kind"]].append(row)
    ordered = sorted(groups.items(), key=lambda item: -sum(r["bytes"] for r in item[1]))
    return ", ".join(f"{kind} {kb(group)} ({len(group)})" for kind, group in ordered) or "nothing"


def first_load(base: str, requests_path: Path) -> dict:
    """Log the member in through the login form (outside what is counted), then open /today in a fresh
    phone-sized context, and wait until the service worker is ready and the network is quiet.

    The bytes are the server's (ByteLog): Playwright cannot read the bodies of the service worker's
    fetches. The browser's events say which requests the service worker made: server lines and browser
    responses are matched by path, in order."""
    from playwright.sync_api import sync_playwright

    responses = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(**PHONE)
            form = context.request.get(f"{base}/login").text()
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form) or re.search(
                r'value="([^"]+)"[^>]*name="csrf_token"', form
            )
            fields = {"username": MEMBER, "password": FIELD_PASSWORD, "csrf_token": token.group(1) if token else ""}
            answer = context.request.post(f"{base}/login", form=fields, max_redirects=0)
            if answer.status != 302:
                raise RuntimeError(f"login answered {answer.status}, not a redirect")
            already = len(requests_path.read_text().splitlines())
            context.on("response", lambda response: responses.append(response))
            page = context.new_page()
            page.goto(f"{base}/today", wait_until="load")
            page.wait_for_function("document.documentElement.dataset.sw === 'ready'", timeout=20_000)
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(1500)  # the last responses are logged
            sw = page.evaluate("document.documentElement.dataset.sw")
            households = page.locator("#walk-list li").count()
            referenced = page.evaluate(
                "[...document.querySelectorAll('link[href], script[src], img[src]')].map(e => e.href || e.src)"
            )
            seen = [(urllib.parse.urlsplit(r.url).path, r.request.service_worker is not None) for r in responses]
        finally:
            browser.close()
    served = [json.loads(line) for line in requests_path.read_text().splitlines()[already:]]
    by_path: dict[str, collections.deque] = collections.defaultdict(collections.deque)
    for path, worker in seen:
        by_path[path].append(worker)
    rows = []
    for entry in served:
        waiting = by_path[entry["path"]]
        worker = waiting.popleft() if waiting else entry["dest"] in ("serviceworker", "empty")
        kind = "not modified" if entry["status"] == 304 else KINDS.get(entry["type"], entry["type"].split("/")[0])
        rows.append({**entry, "worker": worker, "kind": kind})
    fetched = {row["path"] for row in rows}
    unfetched = sorted({urllib.parse.urlsplit(u).path for u in referenced} - fetched)
    cached = sum(len(waiting) for waiting in by_path.values())
    return {"rows": rows, "households": households, "sw": sw, "unfetched": unfetched, "cached": cached}


# --- main ------------------------------------------------------------------------------------

# --- 6. coverage maps -------------------------------------------------------------------------

MAPS_HOUSEHOLDS = 5_000
MAP_TARGET_S = 1.0
PROVINCE_TARGET_BYTES = 1_000_000
LAYER_TARGET_BYTES = 2_000_000


def bench_maps(tmp: Path, quick: bool, selected_db: str) -> None:
    """The province map of the demo (137 communes) and a commune's household layer of 5,000 households,
    against one folium.Marker per household."""
    import sqlalchemy as sa

    from outreach.auth.models import Role, User
    from outreach.demo.seed import seed_demo
    from outreach.extensions import db
    from outreach.geo.models import AdminUnit, Household, Level
    from outreach.maps import builders, services
    from outreach.text import fold

    for kind in databases(selected_db):
        url = fresh_database(kind, tmp, "maps")
        if url is None:
            print(f"maps {kind} SKIP (PostgreSQL unreachable)")
            continue
        app = make_app(url)
        with app.app_context(), app.test_request_context():
            seed_demo(now=NOW)
            commune = db.session.scalar(
                sa.select(AdminUnit).where(AdminUnit.dataset == "legacy", AdminUnit.code == "02383")
            )
            villages = db.session.scalars(sa.select(AdminUnit).where(AdminUnit.parent_id == commune.id)).all()
            rng = random.Random(SEED)
            rows = []
            for n in range(MAPS_HOUSEHOLDS):
                village = villages[n % len(villages)]
                name = head_of_household(rng)
                rows.append({
                    "village_id": village.id, "head_name": name, "head_name_folded": fold(name),
                    "address": f"{n} ngõ {n % 40}", "address_folded": f"{n} ngo {n % 40}", "members": 3, "notes": "",
                    "lat": village.lat + rng.gauss(0, 0.004), "lon": village.lon + rng.gauss(0, 0.004),
                    "created_at": NOW, "updated_at": NOW,
                })  # fmt: skip
            db.session.execute(sa.insert(Household.__table__), rows)
            db.session.commit()
            # Planner statistics, as `demo seed` leaves them and autovacuum would on a live server.
            with db.engine.begin() as conn:  # ANALYZE may run in a transaction (VACUUM may not)
                conn.execute(sa.text("ANALYZE"))
            admin = db.session.scalar(sa.select(User).where(User.role == Role.ADMIN))
            leader = db.session.scalar(sa.select(User).where(User.username == "lanhdao.minhkhuong"))
            province = db.session.scalar(
                sa.select(AdminUnit).where(AdminUnit.dataset == "legacy", AdminUnit.level == Level.PROVINCE)
            )
            tiles = {"tiles_url": app.config["MAP_TILES_URL"], "attribution": app.config["MAP_TILES_ATTRIBUTION"]}

            start = time.perf_counter()
            units = services.coverage(admin, province, Level.COMMUNE)
            shapes = [
                builders.UnitShape(u.id, u.name, u.lat, u.lon, u.boundary, u.households, u.share("visited"), "", "")
                for u in units
            ]
            parts = builders.coverage_map(shapes, drill_url=lambda i: f"/maps/units/{i}", **tiles)
            seconds = time.perf_counter() - start
            ok = seconds < MAP_TARGET_S and parts.size < PROVINCE_TARGET_BYTES
            print(
                f"maps.province {kind} communes={len(units)} seconds={seconds:.2f} html_kb={parts.size / 1000:.0f} "
                f"(target <1 s, <1 MB) {verdict(ok, f'maps.province {kind}')}"
            )

            start = time.perf_counter()
            points = services.household_points(leader, commune, today=NOW.date())
            dots = [
                builders.HouseholdDot(p.lat, p.lon, p.status, f"{p.name} · {p.address}", f"/households/{p.id}")
                for p in points
            ]
            obstacles = services.obstacle_points(leader, commune)
            fast = builders.field_map(
                dots, obstacles, households_name="Hộ", open_label="Mở", obstacle_names={}, **tiles
            )
            fast_s = time.perf_counter() - start
            start = time.perf_counter()
            naive = builders.naive_household_map(dots, **tiles)
            naive_s = time.perf_counter() - start
            ok = fast_s < MAP_TARGET_S and fast.size < LAYER_TARGET_BYTES
            print(
                f"maps.households {kind} households={len(dots)} seconds={fast_s:.2f} html_kb={fast.size / 1000:.0f} "
                f"(target <1 s, <2 MB) {verdict(ok, f'maps.households {kind}')}"
            )
            print(
                f"    one folium.Marker per household: seconds={naive_s:.2f} html_kb={naive.size / 1000:.0f}; "
                f"clustered layer is {naive_s / max(fast_s, 1e-9):.1f}x faster "
                f"and {naive.size / fast.size:.1f}x smaller"
            )
        close(app)


# --- statistics: a million dossiers, and the impact report over 36 months --------------------

DOSSIER_ROWS = 1_000_000
DOSSIER_ROWS_QUICK = 100_000
DOSSIER_TARGET_S = 60.0
DOSSIER_TARGET_MB = 300.0
IMPACT_MONTHS = 36
IMPACT_TARGET_MS = 500.0


def province_agencies(url: str) -> list[str]:
    """Tuyên Quang's legacy units in the database, and the committees' names as an export writes them."""
    import sqlalchemy as sa

    from outreach.extensions import db
    from outreach.geo.models import AdminUnit, Level
    from outreach.geo.units import import_units

    app = make_app(url)
    with app.app_context():
        import_units("legacy", PROVINCE)
        db.session.commit()
        units = db.session.scalars(
            sa.select(AdminUnit).where(AdminUnit.level.in_([Level.COMMUNE, Level.DISTRICT])).order_by(AdminUnit.code)
        ).all()
        communes = [u for u in units if u.level == Level.COMMUNE]
        twice = {n for n, k in collections.Counter(u.short_name for u in communes).items() if k > 1}
        # Two communes of one name are told apart by their district, as exports do.
        names = [
            f"UBND {(u.kind or 'xã').lower()} {u.short_name}"
            + (f", {u.parent.name.lower()}" if u.short_name in twice else "")
            for u in communes
        ]
        names += [f"UBND {u.name[0].lower()}{u.name[1:]}" for u in units if u.level == Level.DISTRICT]
    close(app)
    return names


def write_dossiers_csv(path: Path, rows: int, agencies: list[str]) -> dict:
    """One row per dossier, as a case-handling system exports them: code, agency, received at, channel, level."""
    rng = random.Random(SEED)
    start = datetime(2023, 11, 1, 7, 0)
    span = 36 * 30 * 24 * 3600
    channels = ["Trực tuyến"] * 45 + ["Trực tiếp"] * 50 + ["Bưu chính"] * 5
    online = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("Mã hồ sơ;Đơn vị tiếp nhận;Ngày tiếp nhận;Kênh tiếp nhận;Mức độ\n")
        for number in range(rows):
            when = start + timedelta(seconds=rng.randrange(span))
            channel = rng.choice(channels)
            online += channel == "Trực tuyến"
            level = rng.choice(("Toàn trình", "Một phần")) if channel == "Trực tuyến" else ""
            out.write(f"H{number:08d};{rng.choice(agencies)};{when:%d/%m/%Y %H:%M};{channel};{level}\n")
    return {"rows": rows, "online": online, "bytes": path.stat().st_size}


def dossiers_child(kind: str, csv_path: str, url: str) -> None:
    """The measured per-dossier import, alone in this fresh process; prints one JSON line."""
    reset_peak_rss()
    import sqlalchemy as sa

    from outreach.extensions import db
    from outreach.geo.models import AdminUnit, Level
    from outreach.reports.imports import import_statistics
    from outreach.reports.models import SubmissionStat

    app = make_app(url)
    with app.app_context():
        province = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.level == Level.PROVINCE))
        rss_before, peak_before = rss_mb(), peak_rss_mb()
        started = time.perf_counter()
        with open(csv_path, "rb") as stream:
            result = import_statistics(None, stream, Path(csv_path).name, province=province, now=NOW)
        db.session.commit()
        seconds = time.perf_counter() - started
        peak = peak_rss_mb()
        total, online = db.session.execute(
            sa.select(sa.func.sum(SubmissionStat.total), sa.func.sum(SubmissionStat.online))
        ).one()
    close(app)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_rss_mb": peak,
                "rss_before_mb": rss_before,
                "peak_before_mb": peak_before,
                "stat_rows": result.rows,
                "unresolved": len(result.unresolved),
                "total": int(total or 0),
                "online": int(online or 0),
            }
        )
    )


def bench_dossiers(tmp: Path, quick: bool, selected_db: str) -> None:
    rows = DOSSIER_ROWS_QUICK if quick else DOSSIER_ROWS
    csv_path = tmp / "ho-so.csv"
    agencies = None
    for kind in databases(selected_db):
        name = f"dossiers.import {kind}"
        url = fresh_database(kind, tmp, "dossiers")
        if url is None:
            print(f"{name} SKIP (PostgreSQL unreachable: {postgres_problem()})")
            continue
        names = province_agencies(url)
        if agencies is None:
            agencies = names
            started = time.perf_counter()
            expected = write_dossiers_csv(csv_path, rows, agencies)
            print(
                f"dossiers.csv rows={rows} online={expected['online']} agencies={len(agencies)} months=36 "
                f"size_mb={expected['bytes'] / 1e6:.1f} generated_in={time.perf_counter() - started:.1f}s"
            )
        result = child("_dossiers_child", kind, str(csv_path), url)
        seconds, peak = result["seconds"], result["peak_rss_mb"]
        stored_ok = (result["total"], result["online"]) == (rows, expected["online"])
        ok = stored_ok and seconds < DOSSIER_TARGET_S and peak < DOSSIER_TARGET_MB
        print(
            f"{name} rows={rows} seconds={seconds:.1f} peak_rss_mb={peak:.0f} "
            f"import_footprint_mb={peak - result['rss_before_mb']:.0f} "
            f"(target <{DOSSIER_TARGET_S:g} s, <{DOSSIER_TARGET_MB:g} MB) {verdict(ok, name)}"
        )
        print(
            f"    {rows / seconds:,.0f} dossiers/s into {result['stat_rows']} agency-months; stored total/online = "
            f"{result['total']}/{result['online']} ({'match' if stored_ok else 'MISMATCH'}); "
            f"{result['unresolved']} agency names left for a person to match"
        )


def setup_impact(url: str, rng: random.Random) -> dict:
    """Units, one village and 50 households per commune, visits in a third of the communes, and 36 months of
    summary statistics for every committee (imported through the importer)."""
    import io

    import sqlalchemy as sa

    from outreach.auth.models import Role, User
    from outreach.extensions import db
    from outreach.geo.models import AdminUnit, Household, Level, unit_names
    from outreach.planning.models import Campaign
    from outreach.reports.imports import import_statistics
    from outreach.visits.models import VisitRecord

    names = province_agencies(url)
    app = make_app(url)
    with app.app_context():
        province = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.level == Level.PROVINCE))
        communes = db.session.scalars(
            sa.select(AdminUnit).where(AdminUnit.level == Level.COMMUNE).order_by(AdminUnit.code)
        ).all()
        villages = []
        for commune in communes:
            village = AdminUnit(
                dataset="legacy", code=f"{commune.code}-001", level=Level.VILLAGE, kind="Thôn",
                **unit_names("Thôn Một", "Một"), parent_id=commune.id, path=f"{commune.path}{commune.code}-001/",
            )  # fmt: skip
            villages.append(village)
        db.session.add_all(villages)
        db.session.flush()
        member = User(username="bench.member", role=Role.MEMBER, full_name="Bench", scope_unit_id=villages[0].id)
        member.set_password("x")
        db.session.add(member)
        db.session.flush()
        db.session.execute(
            sa.insert(Household),
            [
                {"village_id": v.id, "head_name": f"Hộ {n}", "head_name_folded": f"ho {n}", "members": 4}
                for v in villages
                for n in range(50)
            ],
        )
        treated = {c.id for c in communes[: len(communes) // 3]}
        homes = db.session.execute(
            sa.select(Household.id, AdminUnit.parent_id).join(AdminUnit, AdminUnit.id == Household.village_id)
        ).all()
        first = datetime(2025, 11, 3, 2, 0, tzinfo=UTC)
        visits = [
            {
                "client_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "household_id": home_id,
                "member_id": member.id,
                "device_time": first + timedelta(days=rng.randint(0, 90)),
                "server_time": NOW,
                "outcome": "helped",
                "people_helped": 2,
                "vneid_level1": rng.random() < 0.7,
            }
            for home_id, commune_id in homes
            if commune_id in treated and rng.random() < 0.6
        ]
        db.session.execute(sa.insert(VisitRecord), visits)
        for commune in communes[: len(communes) // 3]:
            db.session.add(
                Campaign(
                    commune_id=commune.id,
                    name="Ra quân",
                    starts_on=first.date(),
                    ends_on=first.date() + timedelta(days=90),
                )
            )
        lines = ["Tên đơn vị;Tháng;Tổng số hồ sơ;Hồ sơ trực tuyến"]
        months = [(2023 + (10 + m) // 12, (10 + m) % 12 + 1) for m in range(IMPACT_MONTHS)]  # 11/2023 .. 10/2026
        for name in names:
            for year, month in months:
                total = rng.randint(40, 900)
                lines.append(f"{name};{month:02d}/{year};{total};{int(total * rng.uniform(0.2, 0.7))}")
        import_statistics(None, io.BytesIO("\n".join(lines).encode()), "bench.csv", province=province, now=NOW)
        db.session.commit()
        # The households and visits went in by bulk insert: give the planner its statistics, as
        # autovacuum would on a live server, so the figures measure the queries, not stale estimates.
        with db.engine.begin() as conn:  # ANALYZE may run in a transaction (VACUUM may not)
            conn.execute(sa.text("ANALYZE"))
        result = {
            "communes": len(communes),
            "stat_rows": len(lines) - 1,
            "visits": len(visits),
            "treated": len(treated),
        }
    close(app)
    return result


def bench_impact(tmp: Path, quick: bool, selected_db: str) -> None:
    import sqlalchemy as sa

    from outreach.auth.models import Role, User
    from outreach.extensions import db
    from outreach.geo.models import AdminUnit, Level
    from outreach.reports import services

    for kind in databases(selected_db):
        name = f"impact.report {kind}"
        url = fresh_database(kind, tmp, "impact")
        if url is None:
            print(f"{name} SKIP (PostgreSQL unreachable: {postgres_problem()})")
            continue
        setup = setup_impact(url, random.Random(SEED))
        app = make_app(url)
        with app.app_context(), app.test_request_context():
            admin = User(role=Role.ADMIN, username="bench.admin")
            province = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.level == Level.PROVINCE))
            period = services.report_period(admin, province)
            timings: dict[str, list[float]] = collections.defaultdict(list)
            for _run in range(1 if quick else 5):
                for label, call in (
                    ("impact", services.impact),
                    ("online_rates", services.online_rates),
                    ("ranking", services.ranking),
                    ("trend", services.trend),
                ):
                    db.session.expire_all()
                    started = time.perf_counter()
                    value = call(admin, province, period)
                    timings[label].append(1000 * (time.perf_counter() - started))
                    if label == "impact":
                        report = value
            median = statistics.median(timings["impact"])
            ok = median < IMPACT_TARGET_MS and report.did is not None and len(report.rows) == setup["communes"]
            print(
                f"{name} communes={setup['communes']} months={IMPACT_MONTHS} stat_rows={setup['stat_rows']} "
                f"visits={setup['visits']} median_ms={median:.0f} (target <{IMPACT_TARGET_MS:g} ms) {verdict(ok, name)}"
            )
            print(
                "    medians: "
                + ", ".join(f"{label} {statistics.median(v):.0f} ms" for label, v in timings.items())
                + f"; DiD {100 * report.did.estimate:+.2f} points over "
                + f"{report.did.treated.n} + {report.did.control.n} communes"
            )
        close(app)
# --- 7. SMS outbox dispatcher ---------------------------------------------------------------

SMS_MESSAGES = 2_000
SMS_MESSAGES_QUICK = 400
SMS_TARGET_MS = 25.0  # dispatcher overhead per message, fake Twilio on loopback included


def bench_sms(tmp: Path, quick: bool, selected_db: str) -> None:
    """Messages per second through the real twilio client to a local fake Twilio server (tests/sms),
    with one dispatcher and with two (threads, each with its own connection) claiming rows concurrently."""
    import threading

    import sqlalchemy as sa

    from outreach.extensions import db
    from outreach.geo.models import Level
    from outreach.sms.dispatcher import dispatch_once
    from outreach.sms.gateway import TwilioGateway
    from outreach.sms.models import Guide, SmsMessage
    from tests.sms.fake_twilio import FakeTwilio

    count = SMS_MESSAGES_QUICK if quick else SMS_MESSAGES
    for kind in databases(selected_db):
        if kind != "postgresql":
            continue  # several dispatchers at once is a PostgreSQL feature (SKIP LOCKED)
        url = fresh_database(kind, tmp, "sms")
        if url is None:
            print(f"sms.dispatch {kind} SKIP (PostgreSQL unreachable: {postgres_problem()})")
            continue
        app = make_app(url)
        with FakeTwilio() as fake, app.app_context():
            province = add_unit(Level.PROVINCE, "08", "Tỉnh Tuyên Quang")
            commune = add_unit(Level.COMMUNE, "02216", "Phường Tân Hà", province)
            guide = Guide(code="vneid1", title_vi="Cài VNeID", body_vi="1. Mở CH Play", created_at=NOW, updated_at=NOW)
            db.session.add(guide)
            db.session.commit()
            rows = [
                {"kind": "guide", "commune_id": commune.id, "guide_id": guide.id, "to_phone": f"+8491{n:07d}",
                 "body": f"Chào hộ {n}, hướng dẫn: https://x.vn/g/vneid1?t={n:08d}", "encoding": "UCS-2",
                 "segments": 1, "token": f"{n:08d}", "status": "queued", "due_at": NOW, "attempts": 0, "opens": 0,
                 "provider_status": "", "error_message": "", "created_at": NOW, "updated_at": NOW}
                for n in range(count)
            ]  # fmt: skip
            db.session.execute(sa.insert(SmsMessage), rows)
            db.session.commit()

            def gateway():
                return TwilioGateway(
                    account_sid="AC" + "0" * 32, auth_token="bench", from_="+15005550006",
                    status_callback="https://x.vn/sms/status", api_base=fake.url,
                )  # fmt: skip

            def run(dispatchers: int, app=app) -> float:
                def work():
                    with app.app_context():
                        gw = gateway()
                        while dispatch_once(gw, clock=lambda: NOW, limit=50):
                            pass
                        db.session.remove()

                threads = [threading.Thread(target=work) for _ in range(dispatchers)]
                start = time.perf_counter()
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                return time.perf_counter() - start

            results = {}
            for dispatchers in (1, 2):
                fake.requests.clear()
                db.session.execute(sa.update(SmsMessage).values(status="queued", provider_sid=None, attempts=0))
                db.session.commit()
                seconds = run(dispatchers)
                bodies = [r["form"]["Body"] for r in fake.requests]
                sent = db.session.scalar(sa.select(sa.func.count()).where(SmsMessage.status == "sent"))
                results[dispatchers] = (seconds, len(bodies), len(set(bodies)), sent)
            db.session.remove()
        close(app)
        one, two = results[1], results[2]
        per_ms = one[0] / count * 1000
        once = all(r[1] == r[2] == r[3] == count for r in results.values())
        ok = once and per_ms < SMS_TARGET_MS
        print(
            f"sms.dispatch {kind} messages={count} per_message_ms={per_ms:.1f} "
            f"one_dispatcher_per_s={count / one[0]:,.0f} "
            f"two_dispatchers_per_s={count / two[0]:,.0f} (target <{SMS_TARGET_MS:.0f} ms per message, none twice) "
            f"{verdict(ok, f'sms.dispatch {kind}')}"
        )
        print(
            f"    claim in batches of 50, send through the twilio client to a fake Twilio on loopback, "
            f"record and commit each; "
            f"requests/distinct/sent: one {one[1]}/{one[2]}/{one[3]}, two {two[1]}/{two[2]}/{two[3]} "
            f"(dispatchers are threads of this process, so they share its GIL)"
        )


BENCHMARKS = {
    "units": bench_units,
    "households": bench_households,
    "sync": bench_sync,
    "walk": bench_walk,
    "today": bench_today,
    "maps": bench_maps,
    "dossiers": bench_dossiers,
    "impact": bench_impact,
    "sms": bench_sms,
}


def versions() -> str:
    import psycopg
    import sqlalchemy

    return (
        f"python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, psycopg {psycopg.__version__}, "
        f"{os.cpu_count()} CPUs"
    )


def main(argv: list[str]) -> int:
    if argv[:1] == ["_households_child"]:
        households_child(*argv[1:4])
        return 0
    if argv[:1] == ["_dossiers_child"]:
        dossiers_child(*argv[1:4])
        return 0
    if argv[:1] == ["_serve"]:
        serve_child(*argv[1:4])
        return 0
    if argv[:1] == ["_migrate"]:
        migrate_child(argv[1])
        return 0

    parser = argparse.ArgumentParser(description="Outreach benchmarks (see bench/README.md).")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of: {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes: one province, 10,000 households, 2,000 visits, 5 walk runs"
    )
    parser.add_argument("--db", choices=["all", "sqlite", "postgresql"], default="all", help="default: both")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}: choose from {', '.join(BENCHMARKS)}")
    names = list(dict.fromkeys(args.names)) or list(BENCHMARKS)

    print(f"# Outreach benchmarks, {'quick' if args.quick else 'full'} sizes: {', '.join(names)} ({versions()})")
    tmp = Path(tempfile.mkdtemp(prefix="outreach-bench-"))
    try:
        for name in names:
            BENCHMARKS[name](tmp, args.quick, args.db)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"# FAILED: {', '.join(failures)}" if failures else "# all targets met")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
