"""3. Visit sync through ``POST /api/v1/visits/sync`` over HTTP, against the same rows inserted directly."""

import collections
import json
import random
import statistics
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
SYNC_TARGET_RATIO = 0.35  # of COPY on PostgreSQL (of executemany on SQLite, which has no COPY)
SYNC_WARM_UP = 6  # batches sent before the rounds
SYNC_ROUNDS = 5
SYNC_ROUNDS_QUICK = 3
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
    from outreach.visits.checks import check_visit

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


def anonymous_count() -> int:
    """Sensitive facts counted for their village, linked to nobody (a disability without consent)."""
    import sqlalchemy as sa

    from outreach.extensions import db
    from outreach.visits.models import AnonymousFact

    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(AnonymousFact.count), 0)))


def empty_visits() -> None:
    import sqlalchemy as sa

    from outreach.extensions import db
    from outreach.visits.models import AnonymousFact, VisitObstacle, VisitRecord

    db.session.remove()
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # CASCADE: tables that may point at visits (the SMS outbox, follow-up tasks) hold none here.
            conn.execute(sa.text("TRUNCATE visit_obstacle, visit_record, anonymous_fact RESTART IDENTITY CASCADE"))
        else:
            conn.execute(sa.delete(VisitObstacle.__table__))
            conn.execute(sa.delete(VisitRecord.__table__))
            conn.execute(sa.delete(AnonymousFact.__table__))


def reopen_assignments() -> None:
    """Every assignment open again, as before the first round, so each round of the endpoint does the
    same work (closing the assignments of the households where someone was met)."""
    import sqlalchemy as sa

    from outreach.extensions import db
    from outreach.planning.models import Assignment

    with db.engine.begin() as conn:
        conn.execute(sa.update(Assignment.__table__).values(released_at=None, released_reason=None, tried_at=None))


def insert_by_executemany(records: list[dict], obstacles: list[list[dict]]) -> None:
    """The rows by one SQLAlchemy Core executemany per table, SYNC_BATCH visits per transaction."""
    import sqlalchemy as sa

    from outreach.extensions import db
    from outreach.visits.models import VisitObstacle, VisitRecord

    for i in range(0, len(records), SYNC_BATCH):
        with db.engine.begin() as conn:
            conn.execute(sa.insert(VisitRecord.__table__), records[i : i + SYNC_BATCH])
            conn.execute(sa.insert(VisitObstacle.__table__), [o for v in obstacles[i : i + SYNC_BATCH] for o in v])


