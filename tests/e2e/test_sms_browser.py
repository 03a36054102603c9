"""SMS guides in a real browser: a resident reads a guide on a cheap phone, again with no signal (the
service worker kept it), and with JavaScript switched off; a leader writes a Vietnamese SMS and the
live counter tells the characters and segments before anything is queued."""

import unicodedata

import pytest
import sqlalchemy as sa

from outreach.extensions import db
from outreach.sms.guides_content import CODES, install_guides
from outreach.sms.models import Guide, SmsMessage, Status
from tests.conftest import NOW, PASSWORD, assert_policy_kept, make_household, watch_policy

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
# What the counter puts in place of {link}: PUBLIC_BASE_URL (TestConfig) + "/g/" + 20 + "?t=" + 8 characters.
SAMPLE_LINK = "https://outreach.example.vn/g/xxxxxxxxxxxxxxxxxxxx?t=xxxxxxxx"


def _context(browser, **extra):
    """A phone with no request interception (the service worker must see every request)."""
    context = browser.new_context(**PHONE, **extra)
    page = context.new_page()
    context.policy_violations = watch_policy(context)
    page.console_errors = []
    page.on("console", lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: page.console_errors.append(f"uncaught: {error}"))
    page.set_default_timeout(15_000)
    return context, page


@pytest.fixture
def resident(browser, live_server):
    context, page = _context(browser)
    yield page
    try:
        assert_policy_kept(context, context.policy_violations)
    finally:
        context.close()


@pytest.fixture
def resident_without_js(browser, live_server):
    context, page = _context(browser, java_script_enabled=False)
    yield page
    try:
        assert_policy_kept(context, context.policy_violations)
    finally:
        context.close()


@pytest.fixture
def guides(app):
    shipped = install_guides(now=NOW)
    db.session.commit()
    return {g.code: g for g in shipped}


def _fresh(model, key):
    db.session.rollback()  # the live server committed in another connection
    return db.session.get(model, key)


# --- the resident --------------------------------------------------------------------------------


def test_a_guide_opened_once_can_be_read_again_offline(resident, live_server, guides):
    page = resident
    guide = guides["vneid1"]
    url = f"{live_server}/g/vneid1?t=abcd1234"
    response = page.goto(url)
    assert response.status == 200
    assert page.locator("h1").inner_text() == guide.title_vi
    assert "Mở CH Play (Android)" in page.locator("main").inner_text()
    # The service worker installs from this page and keeps the guide for later.
    page.wait_for_function(
        "() => navigator.serviceWorker.ready.then(() => caches.match('/g/vneid1')).then(Boolean)", polling=200
    )
    # Filling the cache is not a person reading: one open so far.
    assert _fresh(Guide, guide.id).opens == 1

    page.context.set_offline(True)
    page.reload()
    assert page.locator("h1").inner_text() == guide.title_vi
    steps = page.locator("main ol").first.locator("li")
    assert steps.count() == 10
    assert "Mở CH Play (Android)" in steps.nth(0).inner_text()
    assert "Chờ phê duyệt" in steps.nth(9).inner_text()

    page.goto(f"{live_server}/g/vneid1")  # from the SMS again, or typed in: still there
    assert page.locator("h1").inner_text() == guide.title_vi
    assert "Không bao giờ cho ai biết mã OTP" in page.locator("blockquote").inner_text()

    page.context.set_offline(False)
    # No cookie: not from the page, and not from anything the service worker fetched for itself.
    assert page.context.cookies() == [], page.context.cookies()
    assert page.console_errors == []


@pytest.mark.parametrize("code", CODES)
def test_every_guide_reads_without_javascript_and_stays_small(resident_without_js, live_server, guides, code):
    page = resident_without_js
    response = page.goto(f"{live_server}/g/{code}")
    assert response.status == 200
    html = response.body()
    assert len(html) < 50_000, len(html)
    assert page.locator("h1").inner_text() == guides[code].title_vi
    assert page.locator("main li").count() >= 3
    # Readable on a 360 px phone by an elderly resident: nothing wider than the screen, large type.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"/g/{code} is {width} px wide"
    font = page.evaluate("parseFloat(getComputedStyle(document.querySelector('main li')).fontSize)")
    assert font >= 18
    assert page.context.cookies() == [], page.context.cookies()
    assert page.console_errors == []


