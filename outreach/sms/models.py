"""Guides residents follow alone, the SMS outbox, opt-outs and replies."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.auth.models import User
from outreach.extensions import Model
from outreach.geo.models import AdminUnit, Household
from outreach.types import UTCDateTime, utcnow


class Guide(Model):
    """A step-by-step guide in Markdown, Vietnamese first, published at ``/g/<code>``."""

    __tablename__ = "guide"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    title_vi: Mapped[str] = mapped_column(sa.String(160))
    body_vi: Mapped[str] = mapped_column(sa.Text)
    title_en: Mapped[str] = mapped_column(sa.String(160), default="")
    body_en: Mapped[str] = mapped_column(sa.Text, default="")
    # Counted without cookies or personal data: one number per guide (and one per message).
    opens: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    # The unit that made it, whose leaders edit it; None: the country's (the shipped guides), for admins.
    owner_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("admin_unit.id"), index=True)
    # When its print page was first opened: a leaflet may carry the short link, which then never changes.
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A guide replaced by another: its short link leads there.
    replaced_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("guide.id", ondelete="SET NULL"))

    updated_by: Mapped[User | None] = relationship()
    owner_unit: Mapped[AdminUnit | None] = relationship()
    replaced_by: Mapped["Guide | None"] = relationship(remote_side=[id])


class Status(StrEnum):
    QUEUED = "queued"  # waiting for its time (quiet hours, daily cap, a retry's backoff)
    SENDING = "sending"  # claimed by a dispatcher; found like this after a crash: NEEDS_CHECK
    SENT = "sent"  # accepted by the gateway
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"  # final: a permanent error, or too many retries
    NEEDS_CHECK = "needs_check"  # may or may not have gone out: a person decides
    CANCELLED = "cancelled"  # consent withdrawn or number opted out before it went


STATUSES = tuple(s.value for s in Status)
FINAL = (Status.DELIVERED, Status.UNDELIVERED, Status.FAILED, Status.CANCELLED)


class SmsMessage(Model):
    """One row of the outbox, written in the same transaction as the action that asks for it."""

    __tablename__ = "sms_message"
    __table_args__ = (
        sa.CheckConstraint("status in (" + ", ".join(f"'{s}'" for s in STATUSES) + ")", name="status"),
        sa.CheckConstraint("kind in ('guide', 'reminder', 'request')", name="kind"),
        sa.CheckConstraint("segments >= 1", name="segments"),
        sa.Index("ix_sms_message_due", "status", "due_at"),
        sa.Index("ix_sms_message_commune_due", "commune_id", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(10), default="guide")
    commune_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id"))
    household_id: Mapped[int | None] = mapped_column(sa.ForeignKey("household.id", ondelete="SET NULL"), index=True)
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit_record.id", ondelete="SET NULL"), index=True)
    guide_id: Mapped[int | None] = mapped_column(sa.ForeignKey("guide.id", ondelete="SET NULL"), index=True)
    to_phone: Mapped[str] = mapped_column(sa.String(16))
    body: Mapped[str] = mapped_column(sa.Text)
    encoding: Mapped[str] = mapped_column(sa.String(5))  # GSM-7 or UCS-2
    segments: Mapped[int] = mapped_column(default=1)
    token: Mapped[str] = mapped_column(sa.String(16), unique=True)  # in the link: opens per message
    status: Mapped[str] = mapped_column(sa.String(12), default=Status.QUEUED)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_sid: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    provider_status: Mapped[str] = mapped_column(sa.String(20), default="")
    error_code: Mapped[int | None]
    error_message: Mapped[str] = mapped_column(sa.String(300), default="")
    # A person saw a failure that needs nothing more (an opted-out or invalid number): off the attention list.
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opens: Mapped[int] = mapped_column(default=0)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    commune: Mapped[AdminUnit] = relationship()
    household: Mapped[Household | None] = relationship()
    guide: Mapped[Guide | None] = relationship()
    created_by: Mapped[User | None] = relationship()


class OptOut(Model):
    """A number that must not receive any SMS (it replied STOP/HUY/TU CHOI, or the carrier said so)."""

    __tablename__ = "sms_opt_out"
    __table_args__ = (sa.CheckConstraint("source in ('reply', 'carrier', 'staff')", name="source"),)

    phone: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(10))
    keyword: Mapped[str] = mapped_column(sa.String(20), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboundSms(Model):
    """A reply from a resident, shown to the leader of the commune the number belongs to."""

    __tablename__ = "sms_inbound"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_sid: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    from_phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    body: Mapped[str] = mapped_column(sa.Text, default="")
    keyword: Mapped[str] = mapped_column(sa.String(10), default="")  # stop, start, help or empty
    household_id: Mapped[int | None] = mapped_column(sa.ForeignKey("household.id", ondelete="SET NULL"), index=True)
    commune_id: Mapped[int | None] = mapped_column(sa.ForeignKey("admin_unit.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    household: Mapped[Household | None] = relationship()
    commune: Mapped[AdminUnit | None] = relationship()


class FollowUpReminder(Model):
    """A visit's follow-up handled by the scheduler (one row per visit: the job can run twice)."""

    __tablename__ = "follow_up_reminder"

    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visit_record.id", ondelete="CASCADE"), primary_key=True)
    message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sms_message.id", ondelete="SET NULL"))
    assignment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("assignment.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DailySummary(Model):
    """What happened in a commune yesterday, written each morning for its leaders."""

    __tablename__ = "daily_summary"
    __table_args__ = (sa.UniqueConstraint("commune_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id", ondelete="CASCADE"))
    day: Mapped[date]
    figures: Mapped[dict[str, int]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    commune: Mapped[AdminUnit] = relationship()
