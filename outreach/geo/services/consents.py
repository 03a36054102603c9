"""Sensitive facts (a disability: health information) and the consent for each purpose."""

import collections
from collections.abc import Mapping
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from outreach.audit.services import record_event
from outreach.auth.models import Role, User
from outreach.auth.scope import (
    get_household,
    require_role,
)
from outreach.bulk import any_of
from outreach.clock import local_today
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.consent import CONSENT_TEXTS, CONSENT_VERSION
from outreach.geo.models import (
    Consent,
    Household,
    Purpose,
)
from outreach.visits.models import SENSITIVE_OBSTACLES, AnonymousFact, VisitObstacle, VisitRecord

# --- sensitive facts -------------------------------------------------------------------------


def count_anonymously(village_id: int, day, code: str, n: int = 1) -> None:
    """Add ``n`` to a village's anonymous count of a sensitive fact on a day (linked to nobody)."""
    add_anonymous_counts({(village_id, day, code): n})


def add_anonymous_counts(counts: Mapping[tuple[int, date, str], int]) -> None:
    """Add to villages' anonymous counts of sensitive facts, ``{(village_id, day, code): n}``: one query
    for the counts already there, whatever the number of facts (a synced batch holds hundreds)."""
    if not counts:
        return
    existing = {
        (row.village_id, row.day, row.code): row
        for row in db.session.scalars(
            sa.select(AnonymousFact).where(
                any_of(AnonymousFact.village_id, {village for village, _day, _code in counts}),
                any_of(AnonymousFact.day, {day for _village, day, _code in counts}),
                any_of(AnonymousFact.code, {code for _village, _day, code in counts}),
            )
        )
    }
    for (village_id, day, code), n in counts.items():
        row = existing.get((village_id, day, code))
        if row is None:
            db.session.add(AnonymousFact(village_id=village_id, day=day, code=code, count=n))
        else:
            row.count += n
    db.session.flush()


def unlink_sensitive_facts(condition, *, dry_run: bool = False) -> int:
    """Move the sensitive obstacles of the visits matching ``condition`` (on ``VisitRecord``) to their
    village's anonymous counts, and delete the links to the household. Returns how many facts."""
    rows = db.session.execute(
        sa.select(VisitObstacle.visit_id, VisitObstacle.code, VisitRecord.device_time, Household.village_id)
        .join(VisitRecord, VisitRecord.id == VisitObstacle.visit_id)
        .join(Household, Household.id == VisitRecord.household_id)
        .where(VisitObstacle.code.in_(sorted(SENSITIVE_OBSTACLES)), condition)
    ).all()
    if dry_run or not rows:
        return len(rows)
    counts: collections.Counter[tuple[int, date, str]] = collections.Counter(
        (village_id, local_today(device_time), code) for _visit_id, code, device_time, village_id in rows
    )
    add_anonymous_counts(counts)
    for visit_id, code, _time, _village in rows:
        db.session.execute(
            sa.delete(VisitObstacle)
            .where(VisitObstacle.visit_id == visit_id, VisitObstacle.code == code)
            .execution_options(synchronize_session=False)
        )
    db.session.expire_all()
    return len(rows)


def withdraw_consent(actor: User, household_id: int, purpose: str, *, now: datetime) -> Household:
    """One click: the resident no longer agrees. Withdrawing the phone consent also deletes the number."""
    require_role(actor, Role.LEADER, Role.MEMBER)
    if purpose not in set(Purpose):
        raise ValidationError({"purpose": [_("Unknown consent purpose.")]})
    household = get_household(actor, household_id)
    if withdraw_purpose(household, Purpose(purpose), actor, now):
        household.updated_at = now
        record_event(actor, "consent.withdraw", target=household, detail={"purpose": purpose}, now=now)
    db.session.flush()
    return household


def grant_consent(actor: User, household_id: int, purpose: str, *, now: datetime) -> Household:
    """Record consent the resident has just given (read to them from the current text)."""
    require_role(actor, Role.LEADER, Role.MEMBER)
    household = get_household(actor, household_id)
    if purpose == Purpose.RECEIVE_SMS and not (household.phone and household.active_consent(Purpose.STORE_PHONE)):
        raise ValidationError({"purpose": [_("SMS consent needs a phone number kept with consent.")]})
    if purpose not in set(Purpose):
        raise ValidationError({"purpose": [_("Unknown consent purpose.")]})
    if household.active_consent(purpose) is None:
        grant_purpose(household, Purpose(purpose), actor, now, "in_person")
        household.updated_at = now
        record_event(actor, "consent.grant", target=household, detail={"purpose": purpose}, now=now)
    db.session.flush()
    return household


def grant_purpose(household: Household, purpose: Purpose, actor: User | None, now: datetime, method: str) -> None:
    if household.active_consent(purpose) is None:
        household.consents.append(
            Consent(
                purpose=purpose,
                text_version=CONSENT_VERSION,
                text=CONSENT_TEXTS[purpose],
                method=method,
                collected_by_id=actor.id if actor else None,
                collected_at=now,
            )
        )


def withdraw_purpose(household: Household, purpose: Purpose, actor: User | None, now: datetime) -> bool:
    changed = False
    # No phone means no SMS: withdrawing the phone withdraws SMS too, and forgets the number.
    purposes = (Purpose.STORE_PHONE, Purpose.RECEIVE_SMS) if purpose == Purpose.STORE_PHONE else (purpose,)
    for consent in household.consents:
        if consent.purpose in purposes and consent.withdrawn_at is None:
            consent.withdrawn_at = now
            consent.withdrawn_by_id = actor.id if actor else None
            changed = True
    if purpose == Purpose.STORE_PHONE and household.phone:
        household.phone = None
        changed = True
    if purpose == Purpose.SENSITIVE:
        # Without the consent the household's sensitive facts are no longer linked to it: counted only.
        unlink_sensitive_facts(VisitRecord.household_id == household.id)
    return changed
