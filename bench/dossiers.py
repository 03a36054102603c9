"""7. A per-dossier statistics import of 1,000,000 rows (time and peak memory), in a child process of its own."""

import json
import random
import time
from datetime import datetime, timedelta
from pathlib import Path

from bench.fixtures import province_agencies
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

DOSSIER_ROWS = 1_000_000
DOSSIER_ROWS_QUICK = 100_000
DOSSIER_TARGET_S = 60.0
DOSSIER_TARGET_MB = 300.0


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
