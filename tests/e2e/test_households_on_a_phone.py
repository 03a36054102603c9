"""A leader registers a household on a phone-sized screen, in Vietnamese, then an elderly
resident changes their mind about SMS: one click."""

import pytest
import sqlalchemy as sa

from outreach.extensions import db
from outreach.geo.models import Household
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _login(page, base, username):
    page.goto(f"{base}/login?next=/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_register_a_household_and_withdraw_sms_consent(phone, live_server, users, geo, tmp_path):
    page = phone
    _login(page, live_server, "leader.tanha")
    assert page.locator("html").get_attribute("lang") == "vi"
    page.click("text=Thêm hộ gia đình")
    page.select_option("#village_id", str(geo["tanha_v1"].id))
    page.fill("#head_name", "Hà Thị Lụa")
    page.fill("#address", "25 ngõ 7")
    page.fill("#members", "3")
    page.fill("#phone", "0912 345 678")
    assert not page.is_checked("#consent_store_phone") and not page.is_checked("#consent_sms")
    page.check("#consent_store_phone")
    page.check("#consent_sms")
    page.click("button:has-text('Lưu')")
    page.wait_for_selector("h1:has-text('Hà Thị Lụa')")
    assert page.locator("text=0912 345 678").is_visible()
    page.screenshot(path=str(tmp_path / "household.png"), full_page=True)

    # The page fits the phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # Withdrawing asks once more, saying what will happen, then it is done.
    page.locator("#consent-receive_sms summary:has-text('Rút lại')").click()
    page.locator("#consent-receive_sms button[type=submit]").click()
    page.wait_for_selector(".flash-success")
    db.session.rollback()
    household = db.session.scalar(sa.select(Household).where(Household.head_name == "Hà Thị Lụa"))
    assert household.phone == "+84912345678" and not household.may_receive_sms

    assert page.outside_requests == []
    assert page.console_errors == []


def test_a_bad_phone_is_explained_next_to_the_field(phone, live_server, users, geo):
    page = phone
    _login(page, live_server, "member.tanha")
    page.goto(f"{live_server}/households/new")
    page.select_option("#village_id", str(geo["tanha_v1"].id))
    page.fill("#head_name", "Lò Văn Páo")
    page.fill("#phone", "0212 345")
    page.check("#consent_store_phone")
    page.click("button:has-text('Lưu')")
    error = page.locator("#phone-error")
    assert "0212 345" in error.inner_text()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Household.id))) == 0


def test_language_switch_to_english_and_back(phone, live_server, users):
    page = phone
    _login(page, live_server, "leader.tanha")
    page.click("button:has-text('English')")
    page.wait_for_selector("text=Add a household")
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("button:has-text('Tiếng Việt')")
    page.wait_for_selector("text=Thêm hộ gia đình")
