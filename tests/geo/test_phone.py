import pytest

from outreach.geo.phone import PhoneError, display_phone, normalize_phone


@pytest.mark.parametrize(
    "raw",
    [
        "0912345678",
        "+84912345678",
        "84912345678",
        "0912 345 678",
        "0912.345.678",
        "091-234-5678",
        " +84 912 345 678 ",
        "0084912345678",
    ],
)
def test_accepted_forms_normalize_to_e164(raw):
    assert normalize_phone(raw) == "+84912345678"


@pytest.mark.parametrize("raw", ["0362345678", "0523456789", "0701234567", "0812345678", "0987654321"])
def test_every_mobile_prefix(raw):
    assert normalize_phone(raw) == "+84" + raw[1:]


@pytest.mark.parametrize(
    "raw",
    [
        "091234567",  # 9 digits
        "09123456789",  # 11 digits
        "0212345678",  # landline prefix 02: no SMS, not a mobile
        "0112345678",
        "+8491234567",
        "+1 415 555 0100",  # not Vietnamese
        "số điện thoại",
        "0912abc678",
        "849123456789",
    ],
)
def test_refused_with_a_message(app, raw):
    with pytest.raises(PhoneError) as caught:
        normalize_phone(raw)
    assert raw in str(caught.value.args[0])


def test_blank_is_no_phone():
    assert normalize_phone("") is None and normalize_phone("   ") is None and normalize_phone(None) is None


def test_display_in_national_form():
    assert display_phone("+84912345678") == "0912 345 678"
