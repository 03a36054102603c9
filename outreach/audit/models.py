from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.extensions import Model
from outreach.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from outreach.auth.models import User


class AuditEvent(Model):
    """One thing somebody did that must be answerable later: logins, exports, erasures, roles."""

    __tablename__ = "audit_event"
    # Who read a household (outreach/privacy): the events about one record, newest first.
    __table_args__ = (sa.Index("ix_audit_event_target", "target_type", "target_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    # Kept apart from actor_id so a failed login under an unknown name is still recorded.
    actor_name: Mapped[str] = mapped_column(sa.String(80), default="")
    action: Mapped[str] = mapped_column(sa.String(40), index=True)
    target_type: Mapped[str] = mapped_column(sa.String(40), default="")
    target_id: Mapped[str] = mapped_column(sa.String(40), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    ip: Mapped[str] = mapped_column(sa.String(45), default="")


class ImportBatch(Model):
    """A file that was imported whole; the same file (by hash) is not imported twice while its import stands.

    An undone import keeps its row (the history says who undid it and when), so the same file may
    be imported again afterwards.
    """

    __tablename__ = "import_batch"
    __table_args__ = (
        sa.Index(
            "uq_import_batch_live_file",
            "kind",
            "sha256",
            unique=True,
            sqlite_where=sa.text("undone_at IS NULL"),
            postgresql_where=sa.text("undone_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    filename: Mapped[str] = mapped_column(sa.String(255))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    rows: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    # The unit the file speaks for (a province's statistics), for who may see and undo it.
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("admin_unit.id"), index=True)
    # What the import found: columns used, warnings, agencies to resolve, rows created and replaced.
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    created_by: Mapped["User | None"] = relationship(foreign_keys=[created_by_id])
