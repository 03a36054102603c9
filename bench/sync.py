"""3. Visit sync through ``POST /api/v1/visits/sync`` over HTTP, against the same rows inserted directly."""

import collections
import json
import random
import time
import urllib.request
import uuid
from datetime import timedelta, timezone
from pathlib import Path

from bench.fixtures import FIELD_BOUNDS, setup_field
from bench.harness import (
    NOW,
    SEED,
    close,
    databases,
    fresh_database,
    live_server,
    make_app,
    milliseconds,
    postgres_problem,
    server_kind,
    verdict,
)

SYNC_VISITS = 10_000
SYNC_VISITS_QUICK = 2_000
SYNC_BATCH = 500  # MAX_BATCH of the endpoint
SYNC_HOUSEHOLDS = 2_000
SYNC_TARGET_RATIO = 0.30
SYNC_CEILING_RUNS = 3
PROCEDURES = ["Đăng ký khai sinh", "Đăng ký thường trú", "Cấp đổi giấy phép lái xe", "Cấp phiếu lý lịch tư pháp"]
VISIT_NOTES = ["Hẹn quay lại buổi chiều", "Con trai đi làm xa, về cuối tuần", "Đã hướng dẫn cài VNeID cho cả nhà"]
VISIT_NOTES += ["Cần mang căn cước gắn chip lên xã", "Bà cụ nghe kém, nói chậm"]
OUTCOMES = {"helped": 60, "nobody_home": 20, "follow_up": 10, "refused": 6, "moved_away": 4}


def visit_payloads(count: int, household_ids: list[int], *, seed: int) -> list[dict]:
    """Visits as the phone sends them: a fresh UUID each, times of the last hours in Vietnam's time
    zone, realistic answers, 1 to 3 obstacles each (and "other" with its text now and then)."""
    from outreach.visits.models import Obstacle

    rng = random.Random(seed)
    codes = [o.value for o in Obstacle if o != Obstacle.OTHER]
    local = timezone(timedelta(hours=7))
    now = NOW
    south, west, north, east = FIELD_BOUNDS
    visits = []
    for i in range(count):
        moment = (now - timedelta(minutes=rng.randint(5, 600))).astimezone(local)
        outcome = rng.choices(list(OUTCOMES), list(OUTCOMES.values()))[0]
        visit = {
            "client_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "household_id": household_ids[i % len(household_ids)],
            "device_time": moment.isoformat(timespec="seconds"),
            "outcome": outcome,
        }
        if outcome in ("helped", "follow_up"):
            bands = [rng.randint(0, 2), rng.randint(0, 2), rng.randint(0, 1)]
            bands[1] += not sum(bands)
            visit.update(people_helped=sum(bands), helped_under_30=bands[0], helped_30_to_59=bands[1])
            visit.update(helped_60_plus=bands[2], vneid_installed=True, vneid_level1=rng.random() < 0.7)
            visit.update(referred_level2=rng.random() < 0.2, portal_login=rng.random() < 0.3)
            visit.update(fee_payment_setup=rng.random() < 0.1, guide_given=rng.choice(["", "printed", "sms"]))
            if rng.random() < 0.2:
                visit.update(procedure_submitted=True, procedure=rng.choice(PROCEDURES))
        if outcome == "follow_up":
            visit["follow_up_on"] = (moment.date() + timedelta(days=rng.randint(1, 14))).isoformat()
        visit["obstacles"] = rng.sample(codes, rng.randint(1, 3))
        if rng.random() < 0.1:
            visit["obstacles"].append(Obstacle.OTHER.value)
            visit["obstacle_other"] = "Mất điện cả thôn"
        if rng.random() < 0.5:
            lat, lon = south + rng.random() * (north - south), west + rng.random() * (east - west)
            visit.update(location_consent=True, location={"lat": lat, "lon": lon, "accuracy": rng.randint(5, 40)})
        if rng.random() < 0.3:
            visit["notes"] = rng.choice(VISIT_NOTES)
        visits.append(visit)
    return visits


def sync_over_http(base: str, token: str, visits: list[dict]) -> dict:
    """POST the visits in batches of SYNC_BATCH, one after the other, as one phone catching up."""
    bodies = [json.dumps({"visits": visits[i : i + SYNC_BATCH]}).encode() for i in range(0, len(visits), SYNC_BATCH)]
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    statuses: collections.Counter = collections.Counter()
    latencies = []
    started = time.perf_counter()
    for body in bodies:
        sent = time.perf_counter()
        request = urllib.request.Request(f"{base}/api/v1/visits/sync", data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=600) as answer:
            statuses.update(r["status"] for r in json.loads(answer.read())["results"])
        latencies.append(time.perf_counter() - sent)
    return {"seconds": time.perf_counter() - started, "latencies": latencies, "statuses": statuses}


