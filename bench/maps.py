"""6. The coverage maps: the demo's province map, and a commune's layer of 5,000 households."""

import random
import time
from pathlib import Path

from bench.fixtures import head_of_household
from bench.harness import NOW, SEED, close, databases, fresh_database, make_app, verdict

MAPS_HOUSEHOLDS = 5_000
MAP_TARGET_S = 1.0
PROVINCE_TARGET_BYTES = 1_000_000
LAYER_TARGET_BYTES = 2_000_000


def bench_maps(tmp: Path, quick: bool, selected_db: str) -> None:
    """The province map of the demo (137 communes) and a commune's household layer of 5,000 households,
    against one folium.Marker per household."""
    import sqlalchemy as sa

    from outreach.auth.models import Role, User
    from outreach.clock import local_today
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
            seed_demo(now=NOW, dataset="legacy")  # the figures of bench/README.md: 137 legacy communes
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
            points = services.household_points(leader, commune, today=local_today(NOW))
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
