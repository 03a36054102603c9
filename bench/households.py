"""2. The household CSV import (time and peak memory), measured in a child process of its own."""

import csv
import json
import random
import time
from pathlib import Path

from bench.fixtures import FAMILY, GIVEN_F, GIVEN_M, MIDDLE_F, MIDDLE_M, PROVINCE, valid_mobile
from bench.harness import (
    NOW,
    SEED,
    child,
    close,
    databases,
    fresh_database,
    make_app,
    peak_rss_mb,
    postgres_problem,
    reset_peak_rss,
    rss_mb,
    verdict,
)

HOUSEHOLDS_ROWS = 100_000
HOUSEHOLDS_ROWS_QUICK = 10_000
HOUSEHOLDS_TARGET_S = 20.0
HOUSEHOLDS_TARGET_MB = 300.0
COMMUNES = 8  # the first communes of the province, by code
VILLAGES_PER_COMMUNE = 10
HEADER = ["Mã xã", "Thôn", "Họ tên chủ hộ", "Địa chỉ", "Số điện thoại", "Số nhân khẩu", "Vĩ độ", "Kinh độ", "Ghi chú"]
HEADER += ["Đồng ý lưu số điện thoại", "Đồng ý nhận SMS"]
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
