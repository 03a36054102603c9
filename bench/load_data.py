"""The data of ``make load`` (bench/load.py): the database ``outreach_load`` with 1,000,000 households,
made by bulk SQL once and reused, its users and their tokens, and the reset before each run."""

import hashlib
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
LOAD_URL = os.environ.get("LOAD_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/outreach_load")
REDIS_URL = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/11")
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")

PROVINCES = [
    ("08", "Tỉnh Tuyên Quang"),
    ("02", "Tỉnh Hà Giang"),
    ("10", "Tỉnh Lào Cai"),
    ("19", "Tỉnh Thái Nguyên"),
    ("25", "Tỉnh Phú Thọ"),
]
DISTRICTS, COMMUNES, VILLAGES, HOUSEHOLDS = 10, 10, 10, 200  # per province, district, commune, village
TOTAL_HOUSEHOLDS = len(PROVINCES) * DISTRICTS * COMMUNES * VILLAGES * HOUSEHOLDS  # 1,000,000
MEMBER_COMMUNES_PER_PROVINCE = 4  # 20 communes with a member in each village: 200 members
ASSIGNED = 50  # households assigned to each member for today
EARLIER_VISITS_EVERY = 10  # one household in ten visited before
PASSWORD = "load-test-password-1"
WORKERS = 4

TARGET_P95_S = 1.5
TARGET_RSS_MB = 300

WORDS = ["An", "Bình", "Hòa", "Phú", "Tân", "Minh", "Thanh", "Hưng", "Lạc", "Yên", "Đồng", "Quang", "Trung"]
WORDS += ["Thượng", "Hạ", "Kim", "Long", "Phúc", "Sơn", "Thái", "Vĩnh", "Xuân", "Nghĩa", "Đức", "Lương"]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Ma", "Nông", "Hà", "Triệu"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Ngọc", "Thu", "Xuân", "Hữu"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hùng", "Hương", "Lan", "Mai", "Nga", "Phúc", "Sơn", "Thắng", "Trang", "Yến"]


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def connect(url: str = LOAD_URL, **kwargs):
    import psycopg

    return psycopg.connect(_dsn(url), **kwargs)


def member_token(username: str) -> str:
    """A member's API token, derived from the name (the load data is made once and reused)."""
    return "otr_" + hashlib.sha256(f"outreach-load:{username}".encode()).hexdigest()[:43]


# --- the data ------------------------------------------------------------------------------------------------------


def _ensure_database() -> None:
    from psycopg import sql
    from sqlalchemy.engine import make_url

    url = make_url(LOAD_URL)
    with connect(str(url.set(database="postgres")), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(url.database)))


def _migrate() -> None:
    env = {**os.environ, "DATABASE_URL": LOAD_URL, "FLASK_CONFIG": "development", "SECRET_KEY": "x" * 64}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "flask"), "--app", "outreach", "db", "upgrade"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"flask db upgrade failed:\n{done.stderr[-3000:]}")


def _is_built(conn) -> bool:
    try:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM household), (SELECT count(*) FROM \"user\" WHERE username LIKE 'load.%%')"
        ).fetchone()
    except Exception:  # noqa: BLE001 - no tables yet
        conn.rollback()
        return False
    return row == (TOTAL_HOUSEHOLDS, 1 + 200 + 20)


