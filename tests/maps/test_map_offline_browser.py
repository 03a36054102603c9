"""Headless Chromium loads a folium map with the network cut to anything but the app: Leaflet and
every plugin come from static/vendor/, the units' shapes are drawn, and nothing fails."""

from urllib.parse import urlsplit

import pytest

from outreach.web import content_security_policy
from tests.maps.conftest import POLYGONS, TILES

pytestmark = pytest.mark.browser


def test_a_map_draws_with_only_the_app_reachable(phone, live_server, every_class_map):
    html = every_class_map.get_root().render()
    tile_host = urlsplit(TILES).netloc
    errors, failed = [], []

    def console(msg):
        url = msg.location.get("url", "")
        if msg.type == "error" and urlsplit(url).netloc != tile_host:  # the tiles are cut off: expected
            errors.append(f"{msg.text} ({url})")

    def response(resp):
        if resp.status >= 400:
            failed.append(resp.url)

    def request_failed(request):
        if request.url.startswith(live_server):
            failed.append(request.url)

    phone.on("console", console)
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    phone.on("response", response)
    phone.on("requestfailed", request_failed)
    # The page is the map as folium renders it; everything it loads is asked of the app (the phone
    # fixture aborts any other request and records it). It runs under the app's Content-Security-Policy,
    # its inline scripts marked with the response's nonce as the app's map pages mark theirs: any
    # script that folium or a library would run otherwise (eval, inline handlers) fails the test.
    nonce = "map-under-test"
    html = html.replace("<script>", f'<script nonce="{nonce}">')
    policy = content_security_policy({"MAP_TILES_URL": TILES}, nonce)
    phone.route(
        f"{live_server}/map-under-test",
        lambda route: route.fulfill(body=html, content_type="text/html", headers={"Content-Security-Policy": policy}),
    )

    phone.goto(f"{live_server}/map-under-test")
    phone.wait_for_selector(".leaflet-container")
    shapes = POLYGONS + 1  # the units' polygons and a circle marker
    phone.wait_for_function(f"() => document.querySelectorAll('path.leaflet-interactive').length >= {shapes}")
    phone.wait_for_selector(".marker-cluster")  # Leaflet.markercluster (MarkerCluster, FastMarkerCluster)
    phone.wait_for_selector("canvas.leaflet-heatmap-layer")  # leaflet.heat
    phone.wait_for_selector(".legend svg#legend rect", state="attached")  # branca's legends, drawn by d3
    phone.wait_for_selector(".awesome-marker .fa-home")  # Leaflet.awesome-markers
    phone.wait_for_selector("img.leaflet-marker-icon[src$='marker-icon-2x.png'], img[src$='marker-icon.png']")

    libraries = phone.evaluate(
        "() => ({leaflet: L.version, jquery: jQuery.fn.jquery, d3: d3.version, bootstrap: bootstrap.Tooltip.VERSION,"
        " cluster: typeof L.markerClusterGroup, heat: typeof L.heatLayer, awesome: typeof L.AwesomeMarkers.icon})"
    )
    assert libraries == {
        "leaflet": "1.9.3",
        "jquery": "3.7.1",
        "d3": "3.5.5",
        "bootstrap": "5.2.2",
        "cluster": "function",
        "heat": "function",
        "awesome": "function",
    }
    # The icon fonts came from static/vendor/ through the stylesheets' relative URLs.
    fonts = phone.evaluate(
        "() => document.fonts.ready.then(set => [...set].filter(f => f.status === 'loaded').map(f => f.family))"
    )
    fonts = {family.strip("\"'") for family in fonts}
    assert {"Font Awesome 6 Free", "Glyphicons Halflings"} <= fonts, fonts

    assert not errors, errors
    assert not failed, failed
    assert all(urlsplit(url).netloc == tile_host for url in phone.outside_requests), phone.outside_requests