def insert_by_copy(records: list[dict], obstacles: list[list[dict]]) -> None:
    """The rows by PostgreSQL's COPY FROM STDIN (psycopg), SYNC_BATCH visits per transaction: the fastest
    raw path of the same rows into the database."""
    from outreach.extensions import db

    columns = list(records[0])
    raw = db.engine.raw_connection()
    try:
        connection = raw.driver_connection
        assert connection is not None
        for i in range(0, len(records), SYNC_BATCH):
            with connection.transaction(), connection.cursor() as cursor:
                with cursor.copy(f"COPY visit_record ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in records[i : i + SYNC_BATCH]:
                        copy.write_row([row[c] for c in columns])
                with cursor.copy("COPY visit_obstacle (visit_id, code) FROM STDIN") as copy:
                    for visit in obstacles[i : i + SYNC_BATCH]:
                        for obstacle in visit:
                            copy.write_row((obstacle["visit_id"], obstacle["code"]))
    finally:
        raw.close()


def insert_by_unnest(records: list[dict], obstacles: list[list[dict]]) -> None:
    """The rows by the endpoint's own statement (``_insert_ignoring_duplicates``: one INSERT ... SELECT
    FROM unnest of one array per column, ON CONFLICT DO NOTHING RETURNING) and one executemany of the
    obstacles, SYNC_BATCH visits per transaction; without the endpoint's checks, scope and assignments."""
    import sqlalchemy as sa

    from outreach.extensions import db
    from outreach.visits.models import VisitObstacle
    from outreach.visits.services import _insert_ignoring_duplicates

    for i in range(0, len(records), SYNC_BATCH):
        rows = [{k: v for k, v in row.items() if k != "id"} for row in records[i : i + SYNC_BATCH]]
        created = _insert_ignoring_duplicates(rows)
        numbers = {row["client_id"]: row["id"] for row in records[i : i + SYNC_BATCH]}
        by_number = {numbers[client_id]: visit_id for client_id, visit_id in created.items()}
        rows_of_obstacles = [
            {"visit_id": by_number[o["visit_id"]], "code": o["code"]} for v in obstacles[i : i + SYNC_BATCH] for o in v
        ]
        db.session.execute(sa.insert(VisitObstacle.__table__), rows_of_obstacles)
        db.session.commit()


def sync_rounds(url: str, base: str, token: str, visits: list[dict], member_id: int, rounds: int) -> dict:
    """``rounds`` rounds, each the endpoint over HTTP, then the same rows by COPY, by the endpoint's unnest
    insert (PostgreSQL) and by executemany, interleaved so that every path meets the same machine; the
    tables emptied (and the assignments reopened) before each. Returns every path's times, the
    endpoint's answers, and the rows each path stored."""
    import sqlalchemy as sa

    from outreach.extensions import db
    from outreach.planning.models import Assignment

    app = make_app(url)
    times: dict[str, list[float]] = collections.defaultdict(list)
    stored: dict[str, tuple[int, int]] = {}
    statuses: collections.Counter = collections.Counter()
    latencies: list[float] = []
    still_open = anonymous = 0
    with app.test_request_context():
        records, obstacles = visit_rows(visits, member_id)
        postgres = db.engine.dialect.name == "postgresql"
        paths = {"copy": insert_by_copy, "unnest": insert_by_unnest} if postgres else {}
        paths["executemany"] = insert_by_executemany
        # Warm-up batches, not counted: the worker's first request loads what it loads once, and psycopg
        # prepares a statement at its fifth run on a connection (outreach/bulk.py): what is measured is the
        # worker as it serves all day.
        warm_up = visit_payloads(SYNC_BATCH * SYNC_WARM_UP, [r["household_id"] for r in records], seed=SEED + 9)
        sync_over_http(base, token, warm_up)
        for _round in range(rounds):
            empty_visits()
            reopen_assignments()
            sent = sync_over_http(base, token, visits)
            times["endpoint"].append(sent["seconds"])
            statuses, latencies = sent["statuses"], latencies + sent["latencies"]
            stored["endpoint"] = visit_counts()
            anonymous = anonymous_count()
            still_open = db.session.scalar(
                sa.select(sa.func.count()).select_from(Assignment).where(Assignment.released_at.is_(None))
            )
            for name, insert in paths.items():
                empty_visits()
                started = time.perf_counter()
                insert(records, obstacles)
                times[name].append(time.perf_counter() - started)
                stored[name] = visit_counts()
                db.session.remove()
        empty_visits()
    close(app)
    return {
        "times": dict(times),
        "stored": stored,
        "anonymous": anonymous,
        "statuses": statuses,
        "latencies": latencies,
        "open": still_open,
    }


def bench_sync(tmp: Path, quick: bool, selected_db: str) -> None:
    count = SYNC_VISITS_QUICK if quick else SYNC_VISITS
    rounds = SYNC_ROUNDS_QUICK if quick else SYNC_ROUNDS
    for kind in databases(selected_db):
        name = f"sync.endpoint {kind}"
        url = fresh_database(kind, tmp, "sync")
        if url is None:
            print(f"{name} SKIP (PostgreSQL unreachable: {postgres_problem()})")
            continue
        setup = setup_field(url, SYNC_HOUSEHOLDS, assigned=SYNC_HOUSEHOLDS, located=0.3)
        visits = visit_payloads(count, setup["household_ids"], seed=SEED + 1)
        # The raw paths store every obstacle; the endpoint keeps a disability only with the resident's consent
        # (none here) and counts it for the village instead.
        from outreach.visits.models import SENSITIVE_OBSTACLES

        expected = (count, sum(len(set(v["obstacles"])) for v in visits))
        sensitive = sum(len(SENSITIVE_OBSTACLES.intersection(v["obstacles"])) for v in visits)
        expected_by = {"endpoint": (count, expected[1] - sensitive)}
        met = {v["household_id"] for v in visits if v["outcome"] != "nobody_home"}
        left_open = len({v["household_id"] for v in visits} - met)  # nobody home at every try: kept for another
        try:
            with live_server(url, tmp, f"sync-{kind}") as (base, _requests):
                result = sync_rounds(url, base, setup["token"], visits, setup["member_id"], rounds)
        except (RuntimeError, OSError) as exc:
            print(f"{name} visits={count} {verdict(False, name)}: {exc}")
            continue
        medians = {path: statistics.median(runs) for path, runs in result["times"].items()}
        ceiling = "copy" if "copy" in medians else "executemany"
        rate = {path: count / seconds for path, seconds in medians.items()}
        ratio = rate["endpoint"] / rate[ceiling]
        stored_ok = result["statuses"] == {"created": count} and result["open"] == left_open
        stored_ok = stored_ok and result["anonymous"] == sensitive
        stored_ok = stored_ok and all(n == expected_by.get(path, expected) for path, n in result["stored"].items())
        ok = stored_ok and ratio >= SYNC_TARGET_RATIO
        print(
            f"{name} visits={count} rounds={rounds} median_s={medians['endpoint']:.2f} "
            f"records_per_s={rate['endpoint']:,.0f} {ceiling}_per_s={rate[ceiling]:,.0f} ratio={ratio:.1%} "
            f"(target >={SYNC_TARGET_RATIO:.0%} of {ceiling.upper() if ceiling == 'copy' else ceiling}) "
            f"{verdict(ok, name)}"
        )
        statuses = ", ".join(f"{n} {status}" for status, n in sorted(result["statuses"].items()))
        print(
            f"    endpoint: {count // SYNC_BATCH} POSTs of {SYNC_BATCH} a round over HTTP to {server_kind()} "
            f"(1 worker), per request {milliseconds([s * 1000 for s in result['latencies']])}; last round {statuses}; "
            f"open assignments left {result['open']} (expected {left_open}: nobody home at every try)"
        )
        for path in result["times"]:
            runs = ", ".join(f"{r:.2f}" for r in result["times"][path])
            wanted = "/".join(map(str, expected_by.get(path, expected)))
            counted = ""
            if path == "endpoint":
                counted = f"; {result['anonymous']} disabilities counted for the village (expected {sensitive})"
            print(
                f"    {path}: median {medians[path]:.2f} s = {rate[path]:,.0f} visits/s "
                f"({rate['endpoint'] / rate[path]:.0%} of it by the endpoint; rounds {runs} s); stored "
                f"{'/'.join(map(str, result['stored'][path]))} (expected {wanted}){counted}"
            )
        print(
            f"    rounds interleaved: endpoint, then {', '.join(p for p in result['times'] if p != 'endpoint')}, "
            f"tables emptied before each; setup {len(setup['household_ids'])} households assigned in "
            f"{setup['seconds']:.1f} s"
        )
        if ratio < SYNC_TARGET_RATIO:
            for line in sync_profile(url, setup):
                print(f"    profile: {line}")


PROFILE_LABELS = {
    "check_visit": "check_visit (types, limits and rules of each record)",
    "_found_in_scope": "_found_in_scope (the batch's households in the member's area: one SELECT)",
    "_insert_ignoring_duplicates": "_insert_ignoring_duplicates (the visits: one INSERT of arrays)",
    "_insert_obstacles": "_insert_obstacles (their obstacles: one INSERT of arrays)",
    "_sensitive_apart": "_sensitive_apart (disabilities without consent counted for the village)",
    "send": "visits_stored (planning closes the assignments, one UPDATE, or keeps them for another try; "
    "requests closes the requests)",
}


def sync_profile(url: str, setup: dict) -> list[str]:
    """Where the endpoint's time goes, on two more batches of SYNC_BATCH through the Flask test client in
    this process: one with the database calls timed by kind (engine events), one under cProfile for the
    shares of what _store_batch calls."""
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
            lines.append(f"another under cProfile: {seconds:.2f} s; what _store_batch calls, as a share of that time:")
            children = []
            for (path, line, function), (*_counts, callers) in pstats.Stats(profiler).stats.items():
                for caller, (_cc, ncalls, _tt, cumtime) in callers.items():
                    if caller[2] == "_store_batch" and cumtime / seconds >= 0.01:
                        where = f"{Path(path).parent.name}/{Path(path).name}:{line}"
                        children.append((cumtime, ncalls, f"{PROFILE_LABELS.get(function, function)} [{where}]"))
            for cumtime, ncalls, label in sorted(children, reverse=True):
                lines.append(f"  {cumtime / seconds:4.0%} {label}, {ncalls} calls")
    close(app)
    return lines
