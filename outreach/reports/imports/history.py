"""The list of statistics imports and undoing one."""

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from outreach.audit.models import ImportBatch
from outreach.audit.services import record_event
from outreach.auth.models import Role, User
from outreach.auth.scope import require_role, unit_in_scope
from outreach.errors import NotFound, ValidationError
from outreach.extensions import db, rowcount
from outreach.geo.models import AdminUnit
from outreach.reports.imports.columns import IMPORT_KINDS
from outreach.reports.models import SubmissionStat


def import_history(actor: User, *, limit: int = 100) -> list[ImportBatch]:
    """Statistics imports the actor may see, newest first (undone ones included, marked)."""
    require_role(actor, Role.STAFF, Role.LEADER)
    stmt = (
        sa.select(ImportBatch)
        .join(AdminUnit, AdminUnit.id == ImportBatch.unit_id)
        .where(ImportBatch.kind.in_(IMPORT_KINDS), unit_in_scope(actor))
        .order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc())
        .limit(limit)
    )
    if actor.role != Role.ADMIN:
        # Only province-wide users see a province's imports (its files name every agency).
        stmt = stmt.where(AdminUnit.id == actor.scope_unit_id)
    return list(db.session.scalars(stmt))


IMPORTS_PER_PAGE = 50


def import_history_page(actor: User, *, page: int = 1, per_page: int = IMPORTS_PER_PAGE):
    """One page of ``import_history``, newest first, with the total."""
    require_role(actor, Role.STAFF, Role.LEADER)
    stmt = (
        sa.select(ImportBatch)
        .join(AdminUnit, AdminUnit.id == ImportBatch.unit_id)
        .where(ImportBatch.kind.in_(IMPORT_KINDS), unit_in_scope(actor))
        .order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc())
    )
    if actor.role != Role.ADMIN:
        stmt = stmt.where(AdminUnit.id == actor.scope_unit_id)
    return db.paginate(stmt, page=page, per_page=per_page, max_per_page=per_page, error_out=False, count=True)


def get_import(actor: User, batch_id: int) -> ImportBatch:
    """One import of the history, if the actor may see it."""
    require_role(actor, Role.STAFF, Role.LEADER)
    stmt = (
        sa.select(ImportBatch)
        .join(AdminUnit, AdminUnit.id == ImportBatch.unit_id)
        .where(ImportBatch.id == batch_id, ImportBatch.kind.in_(IMPORT_KINDS), unit_in_scope(actor))
    )
    if actor.role != Role.ADMIN:
        stmt = stmt.where(AdminUnit.id == actor.scope_unit_id)
    batch = db.session.scalar(stmt)
    if batch is None:
        raise NotFound(batch_id)
    return batch


def undo_import(actor: User, batch: ImportBatch, *, now: datetime) -> int:
    """Remove an import's figures and bring back those it replaced. Refused while a later import
    replaced some of its figures (undo that one first), so history never tangles."""
    require_role(actor, Role.STAFF)
    if batch.undone_at is not None:
        raise ValidationError({"": [_("This import was already undone.")]})
    later = db.session.scalar(
        sa.select(ImportBatch)
        .join(SubmissionStat, SubmissionStat.replaced_by_batch_id == ImportBatch.id)
        .where(SubmissionStat.batch_id == batch.id)
        .limit(1)
    )
    if later is not None:
        raise ValidationError(
            {
                "": [
                    _(
                        "Some of these figures were replaced by a later import (%(name)s); undo that one first.",
                        name=later.filename,
                    )
                ]
            }
        )
    removed = rowcount(db.session.execute(sa.delete(SubmissionStat).where(SubmissionStat.batch_id == batch.id)))
    restored = rowcount(
        db.session.execute(
            sa.update(SubmissionStat)
            .where(SubmissionStat.replaced_by_batch_id == batch.id)
            .values(replaced_by_batch_id=None)
        )
    )
    batch.undone_at, batch.undone_by_id = now, actor.id
    record_event(
        actor,
        "stats_undone",
        target=batch,
        detail={"file": batch.filename, "rows": removed, "restored": restored},
        now=now,
    )
    db.session.flush()
    return removed
