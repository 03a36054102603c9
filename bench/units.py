"""1. ``geo import-units`` for the whole country, then the same again."""

import time
from pathlib import Path

from bench.fixtures import PROVINCE
from bench.harness import close, databases, fresh_database, make_app, postgres_problem, verdict

UNITS_TARGET_S = 10.0


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
