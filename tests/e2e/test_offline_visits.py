"""A member loses the signal in the middle of a lane: the visits wait on the phone, survive a
reload, and go out by themselves when the connection comes back. Exactly once."""

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from outreach.clock import local_today
from outreach.extensions import db
from outreach.planning.services import assign_households
from outreach.types import utcnow
from outreach.visits.models import VisitRecord
from tests.conftest import PASSWORD, assert_policy_kept, make_household, watch_policy

pytestmark = pytest.mark.browser


@pytest.fixture
def field_phone(browser, live_server):
    """A phone with no request interception (service workers and routing do not mix)."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    violations = watch_policy(context)
    page.console_errors = []
    page.on("console", lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: page.console_errors.append(f"uncaught: {error}"))
    page.set_default_timeout(15_000)
    yield page
    try:
        assert_policy_kept(context, violations)
    finally:
        context.close()


@pytest.fixture
def assigned(app, users, geo):
    homes = [
        make_household(users["leader"], geo["tanha_v1"], "Hoàng Thị Mơ", lat=21.8301, lon=105.1901),
        make_household(users["leader"], geo["tanha_v1"], "Triệu Văn Dìn", lat=21.8312, lon=105.1920),
    ]
    with app.test_request_context():
        assign_households(
            users["leader"], users["member"].id, [h.id for h in homes], due_on=local_today(), now=utcnow()
        )
    db.session.commit()
    return homes


def _login(page, base):
    page.goto(f"{base}/login?next=/today")
    page.fill("#username", "member.tanha")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/today")


def _wait_until_ready_offline(page):
    page.wait_for_function("() => document.documentElement.dataset.sw === 'ready'")
    page.wait_for_function(
        "() => Promise.all(['/today', '/record', '/api/v1/assignments'].map(u => caches.match(u)))"
        ".then(hits => hits.every(Boolean))"
    )


def _record(page, household_id, outcome):
    page.click(f"li[data-household='{household_id}'] a[href^='/record']")
    page.wait_for_selector("#visit-form")
    page.wait_for_function("() => document.getElementById('household-name').textContent.length > 1")
    page.check(f"input[name=outcome][value={outcome}]")
    if outcome == "helped":
        page.fill("#people_helped", "1")
        page.check("#vneid_installed")
    page.click("#visit-form button[type=submit]")
    page.wait_for_url("**/today")


def _visits() -> int:
    db.session.rollback()  # a fresh snapshot: the live server committed in another connection
    return db.session.scalar(sa.select(sa.func.count(VisitRecord.id)))


def test_two_visits_recorded_offline_are_sent_once_when_back_online(field_phone, live_server, assigned):
    page = field_phone
    _login(page, live_server)
    _wait_until_ready_offline(page)

    page.context.set_offline(True)
    _record(page, assigned[0].id, "helped")
    # The recorded house says so on the list, so nobody records it twice; the other does not.
    page.wait_for_selector(f"li[data-household='{assigned[0].id}'] .queued:visible")
    assert page.locator(".queued:visible").count() == 1
    _record(page, assigned[1].id, "nobody_home")
    assert "Hoàng Thị Mơ" not in page.locator("#outbox").inner_text()  # nothing refused

    page.reload()  # still offline: the page comes from the phone
    page.wait_for_function("() => document.getElementById('outbox').dataset.waiting === '2'")
    assert "2 bản ghi đang chờ gửi" in page.locator("#outbox [data-count]").inner_text()
    assert _visits() == 0

    page.context.set_offline(False)  # the `online` event sends them
    page.wait_for_function("() => document.getElementById('outbox').dataset.waiting === '0'")
    assert _visits() == 2
    page.reload()
    page.click("#sync-now")  # sending again changes nothing
    page.wait_for_function("() => document.getElementById('outbox').dataset.waiting === '0'")
    assert _visits() == 2
    outcomes = sorted(db.session.scalars(sa.select(VisitRecord.outcome)))
    assert outcomes == ["helped", "nobody_home"]
    # Requests that failed while offline are expected (the service worker answered them); nothing else.
    assert [e for e in page.console_errors if "Failed to load resource" not in e] == []


def test_a_session_that_expired_offline_keeps_the_queue(field_phone, live_server, assigned):
    page = field_phone
    _login(page, live_server)
    _wait_until_ready_offline(page)
    page.context.set_offline(True)
    _record(page, assigned[0].id, "helped")
    page.context.clear_cookies()  # the session ended while the member was away
    page.context.set_offline(False)
    page.wait_for_selector("#outbox a[href^='/login']")
    assert _visits() == 0
    page.click("#outbox a[href^='/login']")
    page.fill("#username", "member.tanha")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/today")
    page.wait_for_function("() => document.getElementById('outbox').dataset.waiting === '0'")
    assert _visits() == 1


def test_a_refused_record_stays_on_the_phone_until_fixed(field_phone, live_server, assigned, users):
    page = field_phone
    _login(page, live_server)
    _wait_until_ready_offline(page)
    page.context.set_offline(True)
    page.click(f"li[data-household='{assigned[0].id}'] a[href^='/record']")
    page.wait_for_selector("#visit-form")
    page.check("input[name=outcome][value=helped]")
    page.fill("#people_helped", "1")
    page.fill("#notes", "CCCD 001203004567")
    page.click("#visit-form button[type=submit]")
    # The phone checks as the server does: the ID number is flagged before anything is saved.
    assert "căn cước" in page.locator(".field-error").inner_text()
    # A record the phone could not check (an older version of the app queued it) is refused by the server.
    page.evaluate(
        """household => Outbox.put({client_id: Outbox.newId(), state: "pending", errors: {}, saved_at: Date.now(),
             label: "Hoàng Thị Mơ", user: Field.me,
             payload: {client_id: "00000000-0000-4000-8000-000000000001", household_id: household, outcome: "helped",
                       device_time: new Date().toISOString(), people_helped: 1, notes: "CCCD 001203004567"}})""",
        assigned[0].id,
    )
    page.goto(f"{live_server}/today")
    page.context.set_offline(False)
    page.wait_for_selector(".refused li")
    assert "Ghi chú" in page.locator(".refused").inner_text()
    assert _visits() == 0
    page.click(".refused a[href^='/record?fix=']")
    page.wait_for_selector("#visit-form")
    page.fill("#notes", "Đã hướng dẫn cài VNeID")
    page.click("#visit-form button[type=submit]")
    page.wait_for_url("**/today")
    page.wait_for_function(
        "() => document.getElementById('outbox').dataset.waiting === '0' && !document.querySelector('.refused li')"
    )
    assert _visits() == 1


def test_a_stop_says_sent_as_soon_as_its_record_goes_out(field_phone, live_server, assigned):
    page = field_phone
    _login(page, live_server)
    _wait_until_ready_offline(page)
    page.context.set_offline(True)
    _record(page, assigned[0].id, "helped")
    stop = f"li[data-household='{assigned[0].id}']"
    page.wait_for_selector(f"{stop} .queued:visible")
    assert page.locator(f"{stop} .sent:visible").count() == 0
    page.evaluate("window.sameVisit = true")  # gone if the page reloads

    page.context.set_offline(False)  # the `online` event sends it; the list follows on the same page
    page.wait_for_selector(f"{stop} .sent:visible")
    assert page.locator(f"{stop} .queued:visible").count() == 0
    assert "Đã ghi · đã gửi" in page.locator(stop).inner_text()
    assert page.locator(f"li[data-household='{assigned[1].id}'] .sent:visible").count() == 0
    assert page.evaluate("window.sameVisit === true")
    assert _visits() == 1


def test_the_walk_map_offline_says_why_it_needs_a_connection(field_phone, live_server, assigned):
    page = field_phone
    _login(page, live_server)
    _wait_until_ready_offline(page)
    page.wait_for_function("() => caches.match('/offline?for=map').then(Boolean)")
    page.context.set_offline(True)
    page.click("a[href='/maps/walk']")
    page.wait_for_selector("#map-offline")
    text = page.locator("main").inner_text()
    assert "Bản đồ cần có kết nối mạng" in text and "Hôm nay" in text
    assert "Trang này chưa được lưu" not in text  # not the generic offline page


def test_saving_offline_says_plainly_that_the_visit_waits_and_says_it_once(field_phone, live_server, assigned):
    page = field_phone
    _login(page, live_server)
    _wait_until_ready_offline(page)
    page.context.set_offline(True)
    _record(page, assigned[0].id, "helped")
    note = page.locator("#saved-note")
    note.wait_for(state="visible")
    assert "Hiện không có mạng" in note.inner_text() and "tự gửi" in note.inner_text()
    # The outbox says it too, before anyone presses "Gửi ngay".
    assert "Không có mạng" in page.locator("#outbox [data-status]").inner_text()
    if os.environ.get("PAGE_CHECK_SHOTS"):  # to look at (tests/e2e/test_every_page.py)
        page.screenshot(path=str(Path(os.environ["PAGE_CHECK_SHOTS"]) / "saved-offline.png"))

    page.reload()  # still offline: the notice does not come back, the outbox still says why it waits
    page.wait_for_function("() => document.getElementById('outbox').dataset.waiting === '1'")
    assert note.is_hidden()
    assert "Không có mạng" in page.locator("#outbox [data-status]").inner_text()

    _record(page, assigned[1].id, "nobody_home")  # the next one, then the connection comes back
    note.wait_for(state="visible")
    page.context.set_offline(False)
    page.wait_for_function("() => document.getElementById('outbox').dataset.waiting === '0'")
    page.wait_for_function("() => document.querySelector('#saved-note [data-when=sent]').hidden === false")
    assert note.inner_text().strip() == "Đã lưu và đã gửi."
    assert _visits() == 2


def test_a_disability_without_consent_is_said_to_be_counted_for_the_village(field_phone, live_server, assigned):
    page = field_phone
    _login(page, live_server)
    page.click(f"li[data-household='{assigned[0].id}'] a[href^='/record']")
    page.wait_for_selector("#visit-form")
    page.wait_for_function("() => document.getElementById('household-name').textContent.length > 1")
    page.check("input[name=outcome][value=helped]")
    page.fill("#people_helped", "1")
    page.check("#vneid_installed")
    page.check("input[name=obstacles][value=disability]")
    page.click("#visit-form button[type=submit]")
    page.wait_for_url("**/today")
    page.wait_for_function("() => document.querySelector('#saved-note [data-server-note]').hidden === false")
    text = page.locator("#saved-note").inner_text()
    assert "Đã lưu và đã gửi." in text and "đã đếm cho thôn, không lưu" in text
    page.reload()  # said once
    assert page.locator("#saved-note").is_hidden()
