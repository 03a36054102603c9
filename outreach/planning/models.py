from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.auth.models import User
from outreach.extensions import Model, db
from outreach.geo.models import AdminUnit, Household
from outreach.types import UTCDateTime, utcnow

campaign_village = sa.Table(
    "campaign_village",
    db.metadata,
    sa.Column("campaign_id", sa.ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("village_id", sa.ForeignKey("admin_unit.id", ondelete="CASCADE"), primary_key=True),
)

MAX_RETRY_DAYS = 30  # the longest a household where nobody was home waits for another try


class Campaign(Model):
    """A commune's push over a period: which villages, and what counts as success."""

    __tablename__ = "campaign"
    __table_args__ = (
        sa.CheckConstraint("ends_on >= starts_on", name="period"),
        sa.CheckConstraint("goal_visited_pct between 0 and 100", name="goal_visited"),
        sa.CheckConstraint("goal_activated_pct between 0 and 100", name="goal_activated"),
        sa.CheckConstraint(f"nobody_home_retry_days between 0 and {MAX_RETRY_DAYS}", name="nobody_home_retry_days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    goal_visited_pct: Mapped[int] = mapped_column(default=100)
    goal_activated_pct: Mapped[int] = mapped_column(default=80)
    # When nobody is home, the household stays with the member: 0 = try again later the same day,
    # 1 = the next day, N = in N days.
    nobody_home_retry_days: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    commune: Mapped[AdminUnit] = relationship()
    villages: Mapped[list[AdminUnit]] = relationship(secondary=campaign_village, order_by=AdminUnit.sort_key)


# Why an assignment ended: the visit was recorded, a leader gave it to someone else or took it back,
# or the member or the household moved and the member may no longer see the household.
RELEASE_REASONS = ("visited", "reassigned", "cancelled", "out_of_area")


class Assignment(Model):
    """A household checked out to one member for a day. At most one open assignment per household
    (a partial unique index), so two members never get the same door."""

    __tablename__ = "assignment"
    __table_args__ = (
        sa.Index(
            "uq_assignment_open_household",
            "household_id",
            unique=True,
            sqlite_where=sa.text("released_at IS NULL"),
            postgresql_where=sa.text("released_at IS NULL"),
        ),
        sa.CheckConstraint(
            "released_reason in (" + ", ".join(f"'{r}'" for r in RELEASE_REASONS) + ")", name="released_reason"
        ),
        sa.Index("ix_assignment_member_open", "member_id", "released_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("household.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaign.id", ondelete="SET NULL"), index=True)
    due_on: Mapped[date]
    assigned_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_reason: Mapped[str | None] = mapped_column(sa.String(12))
    # The last time the member found nobody home (the visit's time): the household waits for another try.
    tried_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The member who lost a household to reassignment sees it until they acknowledge it.
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    household: Mapped[Household] = relationship()
    member: Mapped[User] = relationship(foreign_keys=[member_id])
    campaign: Mapped[Campaign | None] = relationship()
