"""4. The walk list: ``walk_order`` on 300 stops, then ``walk_list`` end to end."""

import functools
import gc
import itertools
import random
import statistics
import time
from pathlib import Path

from bench.fixtures import FIELD_BOUNDS, setup_field
from bench.harness import SEED, close, databases, fresh_database, make_app, milliseconds, postgres_problem, verdict

WALK_STOPS = 300
WALK_RUNS = 20
WALK_RUNS_QUICK = 5
WALK_TARGET_MS = 200.0
WALK_START = (21.8185, 105.1790)  # just outside the ward's south-west corner, where the main road comes in


def walk_stops(count: int) -> list:
    from outreach.planning.walk_order import Stop

    rng = random.Random(SEED + 4)
    south, west, north, east = FIELD_BOUNDS
    return [Stop(i, south + rng.random() * (north - south), west + rng.random() * (east - west)) for i in range(count)]


def path_km(points: list[tuple[float, float]]) -> float:
    from geopy.distance import geodesic

    return sum(geodesic(a, b).meters for a, b in itertools.pairwise(points)) / 1000


def timed_ms(function, runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each of ``runs`` calls, after one warm-up call that is not counted;
    a garbage collection before each run."""
    function()
    wall, cpu = [], []
    for _ in range(runs):
        gc.collect()  # each run starts without the garbage of the previous one
        started, cpu_started = time.perf_counter(), time.process_time()
        function()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    return wall, cpu


def walk_verdict(name: str, wall: list[float], cpu: list[float], ok: bool = True) -> str:
    """Under target: the wall-clock median, and the slowest run in CPU time. The wall-clock maximum is
    printed too, but other processes on the machine can stretch it: the input is the same every run."""
    ok = ok and statistics.median(wall) < WALK_TARGET_MS and max(cpu) < WALK_TARGET_MS
    return (
        f"{milliseconds(wall)} cpu_max_ms={max(cpu):.1f} "
        f"(target <{WALK_TARGET_MS:g} ms: median, and max in CPU time) {verdict(ok, name)}"
    )


def bench_walk(tmp: Path, quick: bool, selected_db: str) -> None:
    """walk_order on 300 stops spread over a ward, then walk_list (query + ordering) for a member."""
    from outreach.planning.walk_order import walk_order

    runs = WALK_RUNS_QUICK if quick else WALK_RUNS
    stops = walk_stops(WALK_STOPS)
    listed_km = path_km([(s.lat, s.lon) for s in stops])
    for label, start in (("no-start", None), ("from-position", WALK_START)):
        name = f"walk.order {label}"
        wall, cpu = timed_ms(functools.partial(walk_order, stops, start), runs)
        ordered = walk_order(stops, start)
        complete = sorted(s.key for s, _leg in ordered) == list(range(WALK_STOPS))
        walked_km = sum(leg for _s, leg in ordered if leg is not None) / 1000
        print(
            f"{name} stops={WALK_STOPS} runs={runs} walk_km={walked_km:.1f} (list order {listed_km:.0f} km) "
            f"{walk_verdict(name, wall, cpu, complete)}"
        )
    for kind in databases(selected_db):
        name = f"walk.list {kind}"
        url = fresh_database(kind, tmp, "walk")
        if url is None:
            print(f"{name} SKIP (PostgreSQL unreachable: {postgres_problem()})")
            continue
        setup = setup_field(url, WALK_STOPS, assigned=WALK_STOPS)
        result = walk_list_times(url, setup, runs)
        complete = result["stops"] == WALK_STOPS and result["legs"] == WALK_STOPS - 1
        print(
            f"{name} households={result['stops']} runs={runs} "
            f"{walk_verdict(name, result['wall'], result['cpu'], complete)}"
        )
        print(
            f"    walk_list(member, today=..., position=None): the query of the open assignments with their "
            f"households, then walk_order; a new session each run; {result['legs']} legs "
            f"({result['walked_km']:.1f} km); setup {setup['seconds']:.1f} s"
        )


def walk_list_times(url: str, setup: dict, runs: int) -> dict:
    from outreach.auth.models import User
    from outreach.extensions import db
    from outreach.planning.services import walk_list

    app = make_app(url)
    wall, cpu = [], []
    with app.test_request_context():
        for _ in range(runs + 1):  # the first run warms up and is not counted
            db.session.remove()  # each run as a new request: nothing in the identity map
            member = db.session.get(User, setup["member_id"])
            gc.collect()
            started, cpu_started = time.perf_counter(), time.process_time()
            stops = walk_list(member, today=setup["today"])
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
        legs = [s.leg_m for s in stops if s.leg_m is not None]
    close(app)
    return {"wall": wall[1:], "cpu": cpu[1:], "stops": len(stops), "legs": len(legs), "walked_km": sum(legs) / 1000}
