"""The consent for each purpose. Withdrawing one tells the areas above (``consent_withdrawn``): the
sensitive facts themselves (a disability: health information) sit with the visits, ``outreach.visits.sensitive``."""

from datetime import datetime

from flask_babel import gettext as _

from outreach.audit.services import record_event
from outreach.auth.models import Role, User
from outreach.auth.scope import (
    get_household,
    require_role,
)
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.consent import CONSENT_TEXTS, CONSENT_VERSION
from outreach.geo.models import (
    Consent,
    Household,
    Purpose,
)
from outreach.geo.signals import consent_withdrawn


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
    # The areas above act on it (without the sensitive consent, the visits area unlinks the
    # household's sensitive facts: counted only).
    consent_withdrawn.send(household, purpose=purpose, actor=actor, now=now)
    return changed
