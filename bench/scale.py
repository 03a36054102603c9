"""10. Scale: the pages of a commune, a campaign, a member and a province over HTTP, with 10,000 and with
1,000,000 households in the database (100,000 with ``--quick``), on PostgreSQL.

Two databases are served side by side, each by its own gunicorn (one worker): the small one, and a copy of
it (``CREATE DATABASE ... TEMPLATE``) grown by bulk SQL (``INSERT ... SELECT FROM generate_series``) to the
large size. Tân Hà, the commune measured, holds the same 2,000 households, visits, campaign and assignments
in both; the rest of the country grows around it. Each page is asked of one server, then of the other, in
turns, with a logged-in session: the medians compare like with like on a busy machine."""

import gzip
import http.cookiejar
import os
import random
import re
import statistics
import time
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.fixtures import FIELD_PASSWORD, head_of_household
from bench.harness import NOW, SEED, child, close, live_server, make_app, verdict

SCALE_URL = os.environ.get("BENCH_SCALE_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_scale")
SMALL, LARGE, LARGE_QUICK = 10_000, 1_000_000, 100_000
COMMUNE_CODE = "02216"  # Phường Tân Hà, Tuyên Quang: the commune whose pages are measured
COMMUNE_HOUSEHOLDS = 2_000
COMMUNE_VILLAGES = 8
TODAY_STOPS = 300
VILLAGES = 10_000  # imported in one file: the bulk village import is timed on it
# The provinces that hold households (legacy codes): Tuyên Quang, then the largest (Thanh Hóa: 547 communes).
PROVINCES = ("08", "38", "01", "40", "34")
BIG_PROVINCE = "38"
ROUNDS, ROUNDS_QUICK = 7, 3
COMMUNE_MS, PROVINCE_MS, RATIO = 300.0, 1000.0, 1.5
VILLAGE_IMPORT_S = 5.0
MAP_BYTES, TODAY_WIRE_BYTES = 500_000, 60_000


# --- databases -----------------------------------------------------------------------------------


def _admin_connection():
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(SCALE_URL)
    params = {"host": url.host or "127.0.0.1", "port": url.port or 5432, "user": url.username or "postgres"}
    if url.password:
        params["password"] = url.password
    return psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=5, **params)


