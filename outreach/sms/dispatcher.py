"""One dispatcher pass, run by the scheduler every few seconds and by ``flask sms dispatch``.

It is a boundary like a request: it commits. Each message is claimed ("sending") and committed just
before its own request, and its result committed right after, so a crash leaves only the one message
that was in flight in "sending" (the others are still "queued"); the next pass hands that one to a
person instead of sending it again."""

from collections import Counter
from collections.abc import Callable
from datetime import datetime

from flask import current_app

from outreach.clock import utcnow
from outreach.extensions import db
from outreach.sms import services
from outreach.sms.gateway import Gateway
from outreach.sms.models import SmsMessage


def dispatch_once(
    gateway: Gateway, *, clock: Callable[[], datetime] = utcnow, limit: int | None = None
) -> Counter[str]:
    """Send the messages that are due now (at most ``limit``); returns how many ended in each status."""
    limit = limit or current_app.config["SMS_DISPATCH_BATCH"]
    outcome: Counter[str] = Counter()
    interrupted = services.mark_interrupted(now=clock())
    if interrupted:
        outcome["needs_check"] += interrupted
    db.session.commit()
    for _ in range(limit):
        message_id = services.claim_next(now=clock())
        db.session.commit()  # a crash from here until its result is committed: this message needs checking
        if message_id is None:
            break
        message = db.session.get(SmsMessage, message_id)
        assert message is not None  # claimed and committed above, and outbox rows are never deleted
        try:
            outcome[services.send_claimed(message, gateway, now=clock())] += 1
        finally:
            db.session.commit()
    return outcome


def dispatch_all(gateway: Gateway, *, clock: Callable[[], datetime] = utcnow) -> Counter[str]:
    """Passes until nothing due is left (for cron and the command line)."""
    total: Counter[str] = Counter()
    while True:
        outcome = dispatch_once(gateway, clock=clock)
        total.update(outcome)
        if sum(outcome.values()) == 0:
            return total
        if set(outcome) <= {"queued"} and outcome["queued"]:
            return total  # only retries waiting for their backoff
