from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.extensions import Model
from outreach.geo.models import AdminUnit, Household
from outreach.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from outreach.auth.models import User


class Right(StrEnum):
    KNOW = "know"  # to be told what is processed and why
    ACCESS = "access"  # to get a copy
    CORRECT = "correct"
    DELETE = "delete"
    RESTRICT = "restrict"
    OBJECT = "object"


class CaseStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    REFUSED = "refused"


CHANNELS = ("in_person", "phone", "sms", "letter", "guide_page")


class RightsCase(Model):
    """A person's request about their data, from receipt to the answer sent, with its legal deadline."""

    __tablename__ = "rights_case"
    __table_args__ = (
        sa.CheckConstraint("kind in ('know', 'access', 'correct', 'delete', 'restrict', 'object')", name="kind"),
        sa.CheckConstraint("status in ('open', 'done', 'refused')", name="status"),
        sa.Index("ix_rights_case_open_due", "status", "due_at"),
        # A resident's form sent twice at once is stored once.
        sa.Index(
            "uq_rights_case_form_token",
            "form_token",
            unique=True,
            sqlite_where=sa.text("form_token <> ''"),
            postgresql_where=sa.text("form_token <> ''"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The commune that answers (scope: outreach.auth.scope.unit_in_scope on it).
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(sa.ForeignKey("household.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    requester: Mapped[str] = mapped_column(sa.String(120))  # who asked (the resident, a relative...)
    channel: Mapped[str] = mapped_column(sa.String(12), default="in_person")
    # From the public form (a guide page or a leaflet): the number the resident gave (E.164, to call back
    # and confirm it is them), the words they agreed to, and the form's token (sent twice: stored once).
    phone: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    consent_text: Mapped[str] = mapped_column(sa.Text, default="")
    form_token: Mapped[str] = mapped_column(sa.String(40), default="")
    details: Mapped[str] = mapped_column(sa.Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(8), default=CaseStatus.OPEN)
    action_taken: Mapped[str] = mapped_column(sa.Text, default="")
    answer: Mapped[str] = mapped_column(sa.Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[AdminUnit] = relationship(lazy="joined")
    household: Mapped[Household | None] = relationship()
    created_by: Mapped["User | None"] = relationship(foreign_keys=[created_by_id])
    closed_by: Mapped["User | None"] = relationship(foreign_keys=[closed_by_id])

    def overdue(self, now: datetime) -> bool:
        return self.status == CaseStatus.OPEN and self.due_at < now


class Breach(Model):
    """A personal data breach: what happened, when it was found, how many people, what was done, and
    the deadline to notify the authority (``BREACH_NOTIFY_HOURS`` from when it was found)."""

    __tablename__ = "privacy_breach"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id"), index=True)
    what: Mapped[str] = mapped_column(sa.Text)
    data_kinds: Mapped[str] = mapped_column(sa.Text, default="")
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)
    people: Mapped[int] = mapped_column(default=0)
    actions: Mapped[str] = mapped_column(sa.Text, default="")
    notify_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[AdminUnit] = relationship(lazy="joined")
    created_by: Mapped["User | None"] = relationship(foreign_keys=[created_by_id])
