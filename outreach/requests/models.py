"""A resident's request for help (from the public form, a leaflet's QR code or an SMS reply), and
help given at the commune's one-stop desk."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.auth.models import User
from outreach.extensions import Model
from outreach.geo.models import AdminUnit, Household
from outreach.types import UTCDateTime, utcnow


class RequestStatus(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    DONE = "done"
    CANNOT_HELP = "cannot_help"
    SPAM = "spam"


REQUEST_STATUSES = tuple(s.value for s in RequestStatus)
OPEN_STATUSES = (RequestStatus.NEW, RequestStatus.ASSIGNED)
NEEDS = ("vneid1", "vneid2", "online", "fee", "other")
TIMES = ("morning", "afternoon", "evening", "weekend")
SOURCES = ("form", "qr", "sms")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in (" + ", ".join(f"'{v}'" for v in values) + ")"


class HelpRequest(Model):
    """One resident's request. Asking again within a week adds to the open one (``asks``)."""

    __tablename__ = "help_requests"
    __table_args__ = (
        sa.CheckConstraint(_in("status", REQUEST_STATUSES), name="status"),
        sa.CheckConstraint(_in("need", NEEDS), name="need"),
        sa.CheckConstraint("preferred_time = '' or " + _in("preferred_time", TIMES), name="preferred_time"),
        sa.CheckConstraint(_in("source", SOURCES), name="source"),
        sa.CheckConstraint("asks >= 1", name="asks"),
        sa.Index("ix_help_requests_commune_status", "commune_id", "status"),
        # A form sent twice at once is stored once.
        sa.Index(
            "uq_help_requests_form_token",
            "form_token",
            unique=True,
            sqlite_where=sa.text("form_token <> ''"),
            postgresql_where=sa.text("form_token <> ''"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id"))
    village_id: Mapped[int | None] = mapped_column(sa.ForeignKey("admin_unit.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(sa.ForeignKey("household.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    phone: Mapped[str | None] = mapped_column(sa.String(16), index=True)  # E.164 (geo/phone.py)
    need: Mapped[str] = mapped_column(sa.String(10), default="other")
    preferred_time: Mapped[str] = mapped_column(sa.String(10), default="")
    note: Mapped[str] = mapped_column(sa.Text, default="")
    # What the resident agreed to, word for word, when and how (the form, or their own SMS).
    consent_text: Mapped[str] = mapped_column(sa.Text, default="")
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_channel: Mapped[str] = mapped_column(sa.String(10), default="")
    source: Mapped[str] = mapped_column(sa.String(5), default="form")
    status: Mapped[str] = mapped_column(sa.String(12), default=RequestStatus.NEW)
    asks: Mapped[int] = mapped_column(default=1)
    last_asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The last form that asked (a form sent twice changes nothing).
    form_token: Mapped[str] = mapped_column(sa.String(40), default="")
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("assignment.id", ondelete="SET NULL"))
    due_on: Mapped[date | None]
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit_record.id", ondelete="SET NULL"))
    # The SMS it led to: "received" (after an SMS reply) and "a member will come".
    ack_message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sms_message.id", ondelete="SET NULL"))
    notice_message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sms_message.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    commune: Mapped[AdminUnit] = relationship(foreign_keys=[commune_id])
    village: Mapped[AdminUnit | None] = relationship(foreign_keys=[village_id])
    household: Mapped[Household | None] = relationship()
    member: Mapped[User | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class DeskHelp(Model):
    """Walk-in help at the commune's one-stop desk, recorded by the member on duty in a few taps."""

    __tablename__ = "desk_help"
    __table_args__ = (sa.CheckConstraint("people between 1 and 50", name="people"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.String(40), unique=True)  # a form sent twice is stored once
    commune_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    household_id: Mapped[int | None] = mapped_column(sa.ForeignKey("household.id", ondelete="SET NULL"), index=True)
    helped_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    people: Mapped[int] = mapped_column(default=1)
    done: Mapped[list[str]] = mapped_column(sa.JSON, default=list)  # codes of visits.models.HELP_FACTS
    obstacles: Mapped[list[str]] = mapped_column(sa.JSON, default=list)  # codes of visits.models.Obstacle
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    commune: Mapped[AdminUnit] = relationship()
    member: Mapped[User | None] = relationship()
    household: Mapped[Household | None] = relationship()