# --- the leader ----------------------------------------------------------------------------------


@pytest.fixture
def household(users, geo):
    return make_household(users["leader"], geo["tanha_v1"], "Nguyễn Thị Hoà", phone="0912345678", consent_sms=True)


def _login(page, base, next_url):
    page.goto(f"{base}/login?next={next_url}")
    page.fill("#username", "leader.tanha")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{next_url}")


def _counter(page) -> str:
    return page.locator("#sms-count").inner_text()


def test_the_live_counter_and_sending_one_sms_from_a_household(browser, live_server, guides, household):
    context, page = _context(browser)
    try:
        sms_page = f"/households/{household.id}/sms"
        _login(page, live_server, sms_page)
        assert page.locator("h1").inner_text() == "Gửi hướng dẫn qua SMS"
        box = page.locator("[data-sms-template]")

        # "Chào bác: " and the link: 10 + 61 = 71 characters, one more than a single UCS-2 SMS holds.
        assert len(SAMPLE_LINK) == 61
        box.fill("Chào bác: {link}")
        page.wait_for_function("() => document.getElementById('sms-count').textContent.includes('71 ký tự')")
        assert "Mỗi tin: 71 ký tự, 2 SMS (tin có dấu)" in _counter(page)
        assert "Nếu gửi không dấu: 1 SMS, bớt 1 tin mỗi hộ." in _counter(page)
        assert "UCS" not in page.locator("main").inner_text() and "GSM" not in page.locator("main").inner_text()
        # What a message with or without diacritics costs, said once under the box.
        assert "Mỗi SMS khoảng 2.300 VND" in page.locator("#sms-cost").inner_text()

        # One character less fits in one SMS; typed decomposed (as some keyboards do) it counts the same.
        box.fill(unicodedata.normalize("NFD", "Chào bá: {link}"))
        page.wait_for_function("() => document.getElementById('sms-count').textContent.includes('70 ký tự')")
        assert "Mỗi tin: 70 ký tự, 1 SMS (tin có dấu)" in _counter(page)

        # 71 + 1 + 71 = 143 characters with diacritics: 3 parts of 67 (not 2 of 70).
        box.fill("Chào bác: {link} " + "Tổ công nghệ số cộng đồng phường Tân Hà xin gửi bác hướng dẫn cài VNeID")
        page.wait_for_function("() => document.getElementById('sms-count').textContent.includes('143 ký tự')")
        assert "Mỗi tin: 143 ký tự, 3 SMS (tin có dấu)" in _counter(page)
        assert "Nếu gửi không dấu: 1 SMS, bớt 2 tin mỗi hộ." in _counter(page)

        box.fill("Chào bác: {link}")
        page.wait_for_function("() => document.getElementById('sms-count').textContent.includes('71 ký tự')")
        page.check("[data-sms-plain]")  # "Gửi không dấu": the counter follows at once
        page.wait_for_function("() => document.getElementById('sms-count').textContent.includes('tin không dấu')")
        assert "Mỗi tin: 71 ký tự, 1 SMS (tin không dấu)" in _counter(page)
        assert "Nếu gửi không dấu" not in _counter(page)

        page.select_option("#guide_id", label=guides["vneid1"].title_vi)
        page.click("button[name=action][value=send]")
        page.wait_for_url(f"{live_server}{sms_page}")
        assert "Đã xếp 1 tin nhắn SMS chờ gửi." in page.locator("body").inner_text()

        db.session.rollback()
        messages = db.session.scalars(sa.select(SmsMessage)).all()
        assert len(messages) == 1
        message = messages[0]
        assert (message.household_id, message.guide_id, message.status) == (
            household.id,
            guides["vneid1"].id,
            Status.QUEUED,
        )
        assert message.to_phone == "+84912345678"
        assert message.body == f"Chao bac: https://outreach.example.vn/g/vneid1?t={message.token}"
        assert (message.encoding, message.segments) == ("GSM-7", 1)
        # The household's page lists it, waiting to go.
        rows = page.locator("ul.rows > li")
        assert rows.count() == 1
        assert "Chờ gửi" in rows.inner_text() and guides["vneid1"].title_vi in rows.inner_text()
        assert "1 tin SMS (tin không dấu)" in rows.inner_text()
        assert page.console_errors == []
        assert_policy_kept(context, context.policy_violations)
    finally:
        context.close()