def _units(conn, now: datetime) -> None:
    """Provinces, districts, communes and villages (legacy dataset), with bounds and centroids."""
    from outreach.geo.models import unit_names

    rows = []

    def add(level, code, name, short, parent_code, path, bounds):
        south, west, north, east = bounds
        names = unit_names(name, short)
        rows.append(
            (
                "legacy", code, level, name.split(" ")[0] if level != "village" else "Thôn", names["name"],
                names["short_name"], names["name_folded"], names["sort_key"], parent_code, path,
                (south + north) / 2, (west + east) / 2, south, west, north, east, now, now,
            )
        )  # fmt: skip

    for pi, (pcode, pname) in enumerate(PROVINCES):
        lat0, lon0 = 20.6 + pi * 0.45, 104.4 + pi * 0.35
        ppath = f"legacy/{pcode}/"
        add("province", pcode, pname, pname.removeprefix("Tỉnh "), None, ppath, (lat0, lon0, lat0 + 0.4, lon0 + 0.4))
        for di in range(DISTRICTS):
            dcode = "070" if (pi, di) == (0, 0) else f"{100 + pi * DISTRICTS + di:03d}"
            dname = "Thành phố Tuyên Quang" if dcode == "070" else f"Huyện {WORDS[(pi * 7 + di) % len(WORDS)]} {di + 1}"
            dpath = f"{ppath}{dcode}/"
            dlat = lat0 + di * 0.04
            add("district", dcode, dname, dname.split(" ", 1)[1], pcode, dpath, (dlat, lon0, dlat + 0.04, lon0 + 0.4))
            for ci in range(COMMUNES):
                ccode = "02216" if (pi, di, ci) == (0, 0, 0) else f"{10000 + (pi * DISTRICTS + di) * COMMUNES + ci:05d}"
                w = WORDS[(pi * 31 + di * 7 + ci) % len(WORDS)], WORDS[(pi + di * 3 + ci * 5) % len(WORDS)]
                cname = "Phường Tân Hà" if ccode == "02216" else f"Xã {w[0]} {w[1]}"
                cpath = f"{dpath}{ccode}/"
                clon = lon0 + ci * 0.04
                cb = (dlat, clon, dlat + 0.04, clon + 0.04)
                if ccode == "02216":
                    cb = (21.82, 105.18, 21.85, 105.21)  # the ward of bench/fixtures.py
                add("commune", ccode, cname, cname.split(" ", 1)[1], dcode, cpath, cb)
                for vi in range(VILLAGES):
                    vcode = f"{ccode}-{vi + 1:03d}"
                    vname = f"Thôn {WORDS[(vi * 3 + ci) % len(WORDS)]} {vi + 1}"
                    vs = cb[0] + (cb[2] - cb[0]) * (vi // 5) / 2
                    vw = cb[1] + (cb[3] - cb[1]) * (vi % 5) / 5
                    vb = (vs, vw, vs + (cb[2] - cb[0]) / 2, vw + (cb[3] - cb[1]) / 5)
                    add("village", vcode, vname, vname.removeprefix("Thôn "), ccode, f"{cpath}{vcode}/", vb)
    with conn.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE load_unit (dataset text, code text, level text, kind text, name text, short_name text,"
            " name_folded text, sort_key text, parent_code text, path text, lat float8, lon float8, south float8,"
            " west float8, north float8, east float8, created_at timestamptz, updated_at timestamptz)"
        )
        with cur.copy("COPY load_unit FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        for level in ("province", "district", "commune", "village"):  # parents first
            cur.execute(
                "INSERT INTO admin_unit (dataset, code, level, kind, name, short_name, name_folded, sort_key,"
                " parent_id, path, lat, lon, south, west, north, east, created_at, updated_at)"
                " SELECT u.dataset, u.code, u.level, u.kind, u.name, u.short_name, u.name_folded, u.sort_key, p.id,"
                " u.path, u.lat, u.lon, u.south, u.west, u.north, u.east, u.created_at, u.updated_at"
                " FROM load_unit u LEFT JOIN admin_unit p ON p.dataset = 'legacy' AND p.code = u.parent_code"
                " WHERE u.level = %s ORDER BY u.path",
                (level,),
            )


def _households(conn, now: datetime) -> None:
    """200 households in every village, by one INSERT ... SELECT (names, addresses, places in the village)."""
    from outreach.text import fold

    names = [f"{f} {m} {g}" for f in FAMILY for m in MIDDLE for g in GIVEN]
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO household (village_id, head_name, head_name_folded, address, address_folded, phone, members,"
            " lat, lon, notes, created_at, updated_at)"
            " SELECT v.id, n.names[1 + (v.id * 7919 + g * 104729) %% n.size], n.folded[1 + (v.id * 7919 + g * 104729)"
            " %% n.size], 'Tổ ' || (1 + g %% 12) || ', ' || v.name, 'to ' || (1 + g %% 12) || ', '"
            " || split_part(v.name_folded, ' | ', 1), NULL, 1 + (v.id + g) %% 6,"
            " v.south + (v.north - v.south) * random(), v.west + (v.east - v.west) * random(), '', %(now)s, %(now)s"
            " FROM admin_unit v CROSS JOIN generate_series(1, %(per)s) g"
            " CROSS JOIN (SELECT %(names)s::text[] AS names, %(folded)s::text[] AS folded, %(size)s AS size) n"
            " WHERE v.level = 'village' ORDER BY v.id, g",
            {"now": now, "per": HOUSEHOLDS, "names": names, "folded": [fold(n) for n in names], "size": len(names)},
        )


def _people(conn, now: datetime, today) -> None:
    """The load's users (members with API tokens, leaders, staff), one campaign per commune, earlier visits."""
    from werkzeug.security import generate_password_hash

    password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    with conn.cursor() as cur:
        communes = cur.execute(
            "SELECT c.id, c.code, d.id, p.id, p.code FROM admin_unit c JOIN admin_unit d ON d.id = c.parent_id"
            " JOIN admin_unit p ON p.id = d.parent_id WHERE c.level = 'commune' ORDER BY p.code = '08' DESC, c.path"
        ).fetchall()
        by_province: dict[str, list] = {}
        for row in communes:
            by_province.setdefault(row[4], []).append(row)
        users = []  # username, role, scope unit id
        n = 0
        for pcode, rows in by_province.items():
            for commune_id, _code, _district, _province, _p in rows[:MEMBER_COMMUNES_PER_PROVINCE]:
                villages = cur.execute(
                    "SELECT id FROM admin_unit WHERE parent_id = %s ORDER BY code", (commune_id,)
                ).fetchall()
                for (village_id,) in villages:
                    users.append((f"load.member.{n:03d}", "member", village_id))
                    n += 1
            for i, row in enumerate(rows[:2]):
                users.append((f"load.leader.{pcode}.{i}", "leader", row[0]))
            users.append((f"load.staff.district.{pcode}", "staff", rows[0][2]))
            users.append((f"load.staff.province.{pcode}", "staff", rows[0][3]))
        first_village = cur.execute("SELECT min(id) FROM admin_unit WHERE level = 'village'").fetchone()[0]
        users.append(("load.history", "member", first_village))  # the earlier visits' member
        for username, role, unit in users:
            cur.execute(
                'INSERT INTO "user" (username, full_name, password_hash, role, scope_unit_id, active, language,'
                " created_at) VALUES (%s, %s, %s, %s, %s, true, 'vi', %s)",
                (username, username.replace(".", " ").title(), password_hash, role, unit, now),
            )
        tokens = []
        for user_id, username in cur.execute(
            "SELECT id, username FROM \"user\" WHERE username LIKE 'load.member.%%' ORDER BY id", ()
        ).fetchall():
            token = member_token(username)
            tokens.append((user_id, hashlib.sha256(token.encode()).hexdigest(), token[:10], now))
        cur.executemany(
            "INSERT INTO api_token (user_id, label, token_hash, prefix, created_at) VALUES (%s, 'load', %s, %s, %s)",
            tokens,
        )
        cur.execute(
            "INSERT INTO campaign (commune_id, name, starts_on, ends_on, goal_visited_pct, goal_activated_pct,"
            " created_at, nobody_home_retry_days)"
            " SELECT id, 'Chiến dịch dịch vụ công trực tuyến ' || short_name, %s, %s, 80, 50, %s, 0"
            " FROM admin_unit WHERE level = 'commune'",
            (today - timedelta(days=30), today + timedelta(days=60), now),
        )
        cur.execute(
            "INSERT INTO campaign_village (campaign_id, village_id)"
            " SELECT k.id, v.id FROM campaign k JOIN admin_unit v ON v.parent_id = k.commune_id"
        )
        # Earlier visits: one household in ten, over the last 30 days, with the usual outcomes.
        cur.execute(
            "INSERT INTO visit_record (client_id, household_id, member_id, device_time, server_time, outcome,"
            " people_helped, helped_under_30, helped_30_to_59, helped_60_plus, vneid_installed, vneid_level1,"
            " referred_level2, portal_login, procedure_submitted, procedure, fee_payment_setup, guide_given,"
            " obstacle_other, follow_up_on, location_consent, notes)"
            " SELECT gen_random_uuid()::text, h.id, m.id, t, t, o, CASE WHEN o IN ('helped', 'follow_up') THEN 2"
            " ELSE 0 END, 0, CASE WHEN o IN ('helped', 'follow_up') THEN 2 ELSE 0 END, 0, o = 'helped',"
            " o = 'helped' AND h.id %% 3 = 0, false, o = 'helped' AND h.id %% 4 = 0, o = 'helped' AND h.id %% 5 = 0,"
            " '', false, '', '', CASE WHEN o = 'follow_up' THEN (t + interval '7 days')::date END, false, ''"
            " FROM household h CROSS JOIN (SELECT id FROM \"user\" WHERE username = 'load.history') m"
            " CROSS JOIN LATERAL (SELECT %(now)s - (h.id %% 30) * interval '1 day' AS t,"
            " (ARRAY['helped','helped','helped','helped','helped','helped','nobody_home','nobody_home',"
            "'follow_up','refused'])[1 + (h.id / %(every)s) %% 10] AS o) x"
            " WHERE h.id %% %(every)s = 0",
            {"now": now, "every": EARLIER_VISITS_EVERY},
        )
        cur.execute(
            "INSERT INTO visit_obstacle (visit_id, code) SELECT id, (ARRAY['no_smartphone', 'elderly',"
            " 'phone_not_own_name', 'no_internet', 'no_chip_id'])[1 + id % 5] FROM visit_record WHERE id % 3 = 0"
        )


def build(*, force: bool) -> bool:
    """Make the load's database unless it is already there; True when it was built now."""
    _ensure_database()
    if force:
        with connect(autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
    _migrate()
    with connect() as conn:
        if _is_built(conn):
            return False
        conn.rollback()
    with connect(autocommit=True) as conn:  # anything half-made by an interrupted build goes
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    _migrate()
    now = datetime.now(UTC)
    started = time.monotonic()
    with connect() as conn:
        _units(conn, now)
        _households(conn, now)
        _people(conn, now, now.astimezone(ZONE).date())
        conn.commit()
    with connect(autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"built {TOTAL_HOUSEHOLDS:,} households by bulk SQL in {time.monotonic() - started:.0f} s")
    return True


def reset(conn) -> None:
    """The members' visits and assignments as before any run: their own visits gone, 50 households each
    assigned for today (a run's syncs close assignments and add visits)."""
    now = datetime.now(UTC)
    today = now.astimezone(ZONE).date()
    with conn.cursor() as cur:
        members = "SELECT id FROM \"user\" WHERE username LIKE 'load.member.%%'"
        # Whatever points at the members' visits goes first (reminders, messages), then the visits.
        refs = cur.execute(
            "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c JOIN pg_attribute a"
            " ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)"
            " WHERE c.contype = 'f' AND c.confrelid = 'visit_record'::regclass"
            " AND c.conrelid <> 'visit_record'::regclass AND c.confdeltype <> 'c'"
        ).fetchall()
        visits = f"SELECT id FROM visit_record WHERE member_id IN ({members})"
        for table, column in refs:
            cur.execute(f'DELETE FROM {table} WHERE "{column}" IN ({visits})')  # noqa: S608 - names from the catalog
        cur.execute(f"DELETE FROM visit_record WHERE member_id IN ({members})")  # noqa: S608
        cur.execute(f"DELETE FROM assignment WHERE member_id IN ({members})")  # noqa: S608
        cur.execute(
            "INSERT INTO assignment (household_id, member_id, campaign_id, due_on, created_at)"
            ' SELECT h.id, u.id, k.id, %s, %s FROM "user" u'
            " JOIN admin_unit v ON v.id = u.scope_unit_id JOIN campaign k ON k.commune_id = v.parent_id"
            " CROSS JOIN LATERAL (SELECT id FROM household WHERE village_id = v.id ORDER BY id LIMIT %s) h"
            " WHERE u.username LIKE 'load.member.%%'",
            (today, now, ASSIGNED),
        )
    conn.commit()


def plan(conn) -> dict:
    """Who the load's users are: members with their token, village households and bounds; leaders and
    staff with the pages they open."""
    members, leaders = [], []
    with conn.cursor() as cur:
        for username, village_id, s, w, n, e in cur.execute(
            'SELECT u.username, v.id, v.south, v.west, v.north, v.east FROM "user" u'
            " JOIN admin_unit v ON v.id = u.scope_unit_id WHERE u.username LIKE 'load.member.%%' ORDER BY u.username"
        ).fetchall():
            households = [r[0] for r in cur.execute("SELECT id FROM household WHERE village_id = %s", (village_id,))]
            token = member_token(username)
            members.append({"username": username, "token": token, "households": households, "bounds": [s, w, n, e]})
        for username, role, unit_id, level in cur.execute(
            'SELECT u.username, u.role, u.scope_unit_id, a.level FROM "user" u JOIN admin_unit a'
            " ON a.id = u.scope_unit_id WHERE u.username LIKE 'load.leader.%%' OR u.username LIKE 'load.staff.%%'"
            " ORDER BY u.username"
        ).fetchall():
            campaign = cur.execute(
                "SELECT k.id FROM campaign k JOIN admin_unit c ON c.id = k.commune_id"
                " WHERE c.path LIKE (SELECT path FROM admin_unit WHERE id = %s) || '%%' ORDER BY k.id LIMIT 1",
                (unit_id,),
            ).fetchone()[0]
            pages = [
                (f"campaigns ({level})", "/campaigns"),  # a commune's, a district's or a province's list
                (f"campaign progress ({level})", f"/campaigns/{campaign}"),
                (f"{level} map", f"/maps/units/{unit_id}"),
                (f"{level} report", f"/reports/units/{unit_id}"),
                (f"{level} impact", f"/reports/units/{unit_id}/impact"),
            ]
            if level == "commune":
                pages += [("commune household map", f"/maps/units/{unit_id}/households"), ("assign", "/assign")]
            if level == "province":
                pages.append(("province impact CSV", f"/reports/units/{unit_id}/impact?format=csv"))
            leaders.append({"username": username, "role": role, "level": level, "pages": pages})
    return {"members": members, "leaders": leaders, "password": PASSWORD}
