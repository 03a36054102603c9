"""``make load`` (``python -m bench.load``): the field's busy hour on this machine, bounded in time.

On PostgreSQL (database ``outreach_load``, or LOAD_DATABASE_URL): 1,000,000 households in five provinces
(10 districts of 10 communes each, 10 villages of 200 households per commune, so every commune holds
2,000 households, Tân Hà among them), made by bulk SQL once and reused by later runs; one campaign per
commune; 100,000 earlier visits. 200 members (one per village of 20 communes, four per province) with 50
households each assigned for today, 10 commune leaders, 5 district and 5 province staff.

Each run puts the members' visits and assignments back as they were, starts gunicorn with
deploy/gunicorn.conf.py (4 sync workers, production settings, on loopback), and runs locust headless
for ``--duration`` seconds (bench/load_locust.py): members fetch their assignments, then send batches
of 10 to 50 visits, 5% of them sent twice; leaders and staff open maps, progress and reports. While it
runs, each worker's resident memory is read from /proc. Then it prints the requests, the errors, p95 of
sync, assignments and the leader pages (each kind), each worker's peak memory, and checks that the
database holds exactly one visit per client_id the server answered; OK or FAIL per target."""

import argparse
import contextlib
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
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


def _connect(url: str = LOAD_URL, **kwargs):
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
    with _connect(str(url.set(database="postgres")), autocommit=True) as conn:
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
        with _connect(autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
    _migrate()
    with _connect() as conn:
        if _is_built(conn):
            return False
        conn.rollback()
    with _connect(autocommit=True) as conn:  # anything half-made by an interrupted build goes
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    _migrate()
    now = datetime.now(UTC)
    started = time.monotonic()
    with _connect() as conn:
        _units(conn, now)
        _households(conn, now)
        _people(conn, now, now.astimezone(ZONE).date())
        conn.commit()
    with _connect(autocommit=True) as conn:
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


# --- the run -------------------------------------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(port: int, log: Path):
    """The app as production runs it: deploy/gunicorn.conf.py, 4 sync workers, production settings."""
    env = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")},
        "FLASK_CONFIG": "production",
        "SECRET_KEY": "load-test-" + "0" * 54,
        "DATABASE_URL": LOAD_URL,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "PUBLIC_BASE_URL": "https://outreach.load-test.example",
        "SESSION_COOKIE_SECURE": "0",  # plain HTTP on loopback (nginx's TLS is not what is measured)
        "SMS_GATEWAY": "twilio",  # nothing is sent: no scheduler runs
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "load-test",
        "TWILIO_FROM": "+15005550006",
        "TWILIO_API_BASE": "http://127.0.0.1:9",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(WORKERS),
        "GUNICORN_NAME": "outreach-load",
        "PROMETHEUS_MULTIPROC_DIR": str(log.parent / "metrics"),
    }
    command = [str(Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py"]
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    raise SystemExit(f"gunicorn stopped:\n{log.read_text()[-3000:]}")
                with (
                    contextlib.suppress(OSError),
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer,
                ):
                    if answer.status == 200:
                        break
                if time.monotonic() > deadline:
                    raise SystemExit(f"gunicorn gave no answer within 60 s:\n{log.read_text()[-3000:]}")
                time.sleep(0.2)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError):
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
            if int(fields.get("PPid", "0")) == pid:
                found.append(int(status.parent.name))
    return found


def _rss_mb(pid: int) -> float | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


def _cpu_s(pid: int) -> float | None:
    """CPU seconds (user and system) a process has used so far."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return None


def _database_processes() -> list[int]:
    """PostgreSQL's backends serving the load's database (their title names it) and their parallel workers."""
    from sqlalchemy.engine import make_url

    name = make_url(LOAD_URL).database or ""
    backends, helpers = [], []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            title = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if title.startswith("postgres: ") and f" {name} " in title:
                backends.append(int(cmdline.parent.name))
            elif title.startswith("postgres: ") and "parallel worker for PID " in title:
                helpers.append((int(cmdline.parent.name), int(title.rsplit("PID ", 1)[1].split()[0])))
    return backends + [pid for pid, leader in helpers if leader in backends]


class MemoryWatch(threading.Thread):
    """Each gunicorn worker's resident memory, read from /proc twice a second; the peak of each, and the
    CPU time each used (so a run starved by other work on the machine shows as such)."""

    def __init__(self, master: int):
        super().__init__(daemon=True)
        self.master, self.peaks, self.cpu, self.stop = master, {}, {}, threading.Event()
        self.cpu_at_start = {pid: _cpu_s(pid) or 0.0 for pid in _children(master)}
        self.database_cpu: dict[int, float] = {}  # PostgreSQL's processes serving the load's database
        self.database_at_start = {pid: _cpu_s(pid) or 0.0 for pid in _database_processes()}

    def run(self):
        while not self.stop.wait(0.5):
            for pid in _database_processes():
                cpu = _cpu_s(pid)
                if cpu is not None:
                    self.database_cpu[pid] = cpu - self.database_at_start.get(pid, 0.0)
            for pid in _children(self.master):
                rss, cpu = _rss_mb(pid), _cpu_s(pid)
                if rss is not None:
                    self.peaks[pid] = max(rss, self.peaks.get(pid, 0.0))
                if cpu is not None:
                    self.cpu[pid] = cpu - self.cpu_at_start.get(pid, 0.0)


def p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=180, help="seconds of load (default 180)")
    parser.add_argument("--rebuild", action="store_true", help="make the 1,000,000 households again")
    parser.add_argument("--member-wait", default="10,30", help="seconds between a member's batches: MIN,MAX")
    parser.add_argument("--leader-wait", default="10,30", help="seconds between a leader's pages: MIN,MAX")
    parser.add_argument("--no-alone", action="store_true", help="skip timing each leader page alone after the load")
    args = parser.parse_args(argv)

    began = time.monotonic()
    build(force=args.rebuild)
    with _connect() as conn:
        reset(conn)
        the_plan = plan(conn)
    tmp = Path(tempfile.mkdtemp(prefix="outreach-load-"))
    (tmp / "plan.json").write_text(json.dumps(the_plan), encoding="utf-8")
    members, leaders = len(the_plan["members"]), len(the_plan["leaders"])
    print(
        f"# make load: {TOTAL_HOUSEHOLDS:,} households (PostgreSQL), {members} members and {leaders} leaders and "
        f"staff for {args.duration} s against gunicorn with {WORKERS} workers on {os.cpu_count()} CPUs; "
        f"members wait {args.member_wait} s between batches, leaders {args.leader_wait} s between pages"
    )
    port = _free_port()
    with gunicorn(port, tmp / "gunicorn.log") as server:
        watch = MemoryWatch(server.pid)
        watch.start()
        env = {
            **os.environ,
            "LOAD_PLAN": str(tmp / "plan.json"),
            "LOAD_OUT": str(tmp / "out.json"),
            "LOAD_MEMBER_WAIT": args.member_wait,
            "LOAD_LEADER_WAIT": args.leader_wait,
        }
        locust = [
            str(Path(sys.executable).parent / "locust"), "-f", str(ROOT / "bench" / "load_locust.py"), "--headless",
            "--host", f"http://127.0.0.1:{port}", "-u", str(members + leaders), "-r", "20",
            "-t", f"{args.duration}s", "--stop-timeout", "30", "--only-summary", "--loglevel", "WARNING",
        ]  # fmt: skip
        load_before = _loadavg()
        done = subprocess.run(locust, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        load_after = _loadavg()
        watch.stop.set()
        watch.join()
        alone = [] if args.no_alone else pages_alone(f"http://127.0.0.1:{port}", the_plan)
    if not (tmp / "out.json").exists():
        print(done.stdout[-3000:], done.stderr[-3000:])
        return 1
    out = json.loads((tmp / "out.json").read_text())
    used = sum(watch.cpu.values())
    print(f"machine load (1-minute average, {os.cpu_count()} CPUs, other work included): {load_before} before, "
          f"{load_after} at the end; the {WORKERS} workers used {used:.0f} CPU-seconds in {args.duration} s "
          f"({used / args.duration:.2f} of the {os.cpu_count()} CPUs), PostgreSQL's processes for it about "
          f"{sum(watch.database_cpu.values()):.0f}")  # fmt: skip
    return report(out, watch.peaks, alone, args.duration, time.monotonic() - began)


def _loadavg() -> str:
    with contextlib.suppress(OSError):
        return Path("/proc/loadavg").read_text().split()[0]
    return "?"


def pages_alone(base: str, the_plan: dict, timeout: float = 60) -> list[tuple[str, str, float | None, int]]:
    """Each kind of leader page once, one request at a time once the load is over: what a page costs by
    itself, so a slow page is told apart from a page that waited behind others. (name, path, s, bytes)."""
    import re

    import requests

    timed, seen = [], set()
    for leader in the_plan["leaders"]:
        session = requests.Session()
        page = session.get(f"{base}/login", timeout=timeout).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        form = {"username": leader["username"], "password": the_plan["password"], "csrf_token": token}
        session.post(f"{base}/login", data=form, allow_redirects=False, timeout=timeout)
        for kind, path in leader["pages"]:
            if kind in seen:
                continue
            seen.add(kind)
            started = time.perf_counter()
            try:
                answer = session.get(path if path.startswith("http") else base + path, timeout=timeout)
                timed.append((kind, path, time.perf_counter() - started, len(answer.content)))
            except requests.Timeout:
                timed.append((kind, path, None, 0))
    return timed


def report(out: dict, peaks: dict[int, float], alone: list, duration: int, elapsed: float) -> int:
    failures = []

    def line(ok: bool, text: str) -> None:
        if not ok:
            failures.append(text)
        print(f"{'OK  ' if ok else 'FAIL'} {text}")

    requests = [r for r in out["requests"] if r[0] not in ("login page", "login")]
    errors = [r for r in out["requests"] if r[2]]
    by_name: dict[str, list[float]] = {}
    for name, ms, _failed, _status in requests:
        by_name.setdefault(name, []).append(ms / 1000)
    leader = leader_pages = [s for name, times in by_name.items() if name.startswith("leader: ") for s in times]
    print(f"requests: {len(out['requests']):,} in {duration} s ({out['batches']:,} sync batches, "
          f"{out['batches'] / duration:.1f} a second, {out['resent']} re-sent; {out['visits_sent']:,} visits; "
          f"{len(by_name.get('assignments', []))} assignment lists; {len(leader_pages)} leader pages)")  # fmt: skip
    for name in sorted(by_name):
        times = by_name[name]
        print(f"  {name:40} n={len(times):6,}  median={statistics.median(times):6.2f} s  p95={p95(times):6.2f} s  "
              f"max={max(times):6.2f} s")  # fmt: skip
    first = f"; first: {errors[:3]} {out['rejected'][:2]}" if errors else ""
    line(not errors, f"errors: {len(errors)} (target 0){first}")
    for name in ("sync", "assignments"):
        value = p95(by_name.get(name, []))
        line(value < TARGET_P95_S, f"p95 {name}: {value:.2f} s (target under {TARGET_P95_S} s)")
    value = p95(leader)
    slow = sorted(((p95(t), n) for n, t in by_name.items() if n.startswith("leader: ")), reverse=True)[:3]
    line(value < TARGET_P95_S, f"p95 leader pages: {value:.2f} s (target under {TARGET_P95_S} s); slowest: "
         + ", ".join(f"{n.removeprefix('leader: ')} {s:.2f} s" for s, n in slow))  # fmt: skip
    if alone:
        print("each leader page alone, after the load (one request at a time):")
        for name, path, seconds, size in alone:
            took = f"{seconds:6.2f} s" if seconds is not None else "  > 60 s"
            print(f"  {name:40} {took}  {size / 1024:7.0f} KB  {path}")
    worst = max(peaks.values(), default=float("nan"))
    line(
        bool(peaks) and worst < TARGET_RSS_MB,
        f"peak RSS per worker: {', '.join(f'{v:.0f}' for v in sorted(peaks.values()))} MB "
        f"({len(peaks)} workers seen; target under {TARGET_RSS_MB} MB)",
    )
    answered = out["answered"]
    with _connect() as conn:
        stored, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT client_id) FROM visit_record WHERE client_id = ANY(%s)", (answered,)
        ).fetchone()
        by_members = conn.execute(
            "SELECT count(*) FROM visit_record WHERE member_id IN"
            " (SELECT id FROM \"user\" WHERE username LIKE 'load.member.%%')"
        ).fetchone()[0]
    line(
        stored == distinct == len(answered) and by_members >= len(answered),
        f"stored visits: {stored:,} rows for {len(answered):,} distinct client_ids answered "
        f"({by_members:,} stored for the members in all; target exactly one per client_id)",
    )
    print(f"# {'FAILED: ' + '; '.join(f.split(':')[0] for f in failures) if failures else 'all targets met'} "
          f"({elapsed:.0f} s in all)")  # fmt: skip
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
