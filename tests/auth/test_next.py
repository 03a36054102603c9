"""After a login (or a change of language) the app goes to ``next`` only when a browser would read it
as a path on this site, after every normalisation it applies: tabs and newlines dropped anywhere,
leading spaces and control characters stripped, a backslash read as a slash, and however many times
something on the way percent-decodes it."""

import re
from urllib.parse import quote, unquote, urlsplit

import pytest
from flask import redirect
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from outreach.auth.routes import is_local_path, safe_next
from tests.conftest import PASSWORD, csrf_token

SITE = "https://outreach.example.vn"
ATTACKS = [
    "//evil.example/",
    "/%09/evil.example/",  # the reported one: the tab goes, //evil.example/ stays
    "/\t/evil.example/",
    "/\n/evil.example/",
    "/\r\n/evil.example",
    "\t//evil.example",
    " //evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/%5Cevil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/%252F/evil.example",  # decoded twice on the way
    "%2F%2Fevil.example",
    "https://evil.example/",
    "http:evil.example",
    "javascript:alert(1)",
    "\x01//evil.example",
    "/%0a/evil.example",
]
# Harmless to a browser, refused all the same: not a path, or control characters in it.
ODD = ["evil.example", " /today", "/\x00/evil.example", "/%00/evil.example", "/today?q=a%09b"]
LOCAL = ["/", "/today", "/households?village=3&q=Nguy%E1%BB%85n", "/g/vneid1?t=abc", "/a//b", "/a\\b", "/maps?x=//y"]


def _login(client, target: str):
    return client.post(
        "/login",
        query_string={"next": target},
        data={"username": "leader.tanha", "password": PASSWORD, "csrf_token": csrf_token(client)},
    )


@pytest.mark.parametrize("target", ATTACKS + ODD, ids=[repr(a) for a in ATTACKS + ODD])
def test_a_login_never_sends_the_browser_to_another_site(client, users, target):
    response = _login(client, target)
    # Sent home, or (a NUL in the form) refused outright: never another site.
    refused = response.status_code == 400 and response.location is None
    assert refused or (response.status_code == 302 and response.location == "/"), response.location


@pytest.mark.parametrize("target", LOCAL)
def test_a_login_goes_on_to_a_page_of_this_site(client, users, target):
    assert unquote(_login(client, target).location) == unquote(target)  # Werkzeug writes a backslash as %5C


def test_the_language_switch_goes_back_only_to_this_site(client, users):
    for target in ATTACKS + ODD:
        response = client.post("/language", data={"lang": "en", "next": target, "csrf_token": csrf_token(client)})
        refused = response.status_code == 400 and response.location is None  # a NUL: the form is refused
        assert refused or response.location == "/", (target, response.location)


# --- the property, against a model of a browser's URL parser -----------------------------------

_C0_OR_SPACE = "".join(map(chr, range(0x21)))


def _browser_host(location: str, base: str = SITE) -> str | None:
    """The host a WHATWG URL parser reaches from ``location`` on a page of ``base`` (a model of what
    Chromium does with a Location header: strip, drop tabs and newlines, backslash is slash)."""
    url = re.sub(r"[\t\n\r]", "", location.strip(_C0_OR_SPACE)).replace("\\", "/")
    scheme = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):", url)
    if scheme:
        if scheme.group(1).lower() not in ("http", "https"):
            return f"{scheme.group(1).lower()}:"  # another scheme: not this site
        rest = url[len(scheme.group(0)) :]
        if scheme.group(1).lower() == urlsplit(base).scheme and not rest.startswith("/"):
            url = rest  # "https:foo" on an https page is relative
        else:
            return urlsplit("https://" + rest.lstrip("/")).hostname
    if url.startswith("//"):
        return urlsplit("https:" + url).hostname
    return urlsplit(base).hostname


TRICKY = st.sampled_from(
    ["/", "//", "\\", "\t", "\n", "\r", " ", "%", "%09", "%0A", "%2F", "%2f", "%5C", "%25", "%252F", "evil.example",
     ":", "http:", "https:", "javascript:", "@", ".", "..", "?", "#", "\x00", "\x1f", "\x7f", "a", "é"]
)  # fmt: skip
TARGETS = st.one_of(st.text(), st.lists(TRICKY, max_size=8).map("".join))


def _decodings(text: str):
    seen = set()
    while text not in seen:
        seen.add(text)
        yield text
        text = unquote(text)


@settings(max_examples=2000, database=None, derandomize=True, deadline=None)
@given(TARGETS)
@example("/%09/evil.example/")
@example("/\t/evil.example/")
def test_next_is_on_this_site_after_any_normalisation(target):
    if not is_local_path(target):
        return
    for form in _decodings(target):
        assert _browser_host(form) == "outreach.example.vn", (target, form)


def test_the_browser_model_sees_the_attacks():
    # The model used above is not blind: every attack leaves the site once decoded the way the
    # browser, or something on the way, would.
    for attack in ATTACKS:
        hosts = {_browser_host(form) for form in _decodings(attack)}
        assert hosts - {"outreach.example.vn"}, attack


# --- the same property, checked by Chromium itself on the Location header the app sends ---------


ORIGINS = "([forms, base]) => forms.map((f) => { try { return new URL(f, base).origin } catch (e) { return null } })"


@pytest.mark.browser
def test_chromium_reads_every_allowed_next_as_this_site(app, browser):
    page = browser.new_page()
    try:

        @settings(
            max_examples=300, database=None, derandomize=True, deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        )  # fmt: skip
        @given(TARGETS)
        @example("/%09/evil.example/")
        def check(target):
            with app.test_request_context("/login"):
                location = redirect(safe_next(target, "/")).headers["Location"]
            origins = page.evaluate(ORIGINS, [list(_decodings(location)), SITE + "/login"])
            assert set(origins) == {SITE}, (target, location, origins)

        check()
    finally:
        page.close()


def test_a_quoted_search_stays_as_it_is():
    target = "/households?q=" + quote("Nguyễn Văn")
    assert safe_next(target, "/") == target
