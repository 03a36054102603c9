"""The residents' form: no login, no script, nothing ticked beforehand, a hidden field against robots,
limits per address and per phone, the same phone within a week adds to its open request, a form sent
twice changes nothing, and the answer never tells whether the number is known."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from outreach.extensions import db
from outreach.requests import services
from outreach.requests.models import HelpRequest
from tests.conftest import NOW
from tests.requests.conftest import ask_data, form_fields


def _requests():
    db.session.rollback()
    return list(db.session.scalars(sa.select(HelpRequest).order_by(HelpRequest.id)))


def _form(client, url="/help?unit=02216&from=leaflet"):
    page = client.get(url)
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_the_leaflets_link_opens_a_short_form_with_nothing_ticked_and_no_script(client, geo):
    html = _form(client)
    assert "Tôi cần người đến hướng dẫn" in html
    # Only the commune's villages to choose from, and no other commune's.
    assert "Thôn Phú Bình" in html and "Thôn Tân Hà" in html and "Thôn Đồng Mới" not in html
    assert "<script" not in html
    assert " checked" not in html  # not the consent, not a village, not a need, not a time
    assert 'name="consent"' in html and "lưu tên và số điện thoại" in html
    assert 'name="website"' in html  # the trap, hidden from people
    assert form_fields(html)["token"]
    assert "Set-Cookie" not in client.get("/help?unit=02216").headers


def test_a_village_code_chooses_the_village(client, geo):
    html = _form(client, "/help?unit=02216-002")
    chosen = geo["tanha_v2"].id
    assert re.search(rf'<input[^>]*checked[^>]*value="{chosen}"|value="{chosen}"[^>]*checked', html)


def test_without_a_unit_the_resident_finds_their_commune(client, geo):
    html = _form(client, "/help?q=tan ha")
    assert "Phường Tân Hà" in html and "unit=legacy:02216" in html
    assert "Thôn Phú Bình" not in html


def test_a_request_is_stored_with_the_consent_word_for_word(client, geo):
    token = form_fields(_form(client))["token"]
    response = client.post("/help?unit=02216&from=leaflet", data=ask_data(geo["tanha_v1"], token=token))
    assert response.status_code == 303 and "/help/received?unit=legacy" in response.headers["Location"]
    [request] = _requests()
    assert (request.name, request.phone, request.need, request.preferred_time) == (
        "Bà Lò Thị Mai",
        "+84987111222",
        "vneid1",
        "afternoon",
    )
    assert request.commune_id == geo["tanha"].id and request.village_id == geo["tanha_v1"].id
    assert request.source == "qr" and request.status == "new"
    assert request.consent_text == services.FORM_CONSENT_TEXT and request.consent_at is not None
    assert "Set-Cookie" not in response.headers  # no cookie, before or after
    assert "đã được nhận" in client.get("/help/received").get_data(as_text=True)


def test_the_same_form_sent_twice_changes_nothing(client, geo):
    token = form_fields(_form(client))["token"]
    for _ in range(2):
        assert client.post("/help?unit=02216", data=ask_data(geo["tanha_v1"], token=token)).status_code == 303
    [request] = _requests()
    assert request.asks == 1 and request.source == "form"


def test_without_consent_nothing_is_kept_and_the_field_says_why(client, geo):
    data = ask_data(geo["tanha_v1"], token="t1")
    del data["consent"]
    response = client.post("/help?unit=02216", data=data)
    assert response.status_code == 400
    assert "Đánh dấu để đồng ý" in response.get_data(as_text=True) or "agree" in response.get_data(as_text=True)
    assert _requests() == []


def test_odd_input_gets_messages_not_errors(client, geo):
    data = ask_data(geo["tanha_v1"], phone="12345", village_id="abc", need="nothing", preferred_time="midnight")
    response = client.post("/help?unit=02216", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "12345" in html  # the phone's message names what was typed
    assert _requests() == []
    # A village of another commune cannot be slipped in.
    other = client.post("/help?unit=02216", data=ask_data(geo["doican_v1"], token="t2"))
    assert other.status_code == 400 and _requests() == []
    assert client.post("/help?unit=nowhere", data=ask_data(geo["tanha_v1"])).status_code == 400


def test_a_robot_filling_the_hidden_field_gets_the_same_answer_and_nothing_is_stored(client, geo):
    response = client.post("/help?unit=02216", data=ask_data(geo["tanha_v1"], website="http://spam.example"))
    assert response.status_code == 303 and "/help/received?unit=legacy" in response.headers["Location"]
    assert _requests() == []


def test_the_answer_never_tells_whether_the_number_is_known(client, geo, known):
    answers = []
    for phone, token in (("0912345678", "a"), ("0987111222", "b")):
        response = client.post("/help?unit=02216", data=ask_data(geo["tanha_v1"], phone=phone, token=token))
        answers.append((response.status_code, response.headers["Location"], response.get_data()))
    assert answers[0] == answers[1]
    # Nor does asking again.
    again = client.post("/help?unit=02216", data=ask_data(geo["tanha_v1"], phone="0912345678", token="c"))
    assert (again.status_code, again.headers["Location"], again.get_data()) == answers[0]


def test_the_same_phone_within_a_week_adds_to_its_open_request(app, geo):
    first = services.ask(
        services.AskInput("An", "0987111222", geo["tanha_v1"].id, "fee", consent=True, token="x1"), now=NOW
    )
    # Within the hour: nothing changes (the per-phone limit).
    same = services.ask(
        services.AskInput("An", "0987111222", geo["tanha_v1"].id, "fee", consent=True, token="x2"), now=NOW
    )
    assert same.id == first.id and same.asks == 1
    later = NOW + timedelta(days=3)
    again = services.ask(
        services.AskInput("An", "+84987111222", geo["tanha_v1"].id, "fee", "evening", "Cả mẹ tôi nữa", True, "x3"),
        now=later,
    )
    assert again.id == first.id and again.asks == 2 and again.preferred_time == "evening"
    assert "Cả mẹ tôi nữa" in again.note
    # After a week, or once closed, it is a new request.
    week_on = services.ask(
        services.AskInput("An", "0987111222", geo["tanha_v1"].id, "fee", consent=True, token="x4"),
        now=NOW + timedelta(days=8),
    )
    assert week_on.id != first.id
    db.session.commit()


def test_the_address_limit(client, app, geo, monkeypatch):
    monkeypatch.setitem(app.config, "HELP_RATE_LIMIT", "2 per hour")
    codes = [
        client.post(
            "/help?unit=02216", data=ask_data(geo["tanha_v1"], phone=f"098711122{i}", token=f"r{i}")
        ).status_code
        for i in range(3)
    ]
    assert codes == [303, 303, 429]
    assert len(_requests()) == 2
    # Reading the form is not limited.
    assert client.get("/help?unit=02216").status_code == 200


def test_guide_pages_and_leaflets_offer_the_form(client, geo, users):
    from outreach.sms.services import GuideInput, queue_guide_sms, save_guide
    from tests.conftest import login, make_household

    guide = save_guide(None, GuideInput("vneid1", "Cài VNeID", "1. Mở CH Play"), now=NOW)
    db.session.commit()
    page = client.get("/g/vneid1").get_data(as_text=True)
    assert 'href="/help"' in page and "Tôi cần người đến hướng dẫn" in page
    # Opened from an SMS: the link names the commune the message went to, so its villages are listed.
    household = make_household(users["leader"], geo["tanha_v1"], phone="0912345678", consent_sms=True)
    [message] = queue_guide_sms(users["leader"], [household.id], guide.id, "{name} {link}", now=NOW).messages
    db.session.commit()
    page = client.get(f"/g/vneid1?t={message.token}").get_data(as_text=True)
    assert 'href="/help?unit=legacy:02216"' in page
    login(client, "leader.tanha")
    leaflet = client.get(f"/guides/{guide.id}/print").get_data(as_text=True)
    assert "Tôi cần người đến hướng dẫn" in leaflet and "/help?unit=legacy:02216&amp;from=leaflet" in leaflet
    assert leaflet.count("<svg") >= 2  # the guide's QR code and the form's


def test_the_same_form_sent_twice_at_once_is_stored_once(app, is_postgres, geo):
    if not is_postgres:
        pytest.skip(
            "two writers at once need PostgreSQL; on SQLite a form's request holds the write lock from its start"
        )
    import threading
    import time

    village_id, first_stored, ids, errors = geo["tanha_v1"].id, threading.Event(), [], []

    def send(*, first):
        try:
            with app.app_context():
                if not first:
                    first_stored.wait(10)
                data = services.AskInput("An", "0987111222", village_id, "fee", consent=True, token="same-form")
                ids.append(services.ask(data, now=NOW).id)
                if first:
                    first_stored.set()
                    time.sleep(0.5)  # the other one checks the token while this one has not committed
                db.session.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, kwargs={"first": first}) for first in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert errors == [] and len(set(ids)) == 1 and len(_requests()) == 1


@pytest.mark.parametrize("typed", ["Tân Hà", "tan ha", "Phường Tân Hà", "phuong tan ha"])
def test_a_former_commune_s_name_finds_today_s_ward_and_nothing_else(client, tq2025, typed):
    html = _form(client, f"/help?q={typed}")
    names = re.findall(r'<li><a href="[^"]*unit=([^"&]+)">([^<·]+)', html)
    assert [name.strip() for _code, name in names] == ["Phường Minh Xuân"]
    assert "trước đây gồm Phường Tân Hà" in html
    assert "Tân Thanh" not in html  # "ha" is the start of a word, not inside "Thanh"


def test_a_leading_kind_word_is_left_out_of_the_search(client, geo):
    assert "unit=legacy:02216" in _form(client, "/help?q=Phường Tân Hà")
    assert "unit=legacy:02216" in _form(client, "/help?q=xa tan ha")


def test_the_answer_names_the_unit_s_kind(client, geo):
    token = form_fields(_form(client))["token"]
    response = client.post("/help?unit=02216&from=leaflet", data=ask_data(geo["tanha_v1"], token=token))
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Tổ công nghệ số của phường" in html and "của xã" not in html
    assert "Tổ công nghệ số của xã" in client.get("/help/received").get_data(as_text=True)  # no unit: the usual word
