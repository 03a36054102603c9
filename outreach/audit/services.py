"""Writing the audit log. Callers commit with the action they record."""

from datetime import datetime
from typing import TYPE_CHECKING, BinaryIO

import sqlalchemy as sa
from flask_babel import format_datetime
from flask_babel import gettext as _

from outreach.audit.models import AuditEvent, ImportBatch
from outreach.audit.signals import naming_targets
from outreach.csvio import file_sha256
from outreach.errors import ValidationError
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
    if hasattr(target, "_get_current_object"):  # current_user is a proxy; record the user itself
        target = target._get_current_object()
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


def target_names(events: list[AuditEvent]) -> dict[tuple[str, str], str]:
    """Readable names for the records events point at, given by the areas that own them
    (``naming_targets``: users by name; households by number only)."""
    names: dict[tuple[str, str], str] = {}
    for _receiver, found in naming_targets.send(events):
        names.update(found or {})
    return names


EVENTS_PER_PAGE = 100


def events_page(*, action: str = "", page: int = 1, per_page: int = EVENTS_PER_PAGE):
    """One page of the audit events, newest first, optionally of one kind, with their total."""
    stmt = sa.select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if action:
        stmt = stmt.where(AuditEvent.action.startswith(action, autoescape=True))
    return db.paginate(stmt, page=page, per_page=per_page, max_per_page=per_page, error_out=False, count=True)


def recent_events(*, action: str = "", limit: int = 300) -> list[AuditEvent]:
    """The newest audit events, optionally of one kind ("login.failed", "household.erase"...)."""
    stmt = sa.select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    if action:
        stmt = stmt.where(AuditEvent.action.startswith(action, autoescape=True))
    return list(db.session.scalars(stmt))


def start_import(
    actor: "User | None", kind: str, stream: BinaryIO, filename: str, *, now: datetime, unit_id: int | None = None
) -> ImportBatch:
    """The history row of a file being imported; refused if the same file's import stands."""
    sha = file_sha256(stream)
    previous = db.session.scalar(
        sa.select(ImportBatch).where(
            ImportBatch.kind == kind, ImportBatch.sha256 == sha, ImportBatch.undone_at.is_(None)
        )
    )
    if previous is not None:
        when = format_datetime(previous.created_at, "dd/MM/yyyy HH:mm")
        raise ValidationError(
            {
                "": [
                    _(
                        "This file was already imported (%(name)s, %(when)s); nothing was changed.",
                        name=previous.filename,
                        when=when,
                    )
                ]
            }
        )
    batch = ImportBatch(
        kind=kind,
        filename=filename[:255],
        sha256=sha,
        created_at=now,
        created_by_id=actor.id if actor else None,
        unit_id=unit_id,
    )
    db.session.add(batch)
    db.session.flush()
    return batch
