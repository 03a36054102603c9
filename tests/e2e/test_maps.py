"""The coverage maps drawn in Chromium with nothing reachable but the app: no CDN, no tiles."""

import re

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


# --- what a phone user trips on: words, scale, colours, popups, numbers --------------------------

_MAP = "() => Object.values(window).find(v => v instanceof L.Map)"


def _overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and (b["y"] < a["y"] + a["height"])
    )


def test_map_controls_speak_the_users_language_with_a_metric_scale(phone, live_server, mapped, geo):
    page = phone
    _login(page, live_server, "leader.tanha", f"/maps/units/{geo['tanha'].id}/households")
    page.wait_for_selector(".leaflet-control-zoom")
    assert page.get_attribute(".leaflet-control-zoom-in", "title") == "Phóng to"
    assert page.get_attribute(".leaflet-control-zoom-out", "aria-label") == "Thu nhỏ"
    assert page.get_attribute(".leaflet-control-layers-toggle", "title") == "Lớp bản đồ"
    scale = page.locator(".leaflet-control-scale-line")
    assert scale.count() == 1 and re.fullmatch(r"\d+ k?m", scale.inner_text().strip()), scale.inner_text()
    assert "Leaflet" in page.locator(".leaflet-control-attribution").inner_text()
    assert page.locator(".leaflet-control-attribution [title]").count() == 0  # no English title

    page.click("button[name=lang][value=en]")  # English when chosen
    page.wait_for_selector("html[lang=en] .leaflet-control-zoom")
    assert page.get_attribute(".leaflet-control-zoom-in", "title") == "Zoom in"
    assert page.get_attribute(".leaflet-control-layers-toggle", "title") == "Layers"
    assert page.locator(".leaflet-control-scale-line").count() == 1
    assert page.console_errors == []


def test_cluster_bubbles_stay_neutral_beside_the_status_legend(phone, live_server, users, geo):
    for n in range(12):  # a lane of close houses: clusters at the first zoom
        make_household(users["leader"], geo["tanha_v1"], f"Hộ {n}", lat=21.83 + n * 0.00002, lon=105.19)
    make_household(users["leader"], geo["tanha_v1"], "Hộ xa", lat=21.845, lon=105.205)
    page = phone
    _login(page, live_server, "leader.tanha", f"/maps/units/{geo['tanha'].id}/households")
    page.wait_for_selector(".marker-cluster div")
    colours = page.evaluate(
        "() => [...document.querySelectorAll('.marker-cluster, .marker-cluster div')]"
        ".map(e => getComputedStyle(e).backgroundColor)"
    )
    for colour in colours:  # greys and white only: orange means "follow-up due" in the legend
        r, g, b = (int(x) for x in re.findall(r"\d+", colour)[:3])
        assert r == g == b, colour


def test_a_popup_of_the_district_map_opens_clear_of_the_zoom_buttons(phone, live_server, mapped, geo):
    geo["tanha"].lat, geo["tanha"].lon = 21.86, 105.17  # the north-west corner of the map: under the buttons
    geo["doican"].lat, geo["doican"].lon = 21.78, 105.24
    db.session.commit()
    page = phone
    _login(page, live_server, "staff.city", f"/maps/units/{geo['city'].id}")
    page.wait_for_selector("path.leaflet-interactive")
    page.evaluate(
        f"""() => {{ const map = ({_MAP})();
             map.eachLayer(l => {{ const popup = l.getPopup && l.getPopup();
               const content = popup && popup.getContent();
               const text = content && (typeof content === "string" ? content : content.textContent);
               if (text && text.includes("Tân Hà")) l.openPopup(); }}); }}"""
    )
    page.wait_for_selector(".leaflet-popup-content-wrapper")
    page.wait_for_timeout(400)  # the map pans the popup into view
    popup = page.locator(".leaflet-popup-content-wrapper").bounding_box()
    buttons = page.locator(".leaflet-control-zoom").bounding_box()
    assert not _overlap(popup, buttons), (popup, buttons)
    assert page.get_attribute(".leaflet-popup-close-button", "aria-label") == "Đóng khung này"


def test_numbered_stops_of_close_houses_never_cover_each_other(phone, live_server, users, geo):
    from outreach.clock import local_today
    from outreach.planning.services import assign_households
    from outreach.types import utcnow

    homes = [
        make_household(users["leader"], geo["tanha_v1"], name, lat=lat, lon=lon)
        for name, lat, lon in (
            ("Hộ A", 21.8300, 105.1900), ("Hộ B", 21.83002, 105.19001), ("Hộ C", 21.83001, 105.19003),
            ("Hộ D", 21.8330, 105.1930),
        )
    ]  # fmt: skip
    assign_households(users["leader"], users["member"].id, [h.id for h in homes], due_on=local_today(), now=utcnow())
    db.session.commit()
    page = phone
    _login(page, live_server, "member.tanha", "/maps/walk")
    page.wait_for_selector(".walk-stop")
    for zoom in (None, 15, 19):
        if zoom:
            page.evaluate(f"() => ({_MAP})().setZoom({zoom}, {{animate: false}})")
            page.wait_for_timeout(200)
        boxes = [page.locator(".walk-stop").nth(i).bounding_box() for i in range(4)]
        overlapping = [(i, j) for i in range(4) for j in range(i + 1, 4) if _overlap(boxes[i], boxes[j])]
        assert overlapping == [], (zoom, boxes)
    assert page.console_errors == []
