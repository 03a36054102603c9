"""Security headers on every response: a Content-Security-Policy that runs only the app's own scripts
(inline ones only with the response's nonce, never eval, never in a frame), geolocation for the app
itself, no referrer to other sites; and templates with no inline handlers the policy would block."""

import re
from pathlib import Path

import pytest

from outreach.extensions import db
from outreach.sms.guides_content import install_guides
from outreach.web import content_security_policy
from tests.conftest import NOW, csrf_token, login, make_household

ROOT = Path(__file__).resolve().parents[1]
INLINE_HANDLER = re.compile(
    r"<[a-z][^>]*\son(click|dblclick|load|error|submit|change|input|focus|blur|key\w+|mouse\w+|touch\w+|"
    r"pointer\w+|resize|scroll|unload|beforeunload|print|afterprint|beforeprint)\s*=",
    re.I,
)


def _policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {name: value for name, _sep, value in (d.strip().partition(" ") for d in header.split(";"))}


def _inline_scripts(html: str) -> list[str]:
    """The opening tags of the scripts a page runs inline (not JSON data blocks, not files)."""
    tags = re.findall(r"<script\b[^>]*>", html)
    return [t for t in tags if "src=" not in t and "application/json" not in t]


def _assert_headers(response):
    policy = _policy(response)
    scripts = policy["script-src"].split()
    assert "'self'" in scripts
    assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "https:", "http:"} & set(scripts), scripts
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Permissions-Policy"].startswith("geolocation=(self)")
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP on a laptop: production only


@pytest.fixture
def pages(client, users, geo):
    leader = users["leader"]
    for unit, lat, lon in ((geo["tanha_v1"], 21.83, 105.19), (geo["tanha_v2"], 21.84, 105.2)):
        unit.lat, unit.lon = lat, lon
    make_household(leader, geo["tanha_v1"], "Nguyễn Văn An", lat=21.83, lon=105.19)
    install_guides(now=NOW)
    db.session.commit()
    return {
        "home": "/",
        "coverage map": f"/maps/units/{geo['tanha'].id}",
        "household map": f"/maps/units/{geo['tanha'].id}/households",
        "reports": f"/reports/units/{geo['tanha'].id}",
        "public guide": "/g/vneid1",
        "guides": "/guides",
    }


def test_every_page_carries_the_policy_and_its_inline_scripts_the_nonce(client, users, pages):
    login_page = client.get("/login")
    _assert_headers(login_page)
    assert _inline_scripts(login_page.get_data(as_text=True))  # forgets the last walk list: inline, with the nonce
    login(client, "leader.tanha")
    nonces = set()
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        _assert_headers(response)
        scripts = _inline_scripts(response.get_data(as_text=True))
        allowed = [s for s in _policy(response)["script-src"].split() if s.startswith("'nonce-")]
        if scripts:
            assert len(allowed) == 1, name
            nonce = allowed[0][len("'nonce-") : -1]
            assert all(f'nonce="{nonce}"' in tag for tag in scripts), (name, scripts)
            nonces.add(nonce)
        else:
            assert allowed == [], name  # no nonce where nothing needs one
    assert len(nonces) >= 3  # the two maps and the guide: a new nonce every response


def test_responses_that_are_not_pages_carry_the_headers_too(client, users):
    login(client, "leader.tanha")
    for url in ("/api/v1/me", "/sw.js", "/static/js/print.js", "/no-such-page", "/manifest.webmanifest"):
        _assert_headers(client.get(url))
    _assert_headers(client.post("/language", data={"lang": "en", "next": "/", "csrf_token": csrf_token(client, "/")}))


def test_map_pages_load_their_libraries_from_the_app_and_tiles_from_the_tile_server(app):
    policy = content_security_policy({"MAP_TILES_URL": "https://tile.openstreetmap.org/{z}/{x}/{y}.png"}, None)
    assert "img-src 'self' data: blob: https://tile.openstreetmap.org;" in policy
    subdomains = content_security_policy({"MAP_TILES_URL": "https://{s}.tile.example.vn/{z}/{x}/{y}.png"}, None)
    assert "https://*.tile.example.vn" in subdomains
    assert "img-src 'self' data: blob:;" in content_security_policy({"MAP_TILES_URL": ""}, None)


def test_templates_have_no_inline_handlers_or_scripts_without_a_nonce():
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not INLINE_HANDLER.search(text), f"{template}: an inline handler (use a static script)"
        assert "javascript:" not in text, template
        for tag in _inline_scripts(text):
            assert 'nonce="{{ csp_nonce() }}"' in tag, f"{template}: {tag}"


@pytest.mark.browser
def test_a_violation_fails_a_browser_test(phone, live_server):
    """The browser tests fail on any violation: the watch in tests/conftest.py sees one."""
    phone.goto(f"{live_server}/login")
    phone.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.ran=1'; document.body.append(s) }"
    )
    phone.wait_for_timeout(100)
    assert phone.evaluate("() => window.ran") is None  # the policy blocked it ...
    assert any("script-src" in v for v in phone.policy_violations), phone.policy_violations  # ... and it was seen
    phone.policy_violations.clear()
