"""The app gzips HTML, JSON, CSS and JS above 1 KB for a client that accepts it, says so (Content-Encoding)
and varies on Accept-Encoding; small bodies, images and clients that do not ask are sent as they are."""

import gzip
import re

from tests.conftest import login

TOKEN = re.compile(r'(name="csrf[-_]token"[^>]*?(?:content|value)=")[^"]+"')


def _without_tokens(page):
    """A CSRF token carries the second it was made: two requests a second apart differ only there."""
    return TOKEN.sub(r'\1"', page)


def test_a_page_is_gzipped_for_a_client_that_accepts_it(client, users):
    login(client, "leader.tanha")
    plain = client.get("/households")
    packed = client.get("/households", headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    body = gzip.decompress(packed.get_data())
    assert _without_tokens(body.decode()) == _without_tokens(plain.get_data(as_text=True))
    assert len(packed.get_data()) < len(body) / 2


def test_without_accept_encoding_nothing_is_compressed_but_caches_are_told(client, users):
    login(client, "leader.tanha")
    response = client.get("/households", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in response.headers
    assert "Accept-Encoding" in response.headers["Vary"]
    assert response.get_data(as_text=True).startswith("<!doctype html>")


def test_json_css_and_js_are_gzipped_too(client, users):
    login(client, "leader.tanha")
    api = client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert api.headers["Content-Encoding"] == "gzip" and gzip.decompress(api.get_data()).startswith(b"{")
    page = client.get("/households").get_data(as_text=True)
    stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]+\.css)"', page).group(1)
    css = client.get(stylesheet, headers={"Accept-Encoding": "gzip"})
    assert css.status_code == 200 and css.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(css.get_data()).decode().count("{") > 10
    assert css.headers["ETag"].startswith('W/"')  # the same file in another encoding: a weak tag
    again = client.get(stylesheet, headers={"Accept-Encoding": "gzip", "If-None-Match": css.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    script = re.search(r'src="(/static/js/[^"]+\.js)"', page).group(1)
    js = client.get(script, headers={"Accept-Encoding": "gzip"})
    assert js.status_code == 200 and "Accept-Encoding" in js.headers["Vary"]


def test_small_bodies_and_images_are_left_alone(client, users):
    health = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in health.headers  # a few bytes: not worth it
    icon = client.get("/static/img/icon-192.png", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in icon.headers
