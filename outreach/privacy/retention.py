"""Keeping nothing longer than needed: each kind of personal data has a retention period in days
(``RETENTION_DAYS``); past it, the job anonymises it (counts stay, people go). A dry run says what it would
remove. Every run, dry or real, is recorded in the audit log.

A kind is a small function pair in ``KINDS``; another kind of data is added by appending a ``Kind``
(README "Personal data")."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from outreach.audit.models import AuditEvent
from outreach.audit.services import record_event
from outreach.auth.models import User
from outreach.extensions import db
from outreach.geo.models import Consent, Household, Purpose
from outreach.requests.models import OPEN_STATUSES, HelpRequest
from outreach.sms.models import FINAL, InboundSms, SmsMessage
from outreach.visits.models import VisitRecord
from outreach.visits.sensitive import unlink_sensitive_facts


@dataclass(frozen=True)
class Kind:
    """One kind of personal data kept for ``RETENTION_DAYS[name]`` days.

    ``count(cutoff)``: how many records hold it from before ``cutoff``; ``anonymise(cutoff, now)`` removes
    the people from them (the rows stay for the counts) and returns how many it changed."""

    name: str
    label: object  # a lazy string
    kept: object  # what stays, in words (the register says so)
    count: Callable[[datetime], int]
    anonymise: Callable[[datetime, datetime], int]


def _n(stmt: sa.Select) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0)


def _rows(result) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


# --- visit notes: the free text of a visit and where the house is ------------------------------


def _old_notes(cutoff: datetime):
    return sa.and_(
        VisitRecord.device_time < cutoff,
        sa.or_(VisitRecord.notes != "", VisitRecord.obstacle_other != "", VisitRecord.lat.is_not(None)),
    )


def _count_notes(cutoff: datetime) -> int:
    return _n(sa.select(VisitRecord.id).where(_old_notes(cutoff)))


def _clear_notes(cutoff: datetime, now: datetime) -> int:
    result = db.session.execute(
        sa.update(VisitRecord)
        .where(_old_notes(cutoff))
        .values(notes="", obstacle_other="", lat=None, lon=None, accuracy_m=None, notes_cleared_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rows(result)


# --- sensitive facts recorded with consent: back to anonymous village counts --------------------


def _count_sensitive(cutoff: datetime) -> int:
    return unlink_sensitive_facts(VisitRecord.device_time < cutoff, dry_run=True)


def _unlink_sensitive(cutoff: datetime, now: datetime) -> int:
    return unlink_sensitive_facts(VisitRecord.device_time < cutoff)


# --- phone numbers of households that withdrew: still in the SMS sent to them and their replies ---


def _withdrawn_before(cutoff: datetime):
    """Households whose phone consent was withdrawn before ``cutoff`` and not given again."""
    withdrawn = sa.select(Consent.household_id).where(
        Consent.purpose == Purpose.STORE_PHONE, Consent.withdrawn_at.is_not(None), Consent.withdrawn_at < cutoff
    )
    active = sa.select(Consent.household_id).where(
        Consent.purpose == Purpose.STORE_PHONE, Consent.withdrawn_at.is_(None)
    )
    return sa.and_(Household.id.in_(withdrawn), Household.id.not_in(active), Household.phone.is_(None))


def _phones_out(cutoff: datetime):
    households = sa.select(Household.id).where(_withdrawn_before(cutoff))
    return sa.and_(SmsMessage.household_id.in_(households), SmsMessage.to_phone != "", SmsMessage.status.in_(FINAL))


def _phones_in(cutoff: datetime):
    households = sa.select(Household.id).where(_withdrawn_before(cutoff))
    return sa.and_(InboundSms.household_id.in_(households), InboundSms.from_phone != "")


def _count_phones(cutoff: datetime) -> int:
    return _n(sa.select(SmsMessage.id).where(_phones_out(cutoff))) + _n(
        sa.select(InboundSms.id).where(_phones_in(cutoff))
    )


def _forget_phones(cutoff: datetime, now: datetime) -> int:
    out = db.session.execute(
        sa.update(SmsMessage)
        .where(_phones_out(cutoff))
        .values(to_phone="", body="", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    back = db.session.execute(
        sa.update(InboundSms)
        .where(_phones_in(cutoff))
        .values(from_phone="", body="")
        .execution_options(synchronize_session=False)
    )
    return _rows(out) + _rows(back)


# --- residents' replies by SMS: the text and the number go, the reply is still counted ------------


def _old_replies(cutoff: datetime):
    return sa.and_(InboundSms.received_at < cutoff, sa.or_(InboundSms.body != "", InboundSms.from_phone != ""))


def _count_replies(cutoff: datetime) -> int:
    return _n(sa.select(InboundSms.id).where(_old_replies(cutoff)))


def _clear_replies(cutoff: datetime, now: datetime) -> int:
    result = db.session.execute(
        sa.update(InboundSms)
        .where(_old_replies(cutoff))
        .values(body="", from_phone="", household_id=None)
        .execution_options(synchronize_session=False)
    )
    return _rows(result)


# --- residents' requests for help: who asked, their number, what they wrote ----------------------


def _old_requests(cutoff: datetime):
    """Requests closed (done, cannot help, spam) before ``cutoff`` that still name someone; open ones stay."""
    closed_at = sa.func.coalesce(HelpRequest.closed_at, HelpRequest.updated_at)
    return sa.and_(HelpRequest.status.not_in(OPEN_STATUSES), closed_at < cutoff, HelpRequest.erased_at.is_(None))


def _count_requests(cutoff: datetime) -> int:
    return _n(sa.select(HelpRequest.id).where(_old_requests(cutoff)))


def _clear_requests(cutoff: datetime, now: datetime) -> int:
    result = db.session.execute(
        sa.update(HelpRequest)
        .where(_old_requests(cutoff))
        .values(name="", phone=None, note="", form_token="", erased_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rows(result)


# --- reads on record: who opened whose data ------------------------------------------------------


def _old_reads(cutoff: datetime):
    return sa.and_(AuditEvent.action.startswith("read.", autoescape=True), AuditEvent.at < cutoff)


def _count_reads(cutoff: datetime) -> int:
    return _n(sa.select(AuditEvent.id).where(_old_reads(cutoff)))


def _delete_reads(cutoff: datetime, now: datetime) -> int:
    result = db.session.execute(
        sa.delete(AuditEvent).where(_old_reads(cutoff)).execution_options(synchronize_session=False)
    )
    return _rows(result)


KINDS: list[Kind] = [
    Kind(
        "visit_notes",
        _l("Visit notes, “other obstacle” and the house's position"),
        _l("the visit and what was done stay, for the counts"),
        _count_notes,
        _clear_notes,
    ),
    Kind(
        "sensitive_facts",
        _l("A disability recorded with consent"),
        _l("counted for the village and the day, linked to nobody"),
        _count_sensitive,
        _unlink_sensitive,
    ),
    Kind(
        "withdrawn_phones",
        _l("Phone numbers of households that withdrew consent (in SMS sent and received)"),
        _l("the messages stay as counts, without number or text"),
        _count_phones,
        _forget_phones,
    ),
    Kind(
        "resident_replies",
        _l("Residents' SMS replies"),
        _l("the reply is still counted, without number or text"),
        _count_replies,
        _clear_replies,
    ),
    Kind(
        "help_requests",
        _l("Residents' requests for help, once closed (name, phone, what they wrote)"),
        _l("the request is still counted: when, where, what was needed, how it ended"),
        _count_requests,
        _clear_requests,
    ),
    Kind(
        "reads",
        _l("Reads on record (who opened whose data)"),
        _l("nothing"),
        _count_reads,
        _delete_reads,
    ),
]


def retention_days() -> dict[str, int]:
    """Days kept per kind (0: kept until deleted by hand)."""
    configured = current_app.config.get("RETENTION_DAYS", {})
    return {kind.name: int(configured.get(kind.name, 0) or 0) for kind in KINDS}


def run_retention(*, now: datetime, dry_run: bool = False, actor: User | None = None) -> dict[str, int]:
    """Anonymise, per kind, what is past its time (or with ``dry_run`` only count it). Returns the
    number per kind; the run is recorded in the audit log. The caller commits."""
    days = retention_days()
    counts: dict[str, int] = {}
    for kind in KINDS:
        if days[kind.name] <= 0:
            continue
        cutoff = now - timedelta(days=days[kind.name])
        counts[kind.name] = kind.count(cutoff) if dry_run else kind.anonymise(cutoff, now)
    db.session.flush()
    record_event(
        actor,
        "privacy.retention_dry_run" if dry_run else "privacy.retention",
        detail={"counts": counts, "days": days},
        now=now,
    )
    db.session.flush()
    return counts


def last_runs(limit: int = 10) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action.in_(("privacy.retention", "privacy.retention_dry_run")))
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )
