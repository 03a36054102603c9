"""Personal data stays out of the logs: phone numbers are masked to their last three digits, SMS
texts are never written. The whole run's log lines are also searched (tests/conftest.py)."""

import logging

from outreach.geo.phone import mask_phone, redact_phones
from tests.conftest import make_household, personal_data_in


def test_a_number_shows_at_most_its_last_three_digits():
    assert mask_phone("+84912345678") == "+84•••••••678"
    assert mask_phone("0912345678") == "•••••••678"
    assert mask_phone(None) == ""


def test_numbers_in_any_spelling_are_masked_in_text():
    text = "q=0912345678 to=%2B84987654321 hỏi 0912 345 678, 091-234-5678; visit 20261126 id 123456789012"
    redacted = redact_phones(text)
    assert "912345678" not in redacted.replace(" ", "").replace("-", "") and "987654321" not in redacted
    assert redacted.count("•••••••678") == 3 and "20261126" in redacted and "123456789012" in redacted


def test_a_request_line_with_a_phone_search_is_logged_masked(app, caplog):
    # The development server and gunicorn write every request's address: a search by phone is one.
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info('%s - - "%s" 200 -', "127.0.0.1", "GET /households?q=0912345678 HTTP/1.1")
    assert "/households?q=•••••••678" in caplog.text and "0912345678" not in caplog.text


def test_an_error_with_a_phone_in_it_is_logged_masked(app, caplog):
    try:
        raise ValueError("duplicate key (phone)=(+84912345678)")
    except ValueError:
        with caplog.at_level(logging.ERROR, logger="outreach"):
            logging.getLogger("outreach").exception("Exception on /households/new [POST]")
    assert "+84•••••••678" in caplog.text and "912345678" not in caplog.text


def test_the_run_wide_search_finds_numbers_and_texts(users, geo):
    household = make_household(users["leader"], geo["tanha_v1"], "Vi Văn Nhất", phone="0977 123 456")
    phones, bodies = {household.phone[-9:]}, {"Chào Vi Văn Nhất, mở hướng dẫn"}
    lines = [
        "outreach.sms: SMS console-1 to +84•••••••456: 140 characters",
        "werkzeug: GET /households?q=0977123456 HTTP/1.1",
        "outreach.sms: sent Chào Vi Văn Nhất, mở hướng dẫn",
        "twilio.http_client: to 84977123456",
    ]
    assert personal_data_in(lines, phones, bodies) == lines[1:]
