"""5. The bytes of a member's first load of "Today" on a phone, service worker included (headless Chromium)."""

import collections
import json
import re
import time
import urllib.parse
from pathlib import Path

from bench.fixtures import FIELD_PASSWORD, MEMBER, setup_field
from bench.harness import fresh_database, live_server, verdict

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


TODAY_HOUSEHOLDS = 30
TODAY_TARGET_KB = 150.0  # 1 KB = 1,000 bytes


KINDS = {"text/html": "html", "text/css": "css", "text/javascript": "js", "application/javascript": "js"}
KINDS |= {"application/json": "json", "application/manifest+json": "manifest"}


def bench_today(tmp: Path, quick: bool, selected_db: str) -> None:
    """Bytes of the member's first load of /today in a fresh Chromium context, service worker included."""
    name = "today.first_load"
    if not Path(CHROMIUM).exists():
        print(f"{name} SKIP ({CHROMIUM} is not installed)")
        return
    url = fresh_database("sqlite", tmp, "today")  # the bytes do not depend on the database
    setup = setup_field(url, TODAY_HOUSEHOLDS, assigned=TODAY_HOUSEHOLDS, located=0.8)
    try:
        with live_server(url, tmp, "today") as (base, requests_path):
            result = first_load(base, requests_path)
    except Exception as exc:  # any failure of the browser run is a failed figure
        print(f"{name} {verdict(False, name)}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return
    rows = result["rows"]
    page = [r for r in rows if not r["worker"]]
    worker = [r for r in rows if r["worker"]]
    total = sum(r["bytes"] for r in rows)
    ok = total < TODAY_TARGET_KB * 1000 and result["households"] == TODAY_HOUSEHOLDS and result["sw"] == "ready"
    print(
        f"{name} households={result['households']} bytes={total:,} ({total / 1000:.1f} KB) responses={len(rows)}: "
        f"page {kb(page)} + service worker install {kb(worker)} "
        f"(target <{TODAY_TARGET_KB:g} KB, service worker counted) {verdict(ok, name)}"
    )
    print(f"    by type: {by_kind(rows)}")
    print(f"    page by type: {by_kind(page)}")
    print(f"    service worker by type: {by_kind(worker)}")
    for label, group in (("page", page), ("service worker", worker)):
        print(f"    {label}: " + ", ".join(f"{r['path']} {r['bytes']:,}" + status(r) for r in group))
    print(
        f"    body bytes as the server sent them (Content-Encoding none, response headers not counted); "
        f"the browser answered {result['cached']} requests from its cache without asking; "
        f"the service worker is {result['sw']}; setup {setup['seconds']:.1f} s"
    )
    if result["unfetched"]:
        print(f"    referenced by the page but fetched by nobody: {', '.join(result['unfetched'])}")


def status(row: dict) -> str:
    return "" if row["status"] == 200 else f" ({row['status']})"


def kb(rows: list[dict]) -> str:
    return f"{sum(r['bytes'] for r in rows) / 1000:.1f} KB"


def by_kind(rows: list[dict]) -> str:
    groups: dict[str, list[dict]] = collections.defaultdict(list)
    for row in rows:
        groups[row["kind"]].append(row)
    ordered = sorted(groups.items(), key=lambda item: -sum(r["bytes"] for r in item[1]))
    return ", ".join(f"{kind} {kb(group)} ({len(group)})" for kind, group in ordered) or "nothing"


def first_load(base: str, requests_path: Path) -> dict:
    """Log the member in through the login form (outside what is counted), then open /today in a fresh
    phone-sized context, and wait until the service worker is ready and the network is quiet.

    The bytes are the server's (ByteLog): Playwright cannot read the bodies of the service worker's
    fetches. The browser's events say which requests the service worker made: server lines and browser
    responses are matched by path, in order."""
    from playwright.sync_api import sync_playwright

    responses = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(**PHONE)
            form = context.request.get(f"{base}/login").text()
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form) or re.search(
                r'value="([^"]+)"[^>]*name="csrf_token"', form
            )
            fields = {"username": MEMBER, "password": FIELD_PASSWORD, "csrf_token": token.group(1) if token else ""}
            answer = context.request.post(f"{base}/login", form=fields, max_redirects=0)
            if answer.status != 302:
                raise RuntimeError(f"login answered {answer.status}, not a redirect")
            already = len(requests_path.read_text().splitlines())
            context.on("response", lambda response: responses.append(response))
            page = context.new_page()
            page.goto(f"{base}/today", wait_until="load")
            # Polled from here: the page's Content-Security-Policy forbids evaluating strings in it, which
            # Playwright's wait_for_function does (page.evaluate goes through the DevTools protocol).
            deadline = time.monotonic() + 20
            while page.evaluate("document.documentElement.dataset.sw") != "ready":
                if time.monotonic() > deadline:
                    raise RuntimeError("the service worker was not ready within 20 s")
                page.wait_for_timeout(100)
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(1500)  # the last responses are logged
            sw = page.evaluate("document.documentElement.dataset.sw")
            households = page.locator("#walk-list li").count()
            referenced = page.evaluate(
                "[...document.querySelectorAll('link[href], script[src], img[src]')].map(e => e.href || e.src)"
            )
            seen = [(urllib.parse.urlsplit(r.url).path, r.request.service_worker is not None) for r in responses]
        finally:
            browser.close()
    served = [json.loads(line) for line in requests_path.read_text().splitlines()[already:]]
    by_path: dict[str, collections.deque] = collections.defaultdict(collections.deque)
    for path, worker in seen:
        by_path[path].append(worker)
    rows = []
    for entry in served:
        waiting = by_path[entry["path"]]
        worker = waiting.popleft() if waiting else entry["dest"] in ("serviceworker", "empty")
        kind = "not modified" if entry["status"] == 304 else KINDS.get(entry["type"], entry["type"].split("/")[0])
        rows.append({**entry, "worker": worker, "kind": kind})
    fetched = {row["path"] for row in rows}
    unfetched = sorted({urllib.parse.urlsplit(u).path for u in referenced} - fetched)
    cached = sum(len(waiting) for waiting in by_path.values())
    return {"rows": rows, "households": households, "sw": sw, "unfetched": unfetched, "cached": cached}
