"""The coverage maps drawn in Chromium with nothing reachable but the app: no CDN, no tiles."""

import pytest

from outreach.extensions import db
from outreach.visits.services import record_visit
from tests.conftest import NOW, PASSWORD, make_household, visit_payload

pytestmark = pytest.mark.browser


@pytest.fixture
def mapped(users, geo):
    homes = [
        make_household(users["leader"], geo["tanha_v1"], "Nguyễn Văn An", lat=21.83, lon=105.19),
        make_household(users["leader"], geo["tanha_v1"], "<img src=x onerror=alert(1)>", lat=21.831, lon=105.191),
    ]
    places = ((geo["tanha"], 21.835, 105.195), (geo["doican"], 21.80, 105.22), (geo["tanha_v1"], 21.83, 105.19))
    for unit, lat, lon in places:
        unit.lat, unit.lon = lat, lon
    record_visit(users["member"], visit_payload(homes[0], obstacles=["elderly"]), now=NOW)
    db.session.commit()
    return homes


def _login(page, base, username, target):
    page.goto(f"{base}/login?next={target}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{target}")


def test_coverage_map_draws_offline_for_staff(phone, live_server, mapped, geo):
    page = phone
    _login(page, live_server, "staff.city", f"/maps/units/{geo['city'].id}")
    page.wait_for_selector(".leaflet-container")
    page.wait_for_selector("path.leaflet-interactive")  # the communes' circles
    assert page.locator("path.leaflet-interactive").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.outside_requests == []
    assert page.console_errors == []


def test_household_layer_shows_names_as_text(phone, live_server, mapped, geo):
    page = phone
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _login(page, live_server, "leader.tanha", f"/maps/units/{geo['tanha'].id}/households")
    page.wait_for_selector(".leaflet-container")
    page.wait_for_function("() => document.querySelectorAll('.marker-cluster, path.leaflet-interactive').length > 0")
    # Open every popup: a name written as HTML would run here.
    page.evaluate(
        "() => { for (const k in window) { const v = window[k];"
        " if (v && v.eachLayer && v.getLayers) {"
        " v.eachLayer(l => l.openPopup && l.getPopup && l.getPopup() && l.openPopup()); } } }"
    )
    page.wait_for_timeout(300)
    assert dialogs == []
    assert page.locator("img[src=x]").count() == 0
    assert page.console_errors == []
