"""Reading households (paged lists), a resident's export, who read their data, and erasure."""

from datetime import datetime

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from outreach.audit.models import AuditEvent
from outreach.audit.services import record_event
from outreach.auth.models import Role, User
from outreach.auth.scope import (
    get_household,
    households_in_scope,
    require_role,
)
from outreach.extensions import db
from outreach.geo.models import (
    AdminUnit,
    Household,
)
from outreach.geo.services.units import word_starts
from outreach.geo.signals import household_erased, household_exported
from outreach.text import fold

MAX_HOUSEHOLDS_PER_PAGE = 100  # whatever a caller asks


def list_households(
    actor: User,
    *,
    query: str = "",
    village_id: int | None = None,
    unit: AdminUnit | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Pagination:
    """One page of the households in scope matching a search (name, address or phone, without
    diacritics), with their total. A page below 1 is the first; one past the last is empty."""
    stmt = households_in_scope(actor)
    if unit is not None:
        stmt = stmt.where(AdminUnit.path.startswith(unit.path, autoescape=True))
    if village_id is not None:
        stmt = stmt.where(Household.village_id == village_id)
    for word in fold(query).split():
        digits = "".join(ch for ch in word if ch.isdigit())
        conditions = [word_starts(Household.head_name_folded, word), word_starts(Household.address_folded, word)]
        if len(digits) >= 3 and digits == word:
            conditions.append(Household.phone.contains(digits.lstrip("0"), autoescape=True))
        stmt = stmt.where(sa.or_(*conditions))
    return db.paginate(
        stmt.order_by(AdminUnit.sort_key, Household.head_name_folded, Household.id),
        page=page,
        per_page=per_page,
        max_per_page=MAX_HOUSEHOLDS_PER_PAGE,
        error_out=False,
        count=True,
    )


def export_household(actor: User, household_id: int, *, now: datetime) -> dict:
    """Everything held about one household, for the resident who asks (and an audit entry)."""
    require_role(actor, Role.LEADER)
    household = get_household(actor, household_id, include_restricted=True)
    record_event(actor, "household.export", target=household, now=now)
    village = household.village
    export = {
        "exported_at": now.isoformat(),
        "household": {
            "id": household.id,
            "head_name": household.head_name,
            "address": household.address,
            "phone": household.phone,
            "members": household.members,
            "location": {"lat": household.lat, "lon": household.lon} if household.lat is not None else None,
            "notes": household.notes,
            "village": village.name,
            "commune": " / ".join(u.name for u in village.ancestors()),
            "created_at": household.created_at.isoformat(),
            "updated_at": household.updated_at.isoformat(),
        },
        "consents": [
            {
                "purpose": c.purpose,
                "text_version": c.text_version,
                "text": c.text,
                "method": c.method,
                "collected_at": c.collected_at.isoformat(),
                "collected_by": c.collected_by.full_name or c.collected_by.username if c.collected_by else None,
                "withdrawn_at": c.withdrawn_at.isoformat() if c.withdrawn_at else None,
            }
            for c in household.consents
        ],
        "restricted_since": household.restricted_at.isoformat() if household.restricted_at else None,
        "accessed_by": [
            {"at": e.at.isoformat(), "who": e.actor_name, "what": e.action} for e in household_reads(household.id)
        ],
    }
    # The areas above add what they hold about the household (its sensitive facts, its requests for help).
    sections: dict = {}
    for _receiver, section in household_exported.send(household, now=now):
        sections.update(section or {})
    export.update(sorted(sections.items()))
    return export


READ_ACTIONS = ("read.household", "read.api", "household.export")


def household_reads(household_id: int, *, limit: int = 500) -> list[AuditEvent]:
    """Who opened, fetched or exported this household's data, newest first (kept ``RETENTION_DAYS["reads"]``)."""
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(
                AuditEvent.target_type == "Household",
                AuditEvent.target_id == str(household_id),
                AuditEvent.action.in_(READ_ACTIONS),
            )
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


def erase_household(actor: User, household_id: int, *, now: datetime) -> None:
    """Erase a resident's data on request: the row stays only as an anonymous count in its village."""
    require_role(actor, Role.LEADER)
    household = get_household(actor, household_id, include_restricted=True)
    # The areas above first erase or anonymise what they hold about the household (its visits' notes
    # and sensitive facts, its requests for help, its SMS): some find it by its phone, emptied below.
    household_erased.send(household, actor=actor, now=now)
    household.head_name = ""
    household.head_name_folded = ""
    household.address = ""
    household.address_folded = ""
    household.phone = None
    household.lat = household.lon = None
    household.notes = ""
    household.erased_at = now
    household.updated_at = now
    household.consents.clear()  # the consent texts name nobody, but the link to the household goes
    record_event(actor, "household.erase", target=household, detail={"village_id": household.village_id}, now=now)
    db.session.flush()
