"""Benchmarks for the bulk imports (``make bench``).

    .venv/bin/python bench/run.py                 # everything, full sizes
    .venv/bin/python bench/run.py units           # only the administrative-unit import
    .venv/bin/python bench/run.py households      # only the household CSV import (SQLite and PostgreSQL)
    .venv/bin/python bench/run.py --quick         # smaller sizes, for a smoke run
    .venv/bin/python bench/run.py households --db sqlite

Every measured figure is printed as one line ending in OK or FAIL against its target; the
exit status is 1 if any figure failed. PostgreSQL is ``postgresql+psycopg://postgres@127.0.0.1:5432/bench``
(override with BENCH_DATABASE_URL); the database is created when missing and its schema is dropped
and rebuilt with the migrations before each benchmark. When PostgreSQL cannot be reached its lines
say SKIP. Temporary files (SQLite databases, the generated CSV) live in a temporary directory
that is removed at the end.
"""

import argparse
import csv
import json
import os
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
    """Current resident set size of this process (Linux /proc; falls back to the peak)."""
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

    return create_app(BenchConfig)


def child(*args: str, quiet: bool = True) -> dict:
    """Run this script in a fresh interpreter and return the JSON it prints last."""
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0 or not proc.stdout.strip():
        sys.stderr.write(proc.stdout + proc.stderr)
        raise RuntimeError(f"child {' '.join(args[:2])} failed with status {proc.returncode}")
    if not quiet:
        sys.stderr.write(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fresh_database(kind: str, tmp: Path, name: str) -> str | None:
    """A URL for an empty database, schema built by the migrations (in a child: Alembic logs there)."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp / (name + '.db')}"
    else:
        problem = reset_postgres()
        if problem:
            return None
        url = PG_URL
    child("_migrate", url)
    return url


def postgres_problem() -> str | None:
    """None if PostgreSQL answers (creating the bench database when missing), else why not."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL)
    params = {"host": url.host or "127.0.0.1", "port": url.port or 5432, "user": url.username or "postgres", "connect_timeout": 5}
    if url.password:
        params["password"] = url.password
    try:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{url.database}"')
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]
    return None


def reset_postgres() -> str | None:
    problem = postgres_problem()
    if problem:
        return problem
    import sqlalchemy as sa

    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    return None


def databases(selected: str) -> list[str]:
    return ["sqlite", "postgresql"] if selected == "all" else [selected]


def close(app) -> None:
    from outreach.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# --- 1. administrative units -----------------------------------------------------------------


def _counts(by_level: dict) -> str:
    return ", ".join(f"{str(level)} {n}" for level, n in by_level.items())


def bench_units(tmp: Path, quick: bool, selected_db: str) -> None:
    from outreach.extensions import db
    from outreach.geo.units import import_units

    province = PROVINCE if quick else None
    scope = f"province={PROVINCE!r}" if quick else "whole country"
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

            (first_s, first), (rerun_s, rerun) = runs
            ok = first_s < UNITS_TARGET_S and first.total_updated == 0 and stored == first.total_created
            print(
                f"units.import {label} ({scope}) seconds={first_s:.2f} created={first.total_created} ({_counts(first.created)}) "
                f"updated={first.total_updated} stored={stored} (target <{UNITS_TARGET_S:g} s) {verdict(ok, 'units.import ' + label)}"
            )
            ok = rerun_s < UNITS_TARGET_S and rerun.total_created == 0 and rerun.total_updated == 0 and rerun.unchanged == stored
            print(
                f"units.rerun  {label} ({scope}) seconds={rerun_s:.2f} created={rerun.total_created} updated={rerun.total_updated} "
                f"unchanged={rerun.unchanged} (target <{UNITS_TARGET_S:g} s, nothing created or updated) "
                f"{verdict(ok, 'units.rerun ' + label)}"
            )


# --- 2. households CSV ----------------------------------------------------------------------

