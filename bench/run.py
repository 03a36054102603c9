"""Benchmarks for the bulk imports (``make bench``); see bench/README.md.

    .venv/bin/python bench/run.py                  # everything, full sizes
    .venv/bin/python bench/run.py units            # only the administrative-unit import
    .venv/bin/python bench/run.py households       # only the household CSV import
    .venv/bin/python bench/run.py --quick          # smaller sizes, for a smoke run
    .venv/bin/python bench/run.py households --db sqlite

Every measured figure is one line ending in OK or FAIL against its target; the exit status is 1
if any figure failed. PostgreSQL is ``postgresql+psycopg://postgres@127.0.0.1:5432/bench``
(override with BENCH_DATABASE_URL): the database is created when missing, and its ``public``
schema is dropped and rebuilt by the migrations before each benchmark. When PostgreSQL cannot be
reached its lines say SKIP. SQLite databases and the generated CSV live in a temporary directory
that is removed at the end.
"""

import argparse
import csv
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
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


def peak_rss_mb() -> float:
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


# --- main ------------------------------------------------------------------------------------

BENCHMARKS = {"units": bench_units, "households": bench_households}


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
    if argv[:1] == ["_migrate"]:
        migrate_child(argv[1])
        return 0

    parser = argparse.ArgumentParser(description="Outreach import benchmarks (see bench/README.md).")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of: {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes: one province, 10,000 households")
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
