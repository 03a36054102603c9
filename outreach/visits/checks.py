"""Checking a visit record from a phone: its fields against their declaration (``payload``), then the
rules between them, with a message for the member on the field to fix. No database here: what a
record may store is decided before anything is looked up."""

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from outreach.clock import YEAR_AHEAD, day_end, day_range, day_start, local_today
from outreach.text import fold
from outreach.visits.models import HELP_FACTS, Obstacle, Outcome
from outreach.visits.payload import VISIT_SCHEMA, VisitPayload, read_visit

FIELDS = frozenset(VisitPayload.model_fields)  # what a phone may send
_FREE_TEXT = ("procedure", "obstacle_other", "notes")
_BANDS = ("helped_under_30", "helped_30_to_59", "helped_60_plus")
_NOBODY_HELPED = (Outcome.NOBODY_HOME, Outcome.REFUSED, Outcome.MOVED_AWAY)


# An ID card number (CCCD 12 digits, old CMND 9) or an OTP must never be written down. Digits may be
# grouped with spaces, dots or dashes ("001-099-012-345"); amounts ("100.000đ") and phones (10) pass.
_DIGIT_RUN = re.compile(r"\d(?:[ .\-]?\d)*")
_MONEY_AFTER = re.compile(r"\s*(đ|đồng|d\b|vnd|vnđ|k\b|nghìn|ngàn|triệu)", re.IGNORECASE)
_OTP_BEFORE = re.compile(
    r"(otp|mã|ma xac|xác nhận|xac nhan|xác thực|xac thuc|code|pin)(\W|\b(là|la|is)\b)*$", re.IGNORECASE
)
# A password named as such, in Vietnamese with or without diacritics or in English (read folded):
# "mật khẩu là hoa2024", "mk: abc", "password hunter2". Talk about one ("quên mật khẩu") passes.
_PASSWORD_SAID = re.compile(r"\b(mat khau|password|passwd|pwd|ma pin)\s*([:=]|\b(la|is)\b)\s*[^\s:=]{3}")
_PASSWORD_SHORT = re.compile(r"\b(mk|pass|pw)\s*[:=]\s*\S")  # "mk" alone is also slang for "mình"
_PASSWORD_BARE = re.compile(r"\b(mat khau|mk|password|passwd|pass|pwd|pw)\s+(?=\S*\d)\S{4}")


def looks_secret(text: str) -> bool:
    """An ID card number, an OTP code or a password named as such, in free text."""
    folded = fold(text)
    if _PASSWORD_SAID.search(folded) or _PASSWORD_SHORT.search(folded) or _PASSWORD_BARE.search(folded):
        return True
    text = unicodedata.normalize("NFC", text)
    for match in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if _MONEY_AFTER.match(text, match.end()):
            continue
        if len(digits) in (9, 12):
            return True
        if len(digits) in (4, 6) and _OTP_BEFORE.search(text[max(0, match.start() - 24) : match.start()]):
            return True
    return False


def _declared(name: str) -> dict:
    """A field's JSON Schema, as the OpenAPI document states it."""
    return VISIT_SCHEMA["properties"][name]


def _whole_number(name: str):
    limits = _declared(name)
    return _l("a whole number from %(low)s to %(high)s", low=limits["minimum"], high=limits["maximum"])


# What each field should be, told when it does not fit its declaration (the limits are the declared ones).
_EXPECTED = {
    "client_id": _l("a UUID made on the phone"),
    "household_id": _l("the number of a household"),
    "device_time": _l("a date and time like 2026-11-26T09:30:00+07:00"),
    "outcome": _l("one of: %(values)s", values=", ".join(_declared("outcome")["enum"])),
    "follow_up_on": _l("a date like 2026-12-01"),
    **{name: _whole_number(name) for name in ("people_helped", *_BANDS)},
    **dict.fromkeys((*HELP_FACTS, "location_consent", "sensitive_consent"), _l("true or false")),
    **dict.fromkeys(_FREE_TEXT, _l("text")),
    "guide_given": _l("empty, printed or sms"),
    "obstacles": _l("a list of: %(values)s", values=", ".join(_declared("obstacles")["items"]["enum"])),
    "location": _l("an object with lat, lon and accuracy (metres)"),
    "supersedes": _l("the client_id of the record being corrected"),
}


def _field_error(name: str, problems: set[str]) -> str:
    """What to tell the member about a field that does not fit its declaration."""
    if "extra_forbidden" in problems:
        return _("unknown field (passwords, OTP codes and ID numbers are never stored)")
    if "string_too_long" in problems:
        return _("at most %(n)s characters", n=_declared(name)["maxLength"])
    if problems & {"string_pattern_mismatch", "string_unicode"}:
        return _("a character that cannot be stored (NUL, or a broken one)")
    if "timezone_aware" in problems:
        return _("the time zone is missing")
    if name == "location" and problems <= {"greater_than_equal", "less_than_equal"}:
        return _("latitude or longitude out of range")
    return str(_EXPECTED[name])


