"""Every page of every role, on a 360 px phone: axe-core finds no critical or serious problem, nothing is
wider than the screen, every tap target is at least 44x44 px, and a Vietnamese page has no English in it.

The pages are the ones the role tests name (tests/auth/test_role_links.py: the menu of each role and the
pages whose buttons depend on the role), and the pages one step further (forms, maps, reports, print views).
axe-core comes from the npm registry into static/vendor/ (`make vendor`), like Leaflet. One browser, one
context per role. PAGE_CHECK_SHOTS=DIR keeps a screenshot of each page there, to look at.
"""

import io
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from outreach.auth.models import Role
from outreach.clock import local_today
from outreach.extensions import db
from outreach.geo.models import Household
from outreach.planning.services import assign_households
from outreach.reports.imports import import_statistics
from outreach.reports.models import Agency
from outreach.requests.services import AskInput, ask
from outreach.sms.models import SmsMessage, Status
from outreach.types import utcnow
from tests.auth import test_role_links as role_tests
from tests.conftest import NOW, PASSWORD, make_household, make_user

MENU, _gates = role_tests.MENU, role_tests._gates
world = role_tests.world  # the role tests' fixture: their household, visits, guides and campaign

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "static" / "vendor" / "axe-core" / "axe.min.js"

# Words that are the same in Vietnamese: names of things and formats, codes, units, loanwords Vietnamese uses
# (internet, camera, link: the consent text residents hear says "đường link"), the SMS keywords residents send.
ALLOWED = {
    "vneid", "sms", "qr", "csv", "xlsx", "api", "otp", "id", "json", "geojson", "ubnd", "outreach", "leaflet",
    "openstreetmap", "twilio", "android", "chrome", "iphone", "safari", "zalo", "pdf", "url", "email", "gps",
    "stop", "start", "help", "wifi", "vnd", "utf", "bom", "stt", "cccd", "internet", "camera", "m", "km", "mb",
    "markdown", "sha", "excel", "featurecollection", "link", "docx",
    "csrf", "http", "https", "www", "tp",
    "ii", "iii", "iv", "v",  # the Roman numbers of an administrative document's sections (the privacy register)
}  # fmt: skip
# English words that also have the shape of a Vietnamese syllable, so the shape alone cannot tell them.
ENGLISH = {"the", "at", "it", "not", "but", "by", "up", "on", "map", "mi", "ft", "yes"}  # not "to": "Phóng to"
NAMES = ["CH Play", "App Store", "Google Play"]  # where residents find VNeID
_INITIAL = r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?"
_NUCLEUS = (
    r"(?:oai|oay|oeo|uay|uoi|uou|uya|uye|uyu|yeu|ieu|ai|ao|au|ay|eo|eu|ia|ie|iu|oa|oe|oi|oo|ua|ue|ui|uo|uu|uy|ye"
    r"|[aeiouy])"
)
_SYLLABLE = re.compile(rf"^{_INITIAL}{_NUCLEUS}(?:ch|ng|nh|[cmnpt])?$")


def english_words(texts: list[str], names: list[str]) -> list[str]:
    """Words of ``texts`` that are English: plain letters that cannot be a Vietnamese syllable, or a few
    English words that can; names of people and accounts and the allowed words aside."""
    found = []
    for text in texts:
        for name in (*names, *NAMES):
            text = text.replace(name, " ")
        text = re.sub(r"\{\w+\}", " ", text)  # a message template's placeholders, {name} and {link}
        text = re.sub(r"\S+[@/]\S*|\S*\.(?:csv|xlsx|json|geojson|vn|com)\b", " ", text)  # addresses, files
        for word in re.findall(r"\w+", text):
            low = word.lower()
            if not word.isascii() or not word.isalpha() or low in ALLOWED:  # codes and hashes have digits
                continue
            if low in ENGLISH or not _SYLLABLE.match(low):
                found.append(word)
    return found


