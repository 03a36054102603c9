"""The users of ``make load`` (bench/load.py starts locust with this file; it imports nothing of the app).

Members (``fixed_count`` from LOAD_MEMBERS) fetch their assignments, then send batches of 10 to 50
visits through ``POST /api/v1/visits/sync`` with their API token, a share of the batches sent twice
(a phone that lost the answer); now and then they fetch their assignments again. Leaders and staff
(LOAD_LEADERS) log in, then open their maps, campaign progress and reports.

The plan (who is who, which households, which pages) is a JSON file named by LOAD_PLAN; what was
asked and answered is written to LOAD_OUT when locust stops: every request's name, time and whether
it failed, every client_id the server answered as stored, and how many batches were re-sent."""

import itertools
import json
import os
import random
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone

from locust import HttpUser, between, events, task

PLAN = json.loads(open(os.environ["LOAD_PLAN"], encoding="utf-8").read())  # noqa: SIM115
OUT = os.environ["LOAD_OUT"]
RESEND_SHARE = float(os.environ.get("LOAD_RESEND_SHARE", "0.05"))
MEMBER_WAIT = tuple(float(x) for x in os.environ.get("LOAD_MEMBER_WAIT", "5,20").split(","))
LEADER_WAIT = tuple(float(x) for x in os.environ.get("LOAD_LEADER_WAIT", "5,15").split(","))

OBSTACLES = ["no_smartphone", "phone_not_own_name", "elderly", "no_internet", "no_chip_id", "language", "disability"]
OUTCOMES = {"helped": 60, "nobody_home": 20, "follow_up": 10, "refused": 6, "moved_away": 4}
NOTES = ["Hẹn quay lại buổi chiều", "Đã hướng dẫn cài VNeID cho cả nhà", "Bà cụ nghe kém, nói chậm", ""]
LOCAL = timezone(timedelta(hours=7))

_members = itertools.count()
_leaders = itertools.count()
requests_seen: list[list] = []  # [name, milliseconds, failed, status]
answered: set[str] = set()  # client_ids the server answered "created" or "duplicate"
rejected: list[dict] = []
counts = {"batches": 0, "resent": 0, "visits_sent": 0}


@events.request.add_listener
def _record(request_type, name, response_time, response_length, response=None, exception=None, **_kwargs):
    status = getattr(response, "status_code", 0) if response is not None else 0
    requests_seen.append([name, response_time, exception is not None, status])


@events.quitting.add_listener
def _write(environment, **_kwargs):
    with open(OUT, "w", encoding="utf-8") as out:
        json.dump({"requests": requests_seen, "answered": sorted(answered), "rejected": rejected[:20], **counts}, out)


def _visit(rng: random.Random, household_id: int, bounds: list[float]) -> dict:
    moment = (datetime.now(UTC) - timedelta(minutes=rng.randint(1, 240))).astimezone(LOCAL)
    outcome = rng.choices(list(OUTCOMES), list(OUTCOMES.values()))[0]
    visit: dict = {
        "client_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "household_id": household_id,
        "device_time": moment.isoformat(timespec="seconds"),
        "outcome": outcome,
        "obstacles": rng.sample(OBSTACLES, rng.randint(0, 2)),
    }
    if outcome in ("helped", "follow_up"):
        visit.update(people_helped=2, helped_under_30=1, helped_30_to_59=1, helped_60_plus=0, vneid_installed=True)
        visit.update(vneid_level1=rng.random() < 0.7, portal_login=rng.random() < 0.3, guide_given="printed")
    if outcome == "follow_up":
        visit["follow_up_on"] = (moment.date() + timedelta(days=rng.randint(1, 14))).isoformat()
    if rng.random() < 0.5:
        south, west, north, east = bounds
        lat, lon = south + rng.random() * (north - south), west + rng.random() * (east - west)
        visit.update(location_consent=True, location={"lat": lat, "lon": lon, "accuracy": rng.randint(5, 40)})
    visit["notes"] = rng.choice(NOTES)
    return visit


class Member(HttpUser):
    fixed_count = len(PLAN["members"])
    wait_time = between(*MEMBER_WAIT)

    def on_start(self):
        self.me = PLAN["members"][next(_members) % len(PLAN["members"])]
        self.rng = random.Random(self.me["username"])
        self.headers = {"Authorization": f"Bearer {self.me['token']}", "Accept-Encoding": "gzip"}
        self.assigned: list[int] = []
        self.batches = 0
        self.fetch_assignments()

    def fetch_assignments(self):
        with self.client.get("/api/v1/assignments", headers=self.headers, name="assignments", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")
                return
            self.assigned = [a["household_id"] for a in r.json()["assignments"]]

    def send(self, batch: list[dict], name: str) -> None:
        with self.client.post(
            "/api/v1/visits/sync", json={"visits": batch}, headers=self.headers, name=name, catch_response=True
        ) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")
                return
            for result in r.json()["results"]:
                if result["status"] in ("created", "duplicate"):
                    answered.add(result["client_id"])
                else:
                    rejected.append(result)
                    r.failure(f"visit {result['status']}: {result.get('errors')}")

    @task
    def sync(self):
        size = self.rng.randint(10, 50)
        # Assigned households first (the walk list), then others of the village (a neighbour asked too).
        chosen = self.assigned[:size]
        self.assigned = self.assigned[size:]
        chosen += self.rng.sample(self.me["households"], size - len(chosen))
        batch = [_visit(self.rng, household, self.me["bounds"]) for household in chosen]
        counts["batches"] += 1
        counts["visits_sent"] += len(batch)
        self.send(batch, "sync")
        if self.rng.random() < RESEND_SHARE:  # the answer was lost on the way: the phone sends it again
            counts["resent"] += 1
            self.send(batch, "sync")
        self.batches += 1
        if self.batches % 4 == 0:
            self.fetch_assignments()


class Leader(HttpUser):
    fixed_count = len(PLAN["leaders"])
    wait_time = between(*LEADER_WAIT)

    def on_start(self):
        self.me = PLAN["leaders"][next(_leaders) % len(PLAN["leaders"])]
        self.rng = random.Random(self.me["username"])
        self.client.headers["Accept-Encoding"] = "gzip"
        page = self.client.get("/login", name="login page").text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        with self.client.post(
            "/login",
            data={"username": self.me["username"], "password": PLAN["password"], "csrf_token": token},
            allow_redirects=False,
            name="login",
            catch_response=True,
        ) as r:
            if r.status_code != 302:
                r.failure(f"login answered {r.status_code}")

    @task
    def page(self):
        kind, path = self.rng.choice(self.me["pages"])
        with self.client.get(path, name=f"leader: {kind}", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")
