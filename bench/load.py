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
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from bench.load_data import (
    LOAD_URL,
    REDIS_URL,
    ROOT,
    TARGET_P95_S,
    TARGET_RSS_MB,
    TOTAL_HOUSEHOLDS,
    WORKERS,
    build,
    connect,
    plan,
    reset,
)

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
    with connect() as conn:
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
    with connect() as conn:
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