HEADER = [
    "Mã xã", "Thôn", "Họ tên chủ hộ", "Địa chỉ", "Số điện thoại", "Số nhân khẩu",
    "Vĩ độ", "Kinh độ", "Ghi chú", "Đồng ý lưu số điện thoại", "Đồng ý nhận SMS",
]
FAMILY = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương", "Lý", "Ma", "Nông", "Hà", "Triệu", "Quan", "Lương",
]
MIDDLE_M = ["Văn", "Đức", "Minh", "Quang", "Hữu", "Xuân", "Thanh", "Ngọc", "Công"]
MIDDLE_F = ["Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Hồng"]
GIVEN_M = [
    "An", "Bình", "Cường", "Dũng", "Đạt", "Hùng", "Hưng", "Khánh", "Lộc", "Phúc", "Quý", "Sơn", "Thắng", "Tuấn", "Việt", "Định", "Toản",
]
GIVEN_F = ["Hương", "Lan", "Mai", "Nga", "Nhung", "Oanh", "Thủy", "Trang", "Yến", "Hạnh", "Ánh", "Huệ", "Liên", "Diệp"]
VILLAGE_NAMES = [
    "Phú Bình", "Tân Lập", "Đồng Mới", "Nà Khà", "Làng Chùa", "Khuôn Phẩy", "Bản Cải", "Thác Mơ", "Đồng Cầu", "Pắc Cáp",
    "Nà Héc", "Cây Thị", "Gốc Quân", "Khau Lình", "Ỏ Thượng",
]
NOTES = [
    "Hộ nghèo", "Có người cao tuổi", "Gia đình chính sách", "Cần hỗ trợ cài VNeID", "Đi làm xa; liên hệ buổi tối", 'Con trai "Tí" ở nhà',
]


def bench_villages() -> list[tuple[str, list[str]]]:
    """The communes (by code) and village names the benchmark creates and the CSV refers to."""
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
    """A deterministic household file, as a commune would export it from Excel (CSV UTF-8, ';')."""
    rng = random.Random(SEED)
    phones = consents = 0
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(HEADER)
        for i in range(rows):
            commune, names = villages[i % len(villages)]
            village = rng.choice(names)
            female = rng.random() < 0.35
            head = " ".join((
                rng.choice(FAMILY),
                rng.choice(MIDDLE_F if female else MIDDLE_M),
                rng.choice(GIVEN_F if female else GIVEN_M),
            ))
            address = f"Số {rng.randint(1, 250)}, thôn {village}" if rng.random() < 0.8 else ""
            phone = consent_phone = consent_sms = ""
            if rng.random() < 0.7:
                phone = valid_mobile(rng)
                if rng.random() < 0.1:
                    phone = f"{phone[:4]} {phone[4:7]} {phone[7:]}"
                consent_phone = "có"
                consent_sms = "có" if rng.random() < 0.6 else "không"
                phones += 1
                consents += 1 + (consent_sms == "có")
            else:
                consent_phone = consent_sms = "không" if rng.random() < 0.5 else ""
            lat = lon = ""
            if rng.random() < 0.3:  # decimal comma, as Vietnamese Excel writes it
                lat = f"{21.8 + rng.random() * 0.1:.6f}".replace(".", ",")
                lon = f"{105.15 + rng.random() * 0.1:.6f}".replace(".", ",")
            notes = rng.choice(NOTES) if rng.random() < 0.1 else ""
            writer.writerow([commune, village, head, address, phone, rng.randint(1, 9), lat, lon, notes, consent_phone, consent_sms])
    return {"rows": rows, "phones": phones, "consents": consents, "bytes": path.stat().st_size}


def setup_households_db(url: str, villages: list[tuple[str, list[str]]]) -> dict:
    """Tuyên Quang's legacy units and the benchmark's villages, in a migrated empty database."""
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
        created = 0
        for code, names in villages:
            commune = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.dataset == "legacy", AdminUnit.code == code))
            for name in names:
                save_village(admin, commune, VillageInput(name=name))
                created += 1
        db.session.commit()
        stored = db.session.scalar(sa.select(sa.func.count()).where(AdminUnit.level == Level.VILLAGE))
    close(app)
    return {"units": stats.total_created, "villages": stored}


def households_child(kind: str, csv_path: str, url: str) -> None:
    """The measured import, alone in this fresh process: prints one JSON line for the parent."""
    import sqlalchemy as sa

    from outreach.errors import ValidationError
    from outreach.extensions import db
    from outreach.geo.imports import import_households
    from outreach.geo.models import Consent, Household

    app = make_app(url)
    with app.app_context():
        db.session.execute(sa.text("SELECT 1"))  # connect (and load the driver) before measuring
        before_rss, before_peak = rss_mb(), peak_rss_mb()
        started = time.perf_counter()
        try:
            with open(csv_path, "rb") as stream:
                result = import_households(None, stream, Path(csv_path).name, now=NOW)
        except ValidationError as exc:
            lines = [f"{where}: {message}" for where, messages in exc.errors.items() for message in messages]
            print(json.dumps({"error": f"import refused the file ({len(lines)} messages): " + " | ".join(lines[:3])}))
            return
        imported = time.perf_counter()
        db.session.commit()
        finished = time.perf_counter()
        peak = peak_rss_mb()
        households = db.session.scalar(sa.select(sa.func.count()).select_from(Household))
        consents = db.session.scalar(sa.select(sa.func.count()).select_from(Consent))
        phones = db.session.scalar(sa.select(sa.func.count()).select_from(Household).where(Household.phone.is_not(None)))
    close(app)
    print(json.dumps({
        "database": kind, "rows": result.rows, "created": result.created,
        "seconds": finished - started, "import_seconds": imported - started, "commit_seconds": finished - imported,
        "rss_before_mb": before_rss, "peak_before_mb": before_peak, "peak_rss_mb": peak,
        "households": households, "consents": consents, "phones": phones,
    }))


