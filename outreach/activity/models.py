"""Activity reports: written from the app's figures, submitted (the figures frozen), returned or approved;
reminders to those who have not submitted, and the phone a person agreed to be reminded on."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.auth.models import User
from outreach.extensions import Model
from outreach.geo.models import AdminUnit
from outreach.sms.models import SmsMessage
from outreach.types import UTCDateTime, utcnow


class ReportStatus(StrEnum):
    DRAFT = "draft"  # a note saved, not submitted
    SUBMITTED = "submitted"  # waiting for the level above
    RETURNED = "returned"  # sent back with a comment: to correct and submit again
    APPROVED = "approved"


STATUSES = tuple(s.value for s in ReportStatus)
PERIOD_KINDS = ("month", "quarter")


class ActivityReport(Model):
    """A unit's report for one month or quarter: a commune's team (its leader writes it) or a district
    (its staff add up the approved communes). ``snapshot`` holds the figures as they were submitted."""

    __tablename__ = "activity_report"
    __table_args__ = (
        sa.UniqueConstraint("unit_id", "period_kind", "period_start"),
        sa.UniqueConstraint("unit_id", "number_year", "number"),
        sa.CheckConstraint("status in (" + ", ".join(f"'{s}'" for s in STATUSES) + ")", name="status"),
        sa.CheckConstraint("period_kind in ('month', 'quarter')", name="period_kind"),
        sa.CheckConstraint("period_start <= period_end", name="period"),
        sa.CheckConstraint("status = 'draft' or submitted_at is not null", name="submitted"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id", ondelete="CASCADE"), index=True)
    period_kind: Mapped[str] = mapped_column(sa.String(8))
    period_start: Mapped[date]
    period_end: Mapped[date]  # inclusive
    status: Mapped[str] = mapped_column(sa.String(10), default=ReportStatus.DRAFT)
    went_well: Mapped[str] = mapped_column(sa.Text, default="")
    blocked: Mapped[str] = mapped_column(sa.Text, default="")
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    # The document's number ("Số: 12/BC-TCNSCĐ"), given at the first submission, counted per unit and year.
    number: Mapped[int | None]
    number_year: Mapped[int | None]
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    review_comment: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[AdminUnit] = relationship()
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    events: Mapped[list["ActivityReportEvent"]] = relationship(
        back_populates="report", order_by="ActivityReportEvent.id", cascade="all, delete-orphan"
    )

    @property
    def is_submitted(self) -> bool:
        """Submitted or approved: with the level above."""
        return self.status in (ReportStatus.SUBMITTED, ReportStatus.APPROVED)


class ActivityReportEvent(Model):
    """What happened to a report, in order: submitted (with the figures then), returned (why), approved."""

    __tablename__ = "activity_report_event"
    __table_args__ = (sa.CheckConstraint("action in ('submitted', 'returned', 'approved')", name="action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("activity_report.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(sa.String(10))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    report: Mapped[ActivityReport] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class ReminderPhone(Model):
    """The number a leader (or district staff) agreed to receive report reminders on, with the exact
    text they agreed to and when; withdrawing keeps the row without the number."""

    __tablename__ = "activity_reminder_phone"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    phone: Mapped[str | None] = mapped_column(sa.String(16))
    consent_text: Mapped[str] = mapped_column(sa.Text, default="")
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def active(self) -> bool:
        return self.phone is not None and self.withdrawn_at is None


class ActivityReminder(Model):
    """One reminder of a period's report to one person: the in-app notice (shown until the report is
    submitted) and the SMS it queued, if any. Unique, so the daily job can run any number of times."""

    __tablename__ = "activity_reminder"
    __table_args__ = (sa.UniqueConstraint("user_id", "unit_id", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id", ondelete="CASCADE"))
    period_start: Mapped[date]
    message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sms_message.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[AdminUnit] = relationship()
    message: Mapped[SmsMessage | None] = relationship()
