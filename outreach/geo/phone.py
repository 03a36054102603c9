"""The one phone normalizer: Vietnamese mobile numbers to E.164; and how a number may appear in a
log (masked: the country code and the last three digits at most)."""

import logging
import re

import phonenumbers
from flask_babel import lazy_gettext as _l

_SEPARATORS = re.compile(r"[\s.\-()]")
# 10 digits 0[35789]xxxxxxxx, i.e. +84 followed by 9 digits starting 3, 5, 7, 8 or 9.
_DIGITS = re.compile(r"^\+?\d{6,15}$")
_VN_MOBILE = re.compile(r"^\+84[35789]\d{8}$")

PHONE_HELP = _l("10 digits starting with 03, 05, 07, 08 or 09, or +84 followed by the 9 digits after the 0.")


class PhoneError(ValueError):
    pass


def normalize_phone(raw: str | None) -> str | None:
    """Return the E.164 form (+84912345678) of a Vietnamese mobile number, ``None`` if blank.

    Accepts 0912345678, +84912345678, 84912345678 and the same with spaces, dots or dashes.
    Raises ``PhoneError`` with a message for the user otherwise.
    """
    if raw is None or not str(raw).strip():
        return None
    compact = _SEPARATORS.sub("", str(raw).strip())
    if not _DIGITS.match(compact):  # phonenumbers would read letters as a keypad ("abc" -> 222)
        raise PhoneError(_l("“%(raw)s” is not a phone number: %(help)s", raw=raw, help=PHONE_HELP))
    if compact.startswith("0084"):
        compact = "+" + compact[2:]
    elif compact.startswith("84") and len(compact) == 11:
        compact = "+" + compact
    try:
        number = phonenumbers.parse(compact, "VN")
    except phonenumbers.NumberParseException as exc:
        raise PhoneError(_l("“%(raw)s” is not a phone number: %(help)s", raw=raw, help=PHONE_HELP)) from exc
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not (_VN_MOBILE.match(e164) and phonenumbers.is_valid_number(number)):
        raise PhoneError(_l("“%(raw)s” is not a Vietnamese mobile number: %(help)s", raw=raw, help=PHONE_HELP))
    return e164


def display_phone(e164: str | None) -> str:
    """The national form people read and dial: 0912 345 678."""
    if not e164:
        return ""
    national = "0" + e164[3:]
    return f"{national[:4]} {national[4:7]} {national[7:]}"


# A Vietnamese mobile number inside any text, in the spellings people and URLs use: 0912345678,
# +84912345678, 84912345678, %2B84912345678, 0912 345 678, 091-234-5678.
_PHONE_IN_TEXT = re.compile(r"(?<![\d+])(?:\+?84|0)[\s.\-]?[35789](?:[\s.\-]?\d){8}(?!\d)")
MASK = "•" * 7


def mask_phone(phone: str | None) -> str:
    """A phone number as a log may show it: +84•••••••678 (no more than its last three digits)."""
    digits = re.sub(r"\D", "", phone or "")
    if not digits:
        return ""
    return f"{'+84' if digits.startswith('84') else ''}{MASK}{digits[-3:]}"


def redact_phones(text: str) -> str:
    """``text`` with every mobile number in it masked."""
    return _PHONE_IN_TEXT.sub(lambda match: mask_phone(match.group()), text)


class RedactPhones(logging.Filter):
    """The last line of defence: no log line may hold a phone number, even in a request's address
    (a search by phone) or in an error's traceback. Code logs none to begin with."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_phones(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_phones(logging.Formatter().formatException(record.exc_info))
        return True


# The loggers a server writes: ours, the web servers' (request lines) and the libraries we call.
LOGGERS = (
    "outreach", "outreach.sms", "outreach.scheduler", "werkzeug", "gunicorn.access", "gunicorn.error",
    "apscheduler", "twilio.http_client",
)  # fmt: skip


def redact_phones_in_logs(names: tuple[str, ...] = LOGGERS) -> None:
    """Put ``RedactPhones`` on these loggers (once each)."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactPhones) for f in logger.filters):
            logger.addFilter(RedactPhones())