TEXTS_JS = """() => {
  const out = [document.title];
  const skip = el => el.closest("script, style, noscript, template, code, pre, kbd, samp")
    || !(el.closest("[lang]") || document.documentElement).lang.startsWith("vi");
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node; (node = walker.nextNode());) {
    if (node.parentElement && !skip(node.parentElement) && node.textContent.trim()) out.push(node.textContent);
  }
  for (const el of document.body.querySelectorAll("[title], [aria-label], [placeholder], [alt], input[type=submit]")) {
    if (skip(el)) continue;
    for (const name of ["title", "aria-label", "placeholder", "alt"]) {
      if (el.getAttribute(name)) out.push(el.getAttribute(name));
    }
    if (el.type === "submit" && el.value) out.push(el.value);
  }
  return out;
}"""

# A tap target: anything that takes a tap, measured where the finger lands (a checkbox by its label). A
# link inside a sentence is exempt (WCAG's "inline" exception): its line of text sets its height.
TARGETS_JS = """() => {
  const small = [], seen = new Set();
  const block = el => { let p = el.parentElement;
    while (p && ["inline", "contents"].includes(getComputedStyle(p).display)) p = p.parentElement; return p; };
  const words = el => (el.textContent || "").replace(/\\s+/g, " ").trim();
  const inText = el => { const b = block(el); return b && words(b) !== words(el); };
  for (let el of document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary")) {
    if (el.closest(".leaflet-control-attribution, .leaflet-popup, .leaflet-marker-pane")) continue;
    if (el.matches("input[type=checkbox], input[type=radio]")) el = el.closest("label") || el.labels[0] || el;
    if (seen.has(el)) continue;
    seen.add(el);
    const box = el.getBoundingClientRect(), style = getComputedStyle(el);
    if (!box.width || !box.height || style.visibility === "hidden") continue;
    const own = el.classList.contains("button") || el.closest(".leaflet-control");
    if (el.tagName === "A" && !own && inText(el)) continue;
    if (box.width < 43.5 || box.height < 43.5) {
      const name = (words(el) || el.getAttribute("aria-label") || el.getAttribute("title") || el.name || "");
      small.push(`${el.tagName.toLowerCase()}${el.className ? "." + String(el.className).split(" ").join(".") : ""}`
        + ` "${name.slice(0, 40)}" ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return small;
}"""

