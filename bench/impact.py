"""8. The impact report (and the other report queries) over 36 months of statistics for a province."""

import collections
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.fixtures import province_agencies
from bench.harness import NOW, SEED, close, databases, fresh_database, make_app, postgres_problem, verdict

IMPACT_MONTHS = 36
IMPACT_TARGET_MS = 500.0


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