def _days(first: date, last: date) -> dict[str, str]:
    return {"first": f"{first:%d/%m/%Y}", "last": f"{last:%d/%m/%Y}"}


@dataclass(frozen=True)
class Window:
    """The times a record may carry, worked out once for a batch at ``now`` (not once per record):
    a visit on a day of ``day_range`` (from the earliest day to tomorrow), a follow-up up to a year ahead."""

    first_day: date
    last_day: date
    last_follow_up: date
    earliest: datetime  # the first moment of first_day, and the first moment after last_day
    latest: datetime

    @classmethod
    def at(cls, now: datetime) -> "Window":
        first, last = day_range(now)
        return cls(first, last, day_range(now, YEAR_AHEAD)[1], day_start(first), day_end(last))


def _check_rules(
    visit: VisitPayload, errors: dict[str, str], window: Window, *, location_sent: bool, visit_time: datetime | None
) -> None:
    """The rules between fields, in order, each told on the field to fix. A field that does not fit
    its declaration is at its default here, and a field already in error keeps its first message.
    ``visit_time``: the time of the visit a correction corrects (it keeps that time)."""

    def refuse(name: str, message: str) -> None:
        errors.setdefault(name, message)

    for name in _FREE_TEXT:
        text = getattr(visit, name)
        if text and looks_secret(text):
            refuse(name, _("looks like an ID card number, a password or an OTP code: never write those down"))
    # Compared without converting the moment, which could overflow at the ends of the calendar.
    if visit.device_time and not window.earliest <= visit.device_time < window.latest:
        days = _days(window.first_day, window.last_day)
        refuse("device_time", _("a date from %(first)s to %(last)s: check the phone's clock", **days))
    visit_day = visit.device_time.date() if "device_time" not in errors else None
    if visit_time is not None:
        visit_day = local_today(visit_time)
    if visit.outcome == Outcome.FOLLOW_UP and visit.follow_up_on is None:
        refuse("follow_up_on", _("a follow-up needs a date"))
    if visit.follow_up_on and not window.first_day <= visit.follow_up_on <= window.last_follow_up:
        refuse("follow_up_on", _("a date from %(first)s to %(last)s", **_days(window.first_day, window.last_follow_up)))
    if visit.follow_up_on and visit_day and visit.follow_up_on < visit_day:
        refuse("follow_up_on", _("the follow-up date is before the visit"))
    bands = [getattr(visit, band) for band in _BANDS]
    if any(bands) and sum(bands) != visit.people_helped:  # said even over a bad number, as it always was
        errors["people_helped"] = _("the age bands must add up to the number of people helped")
    # Nobody helped at a closed door: facts that would inflate the progress figures are refused.
    if visit.outcome in _NOBODY_HELPED and (visit.people_helped or any(getattr(visit, f) for f in HELP_FACTS)):
        refuse("outcome", _("nobody was helped with this outcome: clear the people helped and what was done"))
    if visit.outcome == Outcome.HELPED and not visit.people_helped:
        refuse("people_helped", _("how many people were helped (at least 1)"))
    if visit.procedure_submitted and not visit.procedure:
        refuse("procedure", _("which procedure was submitted (its name or code)"))
    if Obstacle.OTHER in visit.obstacles and not visit.obstacle_other:
        refuse("obstacle_other", _("say what the other obstacle was"))
    if location_sent and not visit.location_consent:  # told instead of anything else wrong with it
        errors["location"] = _("a location is kept only with the resident's consent")


def _values_to_store(visit: VisitPayload) -> dict:
    """The visit_record columns of a visit, and its obstacles as a sorted list (visit_obstacle rows)."""
    values = dict(visit.__dict__)  # the fields, as pydantic keeps them
    location = values.pop("location")
    values["obstacles"] = sorted(visit.obstacles)
    values["lat"], values["lon"], values["accuracy_m"] = (
        (location.lat, location.lon, location.accuracy) if location else (None, None, None)
    )
    return values


def check_visit(
    payload: dict, now: datetime, *, visit_time: datetime | None = None, window: Window | None = None
) -> tuple[dict, dict[str, str]]:
    """Validate one record from a phone: the values to store, and errors by field (a field in error
    is left out of the values). Types and limits are those of VisitPayload; then the rules. For a
    correction, ``visit_time`` is the time of the visit it corrects. ``window``: the batch's, if
    known (``Window.at(now)``)."""
    if not isinstance(payload, dict):
        return {}, {"": _("a visit must be a JSON object")}
    visit, problems = read_visit(payload)
    errors = {name: _field_error(name, kinds) for name, kinds in problems.items()}
    location_sent = payload.get("location") is not None
    _check_rules(visit, errors, window or Window.at(now), location_sent=location_sent, visit_time=visit_time)
    values = _values_to_store(visit)
    return ({name: value for name, value in values.items() if name not in errors} if errors else values), errors


def uuid_or_none(value) -> str | None:
    """A client_id as stored, or None for anything else (text a database could not even compare: NUL)."""
    try:
        return str(uuid.UUID(value)) if isinstance(value, str) else None
    except ValueError:
        return None


