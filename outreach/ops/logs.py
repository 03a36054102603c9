"""Logs as JSON lines (``LOG_JSON``, on in production), one per request: its id, the user's id, the
route (the URL rule, never the query string), method, status and duration. The request id also goes
back in the ``X-Request-Id`` header and on error pages, so a member can read it out on the phone.

No phone numbers, names or message bodies: a request line holds none by construction, statements'
values are hidden (``hide_parameters`` in production), any number long enough to be a phone number
is masked in messages and tracebacks, and the twilio client's request logging is silenced."""

import json
import logging
import re
import secrets
import sys
from datetime import UTC, datetime

from flask import g, has_request_context

# Short enough to read out over the phone, unambiguous (no 0/O, 1/I/L): 8 characters, 40 bits.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
# A phone number as people write it: +84…, 84… or 0…, then 8 or more digits, spaces, dots or dashes between.
_PHONE_LIKE = re.compile(r"(?<![\w.+])(?:\+\d|84|0)(?:[\s.\-]?\d){7,}(?!\w)")
FIELDS = ("request_id", "user_id", "method", "route", "status", "duration_ms", "job", "holder")
QUIET = {"twilio": logging.WARNING, "urllib3": logging.WARNING}


def new_request_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(8))


def scrub(text: str) -> str:
    """Mask what could be a phone number (dates, times and ids stay readable)."""
    return _PHONE_LIKE.sub("[number]", text)


class RequestContext(logging.Filter):
    """Puts the current request's id on every record logged while it is answered."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id") and has_request_context():
            request_id = g.get("request_id")
            if request_id:
                record.request_id = request_id
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure(level: int = logging.INFO) -> None:
    """Every logger of the process writes JSON lines to standard error (journald keeps them)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContext())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(quiet)
