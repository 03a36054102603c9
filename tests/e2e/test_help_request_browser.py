"""A resident asks for help and the loop closes, in real browsers: the leaflet's QR link opens the form
on a phone with JavaScript switched off; the leader makes a household from the request and assigns it;
the member sees "asked for help" on Today and records the visit with no signal; when the phone is back
online the visit closes the request; the resident's SMS "a member will come" goes out through the fake
Twilio server."""

import re

import pytest
import sqlalchemy as sa

from outreach.extensions import db
from outreach.requests.models import HelpRequest
from outreach.sms.dispatcher import dispatch_once
from outreach.sms.models import SmsMessage
from outreach.sms.services import GuideInput, save_guide
from tests.conftest import NOW, PASSWORD, assert_policy_kept, login, watch_policy
from tests.sms.fake_twilio import FakeTwilio

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def _context(browser, **extra):
    context = browser.new_context(**PHONE, **extra)
    page = context.new_page()
    context.violations = watch_policy(context)
    page.console_errors = []
    page.on("console", lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None)
    page.set_default_timeout(15_000)
    return context, page


@pytest.fixture
def phones(browser, live_server):
    opened = []

    def open_phone(**extra):
        context, page = _context(browser, **extra)
        opened.append(context)
        return page

    yield open_phone
    try:
        for context in opened:
            assert_policy_kept(context, context.violations)
    finally:
        for context in opened:
            context.close()


@pytest.fixture
def twilio():
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def sms_gateway(app, twilio, monkeypatch):
    """The real twilio client, pointed at the fake server."""
    from outreach.sms.gateway import gateway_from_config

    monkeypatch.setitem(app.config, "TWILIO_API_BASE", twilio.url)
    monkeypatch.setitem(app.config, "SMS_GATEWAY", "twilio")
    return gateway_from_config(app.config)


def _request() -> HelpRequest | None:
    db.session.rollback()  # the live server committed in another connection
    return db.session.scalar(sa.select(HelpRequest))


def _login(page, base, username, next_page):
    page.goto(f"{base}/login?next={next_page}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{next_page}")


def _leaflet_link(app, client, live_server) -> str:
    """The link printed under the leaflet's second QR code, on the live server."""
    guide = save_guide(None, GuideInput("vneid1", "Cài VNeID", "1. Mở CH Play"), now=NOW)
    db.session.commit()
    login(client, "leader.tanha")
    leaflet = client.get(f"/guides/{guide.id}/print").get_data(as_text=True)
    path = re.search(r"<strong>[^<]*(/help\?[^<]+)</strong>", leaflet).group(1).replace("&amp;", "&")
    return live_server + path


def test_from_a_leaflet_to_a_closed_request_and_the_residents_sms(
    app,
    client,
    live_server,
    phones,
    geo,
    users,
    sms_gateway,
    twilio,
):
    # The resident scans the leaflet: a phone without JavaScript.
    resident = phones(java_script_enabled=False)
    resident.goto(_leaflet_link(app, client, live_server))
    assert resident.locator("h1").inner_text() == "Tôi cần người đến hướng dẫn"
    assert resident.locator("input:checked").count() == 0  # nothing chosen or ticked beforehand
    resident.fill("#name", "Lò Thị Mai")
    resident.fill("#phone", "0987 111 222")
    resident.check("text=Thôn Phú Bình")
    resident.check("text=VNeID mức 1")
    resident.check("text=cuối tuần")  # no hour that ends: the leader's form proposes today whatever the clock
    resident.click("button[type=submit]")  # without consent: told why, nothing kept
    assert "Đánh dấu để đồng ý" in resident.locator("main").inner_text()
    assert _request() is None
    assert resident.locator("#name").input_value() == "Lò Thị Mai"  # what was typed stays
    resident.check("#consent")
    resident.click("button[type=submit]")
    resident.wait_for_url("**/help/received?unit=*")
    request = _request()
    assert request is not None and request.source == "qr" and request.status == "new"
    width = resident.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360

    # The leader makes a household from it and assigns it to a member for today.
    leader = phones()
    _login(leader, live_server, "leader.tanha", "/requests")
    leader.click("text=Lò Thị Mai")
    leader.click("text=Tạo hộ mới từ yêu cầu")
    leader.wait_for_selector("#household a")
    leader.select_option("#member_id", str(users["member"].id))
    leader.click("#assign button[type=submit]")
    leader.wait_for_selector(".flash-success")
    request = _request()
    assert request.status == "assigned" and request.household_id is not None

    # The member sees it on Today, and records the visit with no signal.
    member = phones()
    _login(member, live_server, "member.tanha", "/today")
    item = member.locator(f"li[data-household='{request.household_id}']")
    assert "Đã xin hỗ trợ: cuối tuần" in item.inner_text()
    member.wait_for_function("() => document.documentElement.dataset.sw === 'ready'")
    member.wait_for_function(
        "() => Promise.all(['/today', '/record', '/api/v1/assignments'].map(u => caches.match(u)))"
        ".then(hits => hits.every(Boolean))"
    )
    member.context.set_offline(True)
    item.locator("a[href^='/record']").click()
    member.wait_for_selector("#visit-form")
    member.wait_for_function("() => document.getElementById('household-name').textContent.length > 1")
    member.check("input[name=outcome][value=helped]")
    member.fill("#people_helped", "1")
    member.check("#vneid_installed")
    member.click("#visit-form button[type=submit]")
    member.wait_for_url("**/today")
    assert _request().status == "assigned"  # still on the phone
    member.context.set_offline(False)
    member.wait_for_function("() => document.getElementById('outbox').dataset.waiting === '0'")
    request = _request()
    assert request.status == "done" and request.visit_id is not None and request.closed_at is not None

    # The resident's SMS goes out through the gateway (after the quiet hours, whenever this runs).
    notice = db.session.get(SmsMessage, request.notice_message_id)
    assert notice.to_phone == "+84987111222"
    dispatch_once(sms_gateway, clock=lambda: notice.due_at)
    sent = [r["form"] for r in twilio.requests]
    assert [(s["To"], "sẽ đến hướng dẫn" in s["Body"]) for s in sent] == [("+84987111222", True)]
    assert [e for e in member.console_errors if "Failed to load resource" not in e] == []