def _url_of(database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(SCALE_URL).set(database=database).render_as_string(hide_password=False)


def _names() -> tuple[str, str]:
    from sqlalchemy.engine import make_url

    large = make_url(SCALE_URL).database or "bench_scale"
    return f"{large}_10k", large


def _recreate(conn, name: str, template: str | None = None) -> None:
    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


# --- the data ------------------------------------------------------------------------------------


def build_small(url: str, rng: random.Random) -> dict:
    """The whole country's legacy units; 10,000 villages in the five provinces by the bulk village import
    (timed); Tân Hà's 2,000 households and the rest of Tuyên Quang's 8,000 (Core INSERT), visits, a campaign
    in every Tuyên Quang commune, 300 households on a member's list for today, 36 months of statistics of
    Tuyên Quang's committees; then VACUUM ANALYZE."""
    import io

    import sqlalchemy as sa

    from outreach.auth.models import Role, User
    from outreach.clock import local_today
    from outreach.extensions import db
    from outreach.geo.imports import import_villages
    from outreach.geo.models import AdminUnit, Household, Level
    from outreach.geo.units import import_units
    from outreach.planning.models import Assignment, Campaign, campaign_village
    from outreach.reports.imports import import_statistics

    app = make_app(url)
    info: dict = {}
    with app.app_context():
        import_units("legacy")
        db.session.commit()
        communes = list(
            db.session.scalars(
                sa.select(AdminUnit)
                .where(
                    AdminUnit.level == Level.COMMUNE,
                    sa.or_(*(AdminUnit.path.startswith(f"legacy/{p}/") for p in PROVINCES)),
                )
                .order_by(AdminUnit.path)
            )
        )
        tanha = next(c for c in communes if c.code == COMMUNE_CODE)
        others = [c for c in communes if c is not tanha]
        lines = ["mã xã,tên thôn"] + [f"{COMMUNE_CODE},Tổ {n}" for n in range(1, COMMUNE_VILLAGES + 1)]
        number = 0
        while len(lines) <= VILLAGES:
            commune = others[number % len(others)]
            lines.append(f"{commune.code},Thôn {number // len(others) + 1}")
            number += 1
        started = time.perf_counter()
        result = import_villages(None, io.BytesIO("\n".join(lines).encode()), "thon.csv", now=NOW)
        db.session.commit()
        info["village_import_s"] = time.perf_counter() - started
        info["villages"] = result.created
        province = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.path == "legacy/08/"))
        big = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.path == f"legacy/{BIG_PROVINCE}/"))
        people = {}
        for username, role, unit in (
            ("leader.tanha", Role.LEADER, tanha),
            ("member.tanha", Role.MEMBER, tanha),
            ("staff.tuyenquang", Role.STAFF, province),
            ("staff.thanhhoa", Role.STAFF, big),
            ("member.others", Role.MEMBER, province),
        ):
            people[username] = User(username=username, role=role, scope_unit=unit, full_name=username.title())
            people[username].set_password(FIELD_PASSWORD)
            db.session.add(people[username])
        db.session.flush()
        villages = {
            v.id: v
            for v in db.session.scalars(
                sa.select(AdminUnit).where(AdminUnit.level == Level.VILLAGE, AdminUnit.path.startswith("legacy/08/"))
            )
        }
        ours = [v for v in villages.values() if v.parent_id == tanha.id]
        theirs = [v for v in villages.values() if v.parent_id != tanha.id]
        south, west, north, east = tanha.south, tanha.west, tanha.north, tanha.east
        rows = []
        for n in range(COMMUNE_HOUSEHOLDS):
            village = ours[n % len(ours)]
            rows.append(_household(rng, village.id, n, rng.uniform(south, north), rng.uniform(west, east)))
        by_commune = {c.id: c for c in others}
        for n in range(SMALL - COMMUNE_HOUSEHOLDS):
            village = theirs[n % len(theirs)]
            commune = by_commune[village.parent_id]
            lat = (commune.lat or 21.8) + rng.uniform(-0.01, 0.01)
            lon = (commune.lon or 105.2) + rng.uniform(-0.01, 0.01)
            rows.append(_household(rng, village.id, n, lat, lon))
        db.session.execute(sa.insert(Household), rows)
        homes = db.session.execute(
            sa.select(Household.id, Household.village_id).order_by(Household.id)
        ).all()  # fmt: skip
        first = datetime.combine(local_today(NOW) - timedelta(days=60), datetime.min.time(), UTC)
        leader, member, other = people["leader.tanha"], people["member.tanha"], people["member.others"]
        visits = []
        for home_id, village_id in homes:
            in_tanha = villages[village_id].parent_id == tanha.id
            if rng.random() < (0.6 if in_tanha else 0.5):
                visits.append(_visit(rng, home_id, (member if in_tanha else other).id, first))
        db.session.execute(sa.text(_VISIT_INSERT), visits)
        campaigns = []
        for commune in [tanha, *[c for c in others if c.path.startswith("legacy/08/")]]:
            campaign = Campaign(
                commune_id=commune.id, name=f"Mọi nhà {commune.short_name or commune.name}", starts_on=first.date(),
                ends_on=local_today(NOW) + timedelta(days=30), created_by_id=leader.id, created_at=NOW,
            )  # fmt: skip
            db.session.add(campaign)
            campaigns.append((campaign, commune))
        db.session.flush()
        db.session.execute(
            sa.insert(campaign_village),
            [
                {"campaign_id": campaign.id, "village_id": v.id}
                for campaign, commune in campaigns
                for v in villages.values()
                if v.parent_id == commune.id
            ],
        )
        met = set(db.session.scalars(sa.text("SELECT household_id FROM visit_record WHERE outcome <> 'nobody_home'")))
        ours_ids = {v.id for v in ours}
        waiting = [home_id for home_id, village_id in homes if village_id in ours_ids and home_id not in met]
        today = local_today(NOW)
        db.session.execute(
            sa.insert(Assignment),
            [
                {
                    "household_id": home_id,
                    "member_id": member.id,
                    "campaign_id": campaigns[0][0].id,
                    "due_on": today,
                    "assigned_by_id": leader.id,
                    "created_at": NOW,
                }  # fmt: skip
                for home_id in waiting[:TODAY_STOPS]
            ],
        )
        db.session.commit()
        info.update(_ids())
        names = _committees(province)  # Tuyên Quang's committees as an export names them
        province = db.session.get(AdminUnit, info["province"])
        stats = ["Tên đơn vị;Tháng;Tổng số hồ sơ;Hồ sơ trực tuyến"]
        months = [(2023 + (10 + m) // 12, (10 + m) % 12 + 1) for m in range(36)]  # 11/2023 .. 10/2026
        for name in names:
            for year, month in months:
                total = rng.randint(40, 900)
                stats.append(f"{name};{month:02d}/{year};{total};{int(total * rng.uniform(0.2, 0.7))}")
        import_statistics(None, io.BytesIO("\n".join(stats).encode()), "thong-ke.csv", province=province, now=NOW)
        db.session.commit()
    close(app)
    _vacuum(url)
    return info


def _ids() -> dict:
    """The ids the pages are asked by (the same in both databases): Tân Hà, its campaign, Tuyên Quang, the
    largest province; and how many campaigns and communes there are."""
    import sqlalchemy as sa

    from outreach.extensions import db
    from outreach.geo.models import AdminUnit, Level
    from outreach.planning.models import Campaign

    def unit(path: str) -> int:
        return db.session.scalar(sa.select(AdminUnit.id).where(AdminUnit.path == path))

    tanha = db.session.scalar(
        sa.select(AdminUnit.id).where(AdminUnit.code == COMMUNE_CODE, AdminUnit.level == "commune")
    )
    communes = sa.select(sa.func.count(AdminUnit.id)).where(
        AdminUnit.level == Level.COMMUNE, AdminUnit.path.startswith(f"legacy/{BIG_PROVINCE}/")
    )
    return {
        "tanha": tanha,
        "province": unit("legacy/08/"),
        "big": unit(f"legacy/{BIG_PROVINCE}/"),
        "campaign": db.session.scalar(sa.select(sa.func.min(Campaign.id)).where(Campaign.commune_id == tanha)),
        "campaigns": db.session.scalar(sa.select(sa.func.count(Campaign.id))),
        "big_communes": db.session.scalar(communes),
    }


def _reused(small_url: str, large_url: str, large: int) -> dict | None:
    """With BENCH_SCALE_REUSE=1, the databases of the last run when they hold what this run would build."""
    import sqlalchemy as sa

    if os.environ.get("BENCH_SCALE_REUSE") != "1":
        return None
    try:
        counts = []
        for url in (small_url, large_url):
            engine = sa.create_engine(url)
            with engine.connect() as conn:
                counts.append(conn.scalar(sa.text("SELECT count(*) FROM household")))
            engine.dispose()
    except sa.exc.SQLAlchemyError:
        return None
    if counts != [SMALL, large]:
        return None
    app = make_app(small_url)
    with app.app_context():
        info = _ids()
    close(app)
    return info


def _committees(province) -> list[str]:
    """The names of a province's commune and district committees as an export writes them (as
    ``bench.fixtures.province_agencies`` does for a database holding one province)."""
    import collections

    import sqlalchemy as sa

    from outreach.extensions import db
    from outreach.geo.models import AdminUnit, Level

    units = db.session.scalars(
        sa.select(AdminUnit)
        .where(AdminUnit.level.in_([Level.COMMUNE, Level.DISTRICT]), AdminUnit.path.startswith(province.path))
        .order_by(AdminUnit.code)
    ).all()
    communes = [u for u in units if u.level == Level.COMMUNE]
    twice = {n for n, k in collections.Counter(u.short_name for u in communes).items() if k > 1}
    names = [
        f"UBND {(u.kind or 'xã').lower()} {u.short_name}"
        + (f", {u.parent.name.lower()}" if u.short_name in twice else "")
        for u in communes
    ]
    return names + [f"UBND {u.name[0].lower()}{u.name[1:]}" for u in units if u.level == Level.DISTRICT]


def _household(rng: random.Random, village_id: int, n: int, lat: float, lon: float) -> dict:
    name = head_of_household(rng)
    from outreach.text import fold

    address = f"Số {n % 200 + 1}, tổ {n % 12 + 1}"
    return {
        "village_id": village_id, "head_name": name, "head_name_folded": fold(name), "address": address,
        "address_folded": fold(address), "members": rng.randint(1, 8), "lat": lat, "lon": lon, "notes": "",
        "created_at": NOW, "updated_at": NOW,
    }  # fmt: skip


_VISIT_COLUMNS = (
    "client_id", "household_id", "member_id", "device_time", "server_time", "outcome", "follow_up_on",
    "people_helped", "helped_under_30", "helped_30_to_59", "helped_60_plus", "vneid_installed", "vneid_level1",
    "referred_level2", "portal_login", "procedure_submitted", "procedure", "fee_payment_setup", "guide_given",
    "obstacle_other", "location_consent", "notes",
)  # fmt: skip
_VISIT_INSERT = (
    f"INSERT INTO visit_record ({', '.join(_VISIT_COLUMNS)}) VALUES ({', '.join(':' + c for c in _VISIT_COLUMNS)})"
)


def _visit(rng: random.Random, household_id: int, member_id: int, first: datetime) -> dict:
    outcome = rng.choices(["helped", "nobody_home", "follow_up", "refused"], [65, 20, 10, 5])[0]
    moment = first + timedelta(days=rng.randint(0, 59), hours=rng.randint(1, 10))
    helped = outcome in ("helped", "follow_up")
    return {
        "client_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "household_id": household_id,
        "member_id": member_id, "device_time": moment, "server_time": moment, "outcome": outcome,
        "follow_up_on": (moment + timedelta(days=rng.randint(1, 30))).date() if outcome == "follow_up" else None,
        "people_helped": 2 if helped else 0, "helped_under_30": 1 if helped else 0,
        "helped_30_to_59": 1 if helped else 0, "helped_60_plus": 0, "vneid_installed": helped,
        "vneid_level1": helped and rng.random() < 0.7, "referred_level2": False, "portal_login": False,
        "procedure_submitted": False, "procedure": "", "fee_payment_setup": False, "guide_given": "",
        "obstacle_other": "", "location_consent": False, "notes": "",
    }  # fmt: skip


def grow(url: str, target: int, tanha_id: int) -> dict:
    """Households up to ``target`` in the villages of the five provinces other than Tân Hà's, and a visit
    for half of them, by bulk SQL: INSERT ... SELECT FROM generate_series, in the database itself."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        have = conn.scalar(sa.text("SELECT count(*) FROM household"))
        last = conn.scalar(sa.text("SELECT max(id) FROM household"))
        villages = conn.scalar(
            sa.text("SELECT count(*) FROM admin_unit WHERE level = 'village' AND parent_id <> :tanha"),
            {"tanha": tanha_id},
        )
        per_village = -(-(target - have) // villages)
        conn.execute(
            sa.text(
                """
                INSERT INTO household (village_id, head_name, head_name_folded, address, address_folded, members,
                                       lat, lon, notes, created_at, updated_at)
                SELECT v.id, 'Hộ ' || g, 'ho ' || g, 'Số ' || g, 'so ' || g, 1 + g % 7,
                       c.lat + (random() - 0.5) * 0.02, c.lon + (random() - 0.5) * 0.02, '', :now, :now
                FROM admin_unit v JOIN admin_unit c ON c.id = v.parent_id
                CROSS JOIN generate_series(1, :n) AS g
                WHERE v.level = 'village' AND v.parent_id <> :tanha
                ORDER BY v.id, g
                LIMIT :wanted
                """
            ),
            {"now": NOW, "n": per_village, "tanha": tanha_id, "wanted": target - have},
        )
        member = conn.scalar(sa.text("SELECT id FROM \"user\" WHERE username = 'member.others'"))
        conn.execute(
            sa.text(
                """
                INSERT INTO visit_record (client_id, household_id, member_id, device_time, server_time, outcome,
                    follow_up_on, people_helped, helped_under_30, helped_30_to_59, helped_60_plus, vneid_installed,
                    vneid_level1, referred_level2, portal_login, procedure_submitted, procedure, fee_payment_setup,
                    guide_given, obstacle_other, location_consent, notes)
                SELECT gen_random_uuid()::text, h.id, :member, :first + (h.id % 59) * interval '1 day',
                       :first + (h.id % 59) * interval '1 day',
                       CASE WHEN h.id % 5 = 0 THEN 'nobody_home' WHEN h.id % 10 = 1 THEN 'follow_up' ELSE 'helped' END,
                       CASE WHEN h.id % 10 = 1 THEN (:first + (h.id % 59 + 7) * interval '1 day')::date END,
                       CASE WHEN h.id % 5 = 0 THEN 0 ELSE 2 END, 0, 0, 0, h.id % 5 <> 0, h.id % 3 = 0,
                       false, false, false, '', false, '', '', false, ''
                FROM household h WHERE h.id > :last AND h.id % 2 = 0
                """
            ),
            {"member": member, "first": NOW - timedelta(days=60), "last": last},
        )
        households = conn.scalar(sa.text("SELECT count(*) FROM household"))
        visits = conn.scalar(sa.text("SELECT count(*) FROM visit_record"))
    engine.dispose()
    seconds = time.perf_counter() - started
    _vacuum(url)
    return {"households": households, "visits": visits, "seconds": seconds}


def _vacuum(url: str) -> None:
    """VACUUM ANALYZE, as autovacuum would do on a live server after a bulk load: the planner's statistics
    and the visibility map, so the figures measure the queries, not a table nobody has looked at yet."""
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()


# --- over HTTP -----------------------------------------------------------------------------------


class Session:
    """A logged-in browser, roughly: cookies, the login form with its CSRF token, gzip accepted."""

    def __init__(self, base: str, username: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        form = self.opener.open(f"{base}/login", timeout=60).read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', form
        )
        assert token is not None, "no CSRF token on /login"
        data = urllib.parse.urlencode({"username": username, "password": FIELD_PASSWORD, "csrf_token": token.group(1)})
        answer = self.opener.open(f"{base}/login", data=data.encode(), timeout=60)
        if answer.geturl().rstrip("/").endswith("/login"):
            raise RuntimeError(f"{username} could not log in")

    def get(self, path: str) -> tuple[float, int, bytes]:
        """Seconds, bytes on the wire (gzip if the app sent it), and the body as it reads."""
        request = urllib.request.Request(f"{self.base}{path}", headers={"Accept-Encoding": "gzip"})
        started = time.perf_counter()
        with self.opener.open(request, timeout=600) as answer:
            raw = answer.read()
            seconds = time.perf_counter() - started
            if answer.status != 200:
                raise RuntimeError(f"{path} answered {answer.status}")
            body = gzip.decompress(raw) if answer.headers.get("Content-Encoding") == "gzip" else raw
        return seconds, len(raw), body


def pages(info: dict) -> list[dict]:
    """What is measured: who asks, the path, what it holds, and its target (a page of a commune, a campaign
    or a member: the same time at both sizes, within RATIO, and under COMMUNE_MS; a province page under
    PROVINCE_MS)."""
    commune, campaign, province, big = info["tanha"], info["campaign"], info["province"], info["big"]
    return [
        {"name": "campaigns", "user": "staff.tuyenquang", "path": "/campaigns", "kind": "province",
         "size": f"province staff, {info['campaigns']} campaigns (20 a page)"},
        {"name": "progress", "user": "leader.tanha", "path": f"/campaigns/{campaign}", "kind": "commune",
         "size": f"campaign of {COMMUNE_VILLAGES} villages, {COMMUNE_HOUSEHOLDS:,} households"},
        {"name": "impact", "user": "staff.tuyenquang", "path": f"/reports/units/{province}/impact",
         "kind": "province", "size": "137 communes, 36 months"},
        {"name": "impact.csv", "user": "staff.tuyenquang", "path": f"/reports/units/{province}/impact?format=csv",
         "kind": "province", "size": "137 communes, 36 months"},
        {"name": "commune.map", "user": "leader.tanha", "path": f"/maps/units/{commune}", "kind": "commune",
         "size": f"{COMMUNE_VILLAGES} villages"},
        {"name": "household.map", "user": "leader.tanha", "path": f"/maps/units/{commune}/households",
         "kind": "commune", "size": f"{COMMUNE_HOUSEHOLDS:,} households"},
        {"name": "assign", "user": "leader.tanha", "path": "/assign", "kind": "commune",
         "size": f"{COMMUNE_HOUSEHOLDS:,} households (500 listed)"},
        {"name": "province.map", "user": "staff.thanhhoa", "path": f"/maps/units/{big}?level=commune",
         "kind": "province", "size": f"{info['big_communes']} communes", "max_bytes": MAP_BYTES},
        {"name": "today", "user": "member.tanha", "path": "/today", "kind": "commune", "size": f"{TODAY_STOPS} stops",
         "max_wire": TODAY_WIRE_BYTES},
    ]  # fmt: skip


def measure(bases: dict[str, str], info: dict, rounds: int) -> dict:
    """Every page of every size, asked in turns (page by page, one size then the other), after one warm-up
    request each; the median of ``rounds`` and the bytes."""
    wanted = pages(info)
    sessions = {
        (size, user): Session(base, user) for size, base in bases.items() for user in {p["user"] for p in wanted}
    }
    for page in wanted:
        for size in bases:
            sessions[size, page["user"]].get(page["path"])  # warm-up: not counted
    results: dict = {p["name"]: {size: {"times": []} for size in bases} for p in wanted}
    for _round in range(rounds):
        for page in wanted:
            for size in bases:
                seconds, wire, body = sessions[size, page["user"]].get(page["path"])
                entry = results[page["name"]][size]
                entry["times"].append(seconds)
                entry["wire"], entry["bytes"], entry["body"] = wire, len(body), body
    return results


def bench_scale(tmp: Path, quick: bool, selected_db: str) -> None:
    large = LARGE_QUICK if quick else LARGE
    if selected_db == "sqlite":
        print("scale SKIP (PostgreSQL only: the sizes are PostgreSQL's)")
        return
    small_name, large_name = _names()
    small_url, large_url = _url_of(small_name), _url_of(large_name)
    info = _reused(small_url, large_url, large)
    if info is not None:
        print(f"scale.build reused the databases {small_name} and {large_name} (BENCH_SCALE_REUSE=1)")
    else:
        try:
            with _admin_connection() as conn:
                _recreate(conn, small_name)
        except Exception as exc:  # noqa: BLE001 - any reason PostgreSQL cannot be reached
            print(f"scale SKIP (PostgreSQL unreachable: {str(exc).strip().splitlines()[0]})")
            return
        started = time.perf_counter()
        child("_migrate", small_url)
        info = build_small(small_url, random.Random(SEED))
        built_small = time.perf_counter() - started
        with _admin_connection() as conn:
            _recreate(conn, large_name, template=small_name)
        grown = grow(large_url, large, info["tanha"])
        print(
            f"scale.build {SMALL:,} households by Core INSERT in {built_small:.0f} s; {grown['households']:,} "
            f"households and {grown['visits']:,} visits by bulk SQL (INSERT ... SELECT FROM generate_series) in "
            f"{grown['seconds']:.0f} s; the whole country's 10,035 legacy communes; Tân Hà the same in both"
        )
        ok = info["village_import_s"] < VILLAGE_IMPORT_S and info["villages"] == VILLAGES
        print(
            f"scale.village_import villages={info['villages']:,} seconds={info['village_import_s']:.2f} "
            f"(target <{VILLAGE_IMPORT_S:g} s, one file, whole or nothing) {verdict(ok, 'scale.village_import')}"
        )
    with (
        live_server(small_url, tmp, "scale-small") as (small_base, _log_small),
        live_server(large_url, tmp, "scale-large") as (large_base, _log_large),
    ):
        results = measure({"small": small_base, "large": large_base}, info, ROUNDS_QUICK if quick else ROUNDS)
    print(
        f"# page, what it holds, median at {SMALL:,} / at {large:,} households, ratio, bytes (on the wire with "
        f"gzip), target; {ROUNDS_QUICK if quick else ROUNDS} rounds, gunicorn 1 worker each, logged in"
    )
    for page in pages(info):
        small, big = results[page["name"]]["small"], results[page["name"]]["large"]
        t_small, t_big = 1000 * statistics.median(small["times"]), 1000 * statistics.median(big["times"])
        ratio = t_big / t_small
        if page["kind"] == "commune":
            ok = t_big < COMMUNE_MS and ratio <= RATIO
            target = f"<{COMMUNE_MS:g} ms, ratio <={RATIO:g}"
        else:
            ok = t_big < PROVINCE_MS
            target = f"<{PROVINCE_MS:g} ms"
        if "max_bytes" in page:
            ok = ok and big["bytes"] < page["max_bytes"]
            target += f", <{page['max_bytes'] // 1000} KB"
        if "max_wire" in page:
            ok = ok and big["wire"] < page["max_wire"]
            target += f", <{page['max_wire'] // 1000} KB on the wire"
        if page["name"] == "today":
            stops = big["body"].count(b"data-household=")
            ok = ok and stops == TODAY_STOPS
            target += f"; {stops} stops shown"
        if page["name"] == "province.map":
            drawn = _communes_drawn(big["body"])
            ok = ok and drawn == info["big_communes"]
            target += f"; {drawn} communes drawn"
        name = f"scale.{page['name']}"
        print(
            f"{name} [{page['size']}] {t_small:.0f} ms / {t_big:.0f} ms ratio={ratio:.2f} "
            f"bytes={big['bytes']:,} wire={big['wire']:,} (target {target}) {verdict(ok, name)}"
        )


def _communes_drawn(body: bytes) -> int:
    """The units in the coverage map's one data array: the shapes' features and the circles' rows."""
    import json

    found = re.search(rb"\}\)\(\w+, (\{.*?\}), (\[.*?\]), \"[^\"]*\"\);", body, re.S)
    if found is None:
        return 0
    return len(json.loads(found.group(1))["features"]) + len(json.loads(found.group(2)))