AXE_JS = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.filter(v => v.impact === "critical" || v.impact === "serious").map(v =>
    `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ")}`);
}"""


@pytest.fixture
def day(app, users, geo, world):
    """The world of the role tests, and a day in it: located households (one next door to another), today's
    walk list of the member, an SMS that failed, a province's statistics with an agency still to match."""
    province_staff = make_user("staff.province", Role.STAFF, geo["province"])
    first = db.session.get(Household, world["h"])
    first.lat, first.lon = 21.8301, 105.1901
    homes = [first] + [
        make_household(users["leader"], geo["tanha_v1"], name, lat=lat, lon=lon, address=address)
        for name, lat, lon, address in (
            ("Hoàng Thị Mơ", 21.83012, 105.19013, "Số 3 ngõ 5"),
            ("Triệu Văn Dìn", 21.8312, 105.1920, "Số 8 ngõ 7"),
        )
    ]
    for unit, lat, lon in ((geo["tanha"], 21.835, 105.195), (geo["doican"], 21.80, 105.22)):
        unit.lat, unit.lon = lat, lon
    with app.test_request_context():
        assign_households(
            users["leader"], users["member"].id, [h.id for h in homes], due_on=local_today(), now=utcnow(),
            campaign_id=world["campaign"],
        )  # fmt: skip
    db.session.add(
        SmsMessage(
            commune_id=geo["tanha"].id, household_id=first.id, to_phone="+84912345678", body="Cài VNeID",
            encoding="UCS-2", segments=1, token="t-page-check", status=Status.FAILED, error_code=21610,
            due_at=NOW, created_at=NOW - timedelta(hours=1), attempts=1,
        )
    )  # fmt: skip
    summary = (
        "Đơn vị,Tháng,Tổng số hồ sơ,Hồ sơ trực tuyến\n"
        "UBND phường Tân Hà,09/2026,1.205,430\nUBND phường Đội Cấn,09/2026,900,200\n"
        "UBND xã Minh Khương,09/2026,500,200\nSở Tư pháp,09/2026,2.000,1.500\nUBND xã Không Rõ,09/2026,10,5\n"
        "UBND phường Tân Hà,10/2026,1.300,520\nUBND phường Đội Cấn,10/2026,950,230\n"
    )
    import_statistics(province_staff, io.BytesIO(summary.encode()), "thang-9-10.csv", province=geo["province"], now=NOW)
    # A resident asked for help (the leader's list and its page).
    asked = ask(AskInput("Lò Thị Mai", "0987111222", geo["tanha_v1"].id, "vneid1", "afternoon", consent=True), now=NOW)
    # A request about personal data past its deadline, and a breach not yet notified (the privacy pages).
    from outreach.privacy.services import BreachInput, CaseInput, open_case, record_breach

    case = open_case(
        users["leader"], CaseInput("delete", "Bà Lò Thị Hoa", details="Xoá số điện thoại", household_id=first.id,
                                   received_at=NOW - timedelta(days=30)), now=NOW,
    )  # fmt: skip
    breach = record_breach(
        users["leader"], BreachInput("Mất điện thoại của thành viên tổ, có danh sách hộ và số điện thoại",
                                     NOW - timedelta(days=5), 40, "Họ tên, số điện thoại", "Khoá tài khoản"), now=NOW,
    )  # fmt: skip
    db.session.commit()
    unmatched = db.session.scalar(sa.select(Agency.id).where(Agency.name == "UBND xã Không Rõ"))
    return {
        **world, "province_staff": province_staff, "agency": unmatched, "homes": [h.id for h in homes],
        "request": asked.id, "case": case.id, "breach": breach.id,
    }  # fmt: skip


def _pages(role: str, w: dict, geo: dict, users: dict) -> list[str]:
    """The role's menu, the pages of the role tests, and the pages they lead to."""
    h, c, v, city, province = w["h"], w["commune"], w["village"], geo["city"].id, geo["province"].id
    further = [
        "/households/new", f"/households/{h}/edit", f"/households/{h}/sms", f"/record?h={h}", "/maps/walk",
        f"/maps/units/{c}/households", f"/maps/units/{c}?measure=activated", f"/maps/units/{city}",
        f"/maps/units/{province}?measure=online_rate", f"/reports/units/{c}", f"/reports/units/{c}/impact",
        f"/reports/units/{city}/impact", f"/reports/units/{province}", "/reports/agencies",
        f"/reports/agencies/{w['agency']}", "/sms/bulk", "/guides/new", f"/guides/{w['guide']}/edit",
        f"/guides/{w['guide']}/print", f"/villages/{v}/edit", f"/admin/users/{users['member'].id}",
        "/maps/boundaries", "/reports/imports", "/g/vneid1", "/offline", f"/requests/{w['request']}",
        "/help?unit=02216&from=leaflet", "/help?q=tan ha", "/help/received",
        "/privacy/ask?unit=02216", "/privacy/ask?q=tan ha", "/privacy/ask/received?unit=legacy:02216&kind=restrict",
        "/privacy/cases", f"/privacy/cases/new?household={h}", "/privacy/register", "/privacy/breaches",
        "/privacy", f"/privacy/cases/{w['case']}", f"/privacy/breaches/{w['breach']}",
    ]  # fmt: skip
    pages = list(MENU.get(role, MENU["staff"])) + [url for url, _needle, _roles in _gates(w)] + further
    return list(dict.fromkeys(pages))


LOGINS = {
    "admin": "admin",
    "staff": "staff.city",
    "province": "staff.province",
    "leader": "leader.tanha",
    "member": "member.tanha",
}


