"""Writing the audit log. Callers commit with the action they record."""

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from outreach.audit.models import AuditEvent
from outreach.extensions import db
from outreach.types import utcnow

if TYPE_CHECKING:
    from outreach.auth.models import User


def record_event(
    actor: "User | None",
    action: str,
    *,
    target: object | None = None,
    detail: dict | None = None,
    actor_name: str | None = None,
    ip: str = "",
    now: datetime | None = None,
) -> AuditEvent:
    """Add one audit event to the session (flushed with the rest of the unit of work)."""
    event = AuditEvent(
        at=now or utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_name=actor_name if actor_name is not None else (actor.username if actor else "system"),
        action=action,
        target_type=type(target).__name__ if target is not None else "",
        target_id=str(getattr(target, "id", "") or "") if target is not None else "",
        detail=detail or {},
        ip=ip or "",
    )
    db.session.add(event)
    return event


def recent_events(*, action: str = "", limit: int = 300) -> list[AuditEvent]:
    """The newest audit events, optionally of one kind ("login.failed", "household.erase"...)."""
    stmt = sa.select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    if action:
        stmt = stmt.where(AuditEvent.action.startswith(action, autoescape=True))
    return list(db.session.scalars(stmt))