def bench_households(tmp: Path, quick: bool, selected_db: str) -> None:
    rows = HOUSEHOLDS_ROWS_QUICK if quick else HOUSEHOLDS_ROWS
    villages = bench_villages()
    csv_path = tmp / "ho-gia-dinh.csv"
    started = time.perf_counter()
    expected = write_households_csv(csv_path, rows, villages)
    print(
        f"households.csv rows={rows} phones={expected['phones']} consents={expected['consents']} "
        f"size_mb={expected['bytes'] / 1e6:.1f} communes={len(villages)} villages={len(villages) * VILLAGES_PER_COMMUNE} "
        f"generated_in={time.perf_counter() - started:.1f}s"
    )
    for kind in databases(selected_db):
        url = fresh_database(kind, tmp, "households")
        if url is None:
            print(f"households.import {kind} SKIP (PostgreSQL unreachable: {postgres_problem()})")
            continue
        setup = setup_households_db(url, villages)
        try:
            result = child("_households_child", kind, str(csv_path), url)
        except RuntimeError as exc:
            result = {"error": str(exc)}
        if "error" in result:
            print(f"households.import {kind} rows={rows} {verdict(False, 'households.import ' + kind)}: {result['error']}")
            continue
        stored_ok = (
            result["households"] == rows == result["rows"]
            and result["phones"] == expected["phones"]
            and result["consents"] == expected["consents"]
        )
        ok = stored_ok and result["seconds"] < HOUSEHOLDS_TARGET_S and result["peak_rss_mb"] < HOUSEHOLDS_TARGET_MB
        print(
            f"households.import {kind} rows={result['households']} seconds={result['seconds']:.1f} "
            f"peak_rss_mb={result['peak_rss_mb']:.0f} rss_before_mb={result['rss_before_mb']:.0f} "
            f"import_footprint_mb={result['peak_rss_mb'] - result['rss_before_mb']:.0f} "
            f"(target <{HOUSEHOLDS_TARGET_S:g} s, <{HOUSEHOLDS_TARGET_MB:g} MB) {verdict(ok, 'households.import ' + kind)}"
        )
        print(
            f"    detail: import_households {result['import_seconds']:.1f}s + commit {result['commit_seconds']:.1f}s; "
            f"{result['rows'] / result['seconds']:,.0f} rows/s; stored households={result['households']} "
            f"with phone={result['phones']} consents={result['consents']} (expected {rows}/{expected['phones']}/{expected['consents']}"
            f"{'' if stored_ok else ' MISMATCH'}); setup: {setup['units']} units, {setup['villages']} villages"
        )


# --- main ------------------------------------------------------------------------------------

BENCHMARKS = {"units": bench_units, "households": bench_households}


def migrate_child(url: str) -> None:
    from flask_migrate import upgrade

    app = make_app(url)
    with app.app_context():
        upgrade()
    close(app)
    print(json.dumps({"migrated": url.split("@")[-1]}))


def main(argv: list[str]) -> int:
    if argv[:1] == ["_households_child"]:
        households_child(*argv[1:4])
        return 0
    if argv[:1] == ["_migrate"]:
        migrate_child(argv[1])
        return 0

    parser = argparse.ArgumentParser(description="Outreach import benchmarks.")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (one province; 10,000 households)")
    parser.add_argument("--db", choices=["all", "sqlite", "postgresql"], default="all", help="databases to run on (default: both)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}: choose from {', '.join(BENCHMARKS)}")
    names = list(dict.fromkeys(args.names)) or list(BENCHMARKS)

    print(f"# Outreach benchmarks ({'quick' if args.quick else 'full'}): {', '.join(names)}; python {sys.version.split()[0]}")
    tmp = Path(tempfile.mkdtemp(prefix="outreach-bench-"))
    try:
        for name in names:
            BENCHMARKS[name](tmp, args.quick, args.db)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"# FAILED: {', '.join(failures)}")
        return 1
    print("# all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