def _check_role(browser, live_server: str, role: str, pages: list[str], names: list[str]) -> tuple[int, list[str]]:
    """Log in as the role in a context of its own and check each of its pages: (pages checked, problems)."""
    shots = os.environ.get("PAGE_CHECK_SHOTS")
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, service_workers="block", locale="vi-VN"
    )
    inside = lambda route: route.continue_() if route.request.url.startswith(live_server) else route.abort()  # noqa: E731
    context.route("**/*", inside)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"{role} {page.url}: uncaught {error}"))
    checked = 0
    try:
        page.goto(f"{live_server}/login")
        page.fill("#username", LOGINS[role])
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda address: "/login" not in address)
        for url in pages:
            response = page.goto(f"{live_server}{url}")
            assert response is not None
            if response.status in (403, 404) and url not in MENU.get(role, ()):
                continue  # not this role's page
            assert response.status == 200, f"{role} {url}: {response.status}"
            if page.locator(".leaflet-container").count():
                page.wait_for_function("() => document.querySelector('.leaflet-control-zoom') !== null")
            checked += 1
            said = []
            width = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
            if width > 360:
                said.append(f"the page is {width} px wide")
            page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
            said += page.evaluate(AXE_JS)
            said += [f"tap target {t}" for t in page.evaluate(TARGETS_JS)]
            if page.evaluate("document.documentElement.lang") == "vi":
                english = english_words(page.evaluate(TEXTS_JS), names)
                if english:
                    said.append("English on a Vietnamese page: " + ", ".join(dict.fromkeys(english)))
            if shots:
                name = re.sub(r"\W+", "_", url).strip("_") or "home"
                page.screenshot(path=str(Path(shots) / f"{role}-{name}.png"), full_page=True)
            problems += [f"{role} {page.url.removeprefix(live_server)}: {one}" for one in said]
    finally:
        context.close()
    return checked, problems


def test_every_page_of_every_role_is_clean_on_a_phone(browser, live_server, day, geo, users):
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `make vendor` (axe-core comes from the npm registry)")
    people = (*users.values(), day["province_staff"])
    names = [u.username for u in people] + [u.full_name for u in people if u.full_name]
    problems, once = [], {"/g/vneid1", "/offline", f"/guides/{day['guide']}/print"}  # the same for every role
    for number, role in enumerate(LOGINS):
        pages = [url for url in _pages(role, day, geo, users) if not (number and url in once)]
        checked, found = _check_role(browser, live_server, role, pages, names)
        assert checked >= len(MENU.get(role, MENU["staff"])), role
        problems += found
    assert not problems, "\n".join(problems)


def test_the_english_check_tells_english_from_vietnamese_without_diacritics():
    english = ["Zoom", "Layers", "ft", "Close", "popup"]
    assert english_words(["Zoom in", "Layers", "500 ft", "Close popup", "Phóng to"], []) == english
    assert english_words(["Cho ban xem tin nhan", "Nguyen Van An", "Phuong Tan Ha", "Khuyen khich"], []) == []
    assert english_words(["Gửi SMS có mã QR, tệp CSV hoặc XLSX", "Đăng xuất (leader.tanha)"], ["leader.tanha"]) == []


def test_wide_tables_say_they_scroll_and_month_pickers_are_thumb_sized(phone, live_server, day, geo):
    page = phone
    page.goto(f"{live_server}/login?next=/campaigns/{day['campaign']}")
    page.fill("#username", "leader.tanha")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/campaigns/{day['campaign']}")
    wraps = page.locator(".table-wrap.scrolls")
    assert wraps.count() == 2  # per village and per member: wider than the phone
    for i in range(2):
        hint = wraps.nth(i).locator("xpath=preceding-sibling::*[1]")
        assert "vuốt sang ngang" in hint.inner_text() and hint.is_visible()
        assert wraps.nth(i).get_attribute("tabindex") == "0"
    page.goto(f"{live_server}/reports/units/{geo['tanha'].id}/impact")
    for picker in page.locator("input[type=month]").all():
        box = picker.bounding_box()
        size = float(picker.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
        assert box["height"] >= 44 and size >= 16, (box, size)
    assert page.console_errors == []