def visit_rows(visits: list[dict], member_id: int) -> tuple[list[dict], list[list[dict]]]:
    """The visit_record and visit_obstacle rows the endpoint stores for these visits (via check_visit),
    with ids given here so each batch is one executemany per table."""
    from outreach.visits.services import check_visit

    now = NOW
    records, obstacles = [], []
    for number, payload in enumerate(visits, start=1):
        values, errors = check_visit(payload, now)
        if errors:
            raise RuntimeError(f"the generated visit {number} is invalid: {errors}")
        obstacles.append([{"visit_id": number, "code": code} for code in values.pop("obstacles")])
        values.pop("supersedes")
        records.append({**values, "id": number, "member_id": member_id, "server_time": now, "supersedes_id": None})
    return records, obstacles


def visit_counts() -> tuple[int, int]:
    import sqlalchemy as sa

    from outreach.extensions import db
    from outreach.visits.models import VisitObstacle, VisitRecord

    count = sa.select(sa.func.count())
    return db.session.scalar(count.select_from(VisitRecord)), db.session.scalar(count.select_from(VisitObstacle))


def empty_visits() -> None:
    import sqlalchemy as sa

    from outreach.extensions import db
    from outreach.visits.models import VisitObstacle, VisitRecord

    db.session.remove()
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # CASCADE: tables that may point at visits (the SMS outbox, follow-up tasks) hold none here.
            conn.execute(sa.text("TRUNCATE visit_obstacle, visit_record RESTART IDENTITY CASCADE"))
        else:
            conn.execute(sa.delete(VisitObstacle.__table__))
            conn.execute(sa.delete(VisitRecord.__table__))


def sync_ceiling(url: str, visits: list[dict], member_id: int) -> dict:
    """Count what the endpoint stored; then, SYNC_CEILING_RUNS times, empty the tables and insert the same
    rows directly: one Core executemany per SYNC_BATCH visits into visit_record, one into visit_obstacle,
    one commit. The best run is the ceiling."""
    import sqlalchemy as sa

    from outreach.extensions import db
    from outreach.planning.models import Assignment
    from outreach.visits.models import VisitObstacle, VisitRecord

    app = make_app(url)
    with app.test_request_context():
        stored = visit_counts()
        still_open = db.session.scalar(
            sa.select(sa.func.count()).select_from(Assignment).where(Assignment.released_at.is_(None))
        )
        records, obstacles = visit_rows(visits, member_id)
        runs = []
        for _run in range(SYNC_CEILING_RUNS):
            empty_visits()
            started = time.perf_counter()
            for i in range(0, len(records), SYNC_BATCH):
                with db.engine.begin() as conn:
                    conn.execute(sa.insert(VisitRecord.__table__), records[i : i + SYNC_BATCH])
                    rows = [o for v in obstacles[i : i + SYNC_BATCH] for o in v]
                    conn.execute(sa.insert(VisitObstacle.__table__), rows)
            runs.append(time.perf_counter() - started)
        inserted = visit_counts()
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # the ids were given: move the sequence past them
                conn.execute(
                    sa.text("SELECT setval(pg_get_serial_sequence('visit_record', 'id'), :n)"), {"n": len(records)}
                )
    close(app)
    return {"stored": stored, "still_open": still_open, "seconds": min(runs), "runs": runs, "inserted": inserted}


def bench_sync(tmp: Path, quick: bool, selected_db: str) -> None:
    count = SYNC_VISITS_QUICK if quick else SYNC_VISITS
    for kind in databases(selected_db):
        name = f"sync.endpoint {kind}"
        url = fresh_database(kind, tmp, "sync")
        if url is None:
            print(f"{name} SKIP (PostgreSQL unreachable: {postgres_problem()})")
            continue
        setup = setup_field(url, SYNC_HOUSEHOLDS, assigned=SYNC_HOUSEHOLDS, located=0.3)
        visits = visit_payloads(count, setup["household_ids"], seed=SEED + 1)
        expected = (count, sum(len(set(v["obstacles"])) for v in visits))
        try:
            with live_server(url, tmp, f"sync-{kind}") as (base, _requests):
                sent = sync_over_http(base, setup["token"], visits)
            result = sync_ceiling(url, visits, setup["member_id"])
        except (RuntimeError, OSError) as exc:
            print(f"{name} visits={count} {verdict(False, name)}: {exc}")
            continue
        endpoint_rate, ceiling_rate = count / sent["seconds"], count / result["seconds"]
        ratio = endpoint_rate / ceiling_rate
        stored_ok = sent["statuses"] == {"created": count} and result["stored"] == expected
        stored_ok = stored_ok and result["inserted"] == expected and result["still_open"] == 0
        ok = stored_ok and ratio >= SYNC_TARGET_RATIO
        print(
            f"{name} visits={count} seconds={sent['seconds']:.1f} records_per_s={endpoint_rate:,.0f} "
            f"ceiling_per_s={ceiling_rate:,.0f} ratio={ratio:.1%} "
            f"(target >={SYNC_TARGET_RATIO:.0%} of the ceiling) {verdict(ok, name)}"
        )
        statuses = ", ".join(f"{n} {status}" for status, n in sorted(sent["statuses"].items()))
        print(
            f"    endpoint: {len(sent['latencies'])} POSTs of {SYNC_BATCH} over HTTP to {server_kind()} "
            f"(1 worker), per request {milliseconds([s * 1000 for s in sent['latencies']])}; {statuses}; "
            f"stored visit_record/visit_obstacle = {'/'.join(map(str, result['stored']))} "
            f"(expected {'/'.join(map(str, expected))}: {'match' if stored_ok else 'MISMATCH'}), "
            f"open assignments left {result['still_open']}"
        )
        print(
            f"    ceiling: the same rows by Core executemany, {SYNC_BATCH} visits + their obstacles per "
            f"transaction, best of {SYNC_CEILING_RUNS} runs {result['seconds']:.2f} s "
            f"(runs {', '.join(f'{r:.2f}' for r in result['runs'])} s; inserted "
            f"{'/'.join(map(str, result['inserted']))}); "
            f"setup {len(setup['household_ids'])} households assigned to the member in {setup['seconds']:.1f} s"
        )
        if ratio < SYNC_TARGET_RATIO:
            for line in sync_profile(url, setup):
                print(f"    profile: {line}")


PROFILE_LABELS = {
    "flush": "Session.flush (the ORM INSERTs of the visit and its obstacles)",
    "get_household": "get_household (scope check, one SELECT per record)",
    "_close_assignment": "_close_assignment (one UPDATE per record)",
    "scalar": "Session.scalar (the client_id duplicate SELECT)",
    "__exit__": "leaving begin_nested (RELEASE SAVEPOINT)",
    "begin_nested": "begin_nested (SAVEPOINT)",
    "check_visit": "check_visit (validation)",
}


def sync_profile(url: str, setup: dict) -> list[str]:
    """Where the endpoint's time goes, on two more batches of SYNC_BATCH through the Flask test client in
    this process: one with the database calls timed by kind (engine events), one under cProfile for the
    shares of what record_visit calls."""
    import cProfile
    import pstats

    import sqlalchemy as sa

    from outreach.extensions import db

    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {setup['token']}"}
    app = make_app(url)
    client = app.test_client()
    client.get("/healthz")  # the first request and connection are not measured
    with app.app_context():
        engine = db.engine
    calls: dict[str, list] = collections.defaultdict(lambda: [0, 0.0])

    def before(conn, _cursor, _statement, _parameters, _context, _executemany):
        conn.info["bench_started"] = time.perf_counter()

    def after(conn, _cursor, statement, _parameters, _context, _executemany):
        words = statement.split()
        kind = " ".join(words[:2] if words[0] in ("SAVEPOINT", "RELEASE", "ROLLBACK") else words[:3])
        calls[kind][0] += 1
        calls[kind][1] += time.perf_counter() - conn.info.pop("bench_started")

    lines = []
    for seed in (SEED + 2, SEED + 3):
        body = json.dumps({"visits": visit_payloads(SYNC_BATCH, setup["household_ids"], seed=seed)}).encode()
        profiler = cProfile.Profile() if seed == SEED + 3 else None
        if profiler is None:
            sa.event.listen(engine, "before_cursor_execute", before)
            sa.event.listen(engine, "after_cursor_execute", after)
        else:
            profiler.enable()
        started = time.perf_counter()
        answer = client.post("/api/v1/visits/sync", data=body, headers=headers)
        seconds = time.perf_counter() - started
        if profiler is None:
            sa.event.remove(engine, "before_cursor_execute", before)
            sa.event.remove(engine, "after_cursor_execute", after)
        else:
            profiler.disable()
        statuses = collections.Counter(r["status"] for r in (answer.get_json() or {}).get("results", []))
        if answer.status_code != 200 or statuses != {"created": SYNC_BATCH}:
            close(app)
            return [f"the profiled request answered {answer.status_code}: {dict(statuses)}"]
        if profiler is None:
            in_db = sum(t for _n, t in calls.values())
            count = sum(n for n, _t in calls.values())
            top = sorted(calls.items(), key=lambda item: -item[1][1])[:6]
            lines.append(
                f"one POST of {SYNC_BATCH} in-process: {seconds:.2f} s, of which {in_db:.2f} s ({in_db / seconds:.0%}) "
                f"in {count:,} database calls: " + ", ".join(f"{k} {t:.2f} s ({n})" for k, (n, t) in top)
            )
        else:
            lines.append(f"another under cProfile: {seconds:.2f} s; what record_visit calls, as a share of that time:")
            children = []
            for (path, line, function), (*_counts, callers) in pstats.Stats(profiler).stats.items():
                for caller, (_cc, ncalls, _tt, cumtime) in callers.items():
                    if caller[2] == "record_visit" and cumtime / seconds >= 0.01:
                        where = f"{Path(path).parent.name}/{Path(path).name}:{line}"
                        children.append((cumtime, ncalls, f"{PROFILE_LABELS.get(function, function)} [{where}]"))
            for cumtime, ncalls, label in sorted(children, reverse=True):
                lines.append(f"  {cumtime / seconds:4.0%} {label}, {ncalls} calls")
    close(app)
    return lines
