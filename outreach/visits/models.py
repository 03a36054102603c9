from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.auth.models import User
from outreach.extensions import Model
from outreach.geo.models import Household
from outreach.types import UTCDateTime, utcnow


class Outcome(StrEnum):
    HELPED = "helped"
    NOBODY_HOME = "nobody_home"
    REFUSED = "refused"
    MOVED_AWAY = "moved_away"
    FOLLOW_UP = "follow_up"


class Obstacle(StrEnum):
    NO_SMARTPHONE = "no_smartphone"
    PHONE_NOT_OWN_NAME = "phone_not_own_name"
    ELDERLY = "elderly"
    NO_INTERNET = "no_internet"
    NO_CHIP_ID = "no_chip_id"
    LANGUAGE = "language"
    DISABILITY = "disability"
    OTHER = "other"


# What was done at the door, each a separate fact (level 2 cannot be done at the door: only a referral).
HELP_FACTS = (
    "vneid_installed",
    "vneid_level1",
    "referred_level2",
    "portal_login",
    "procedure_submitted",
    "fee_payment_setup",
)
GUIDES = ("", "printed", "sms")


class VisitRecord(Model):
    """One visit as recorded on a phone. Append-only: a correction is a new record that supersedes
    the old one (``supersedes_id``); the current record of a visit is the one nobody supersedes."""

    __tablename__ = "visit_record"
    __table_args__ = (
        sa.CheckConstraint(
            "outcome in ('helped', 'nobody_home', 'refused', 'moved_away', 'follow_up')", name="outcome"
        ),
        sa.CheckConstraint("outcome <> 'follow_up' or follow_up_on is not null", name="follow_up_date"),
        sa.CheckConstraint("people_helped >= 0 and people_helped <= 50", name="people_helped"),
        sa.CheckConstraint("lat is null or location_consent", name="location_needs_consent"),
        sa.CheckConstraint("guide_given in ('', 'printed', 'sms')", name="guide_given"),
        # A household's visits by time (the latest visit), carrying what the coverage counts, so that a
        # province's coverage reads this index and not the table (index-only on PostgreSQL).
        sa.Index(
            "ix_visit_record_household_time",
            "household_id",
            "device_time",
            postgresql_include=["id", "outcome", "vneid_level1", "people_helped"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("household.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    device_time: Mapped[datetime] = mapped_column(UTCDateTime)
    server_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(sa.String(12))
    people_helped: Mapped[int] = mapped_column(default=0)
    helped_under_30: Mapped[int] = mapped_column(default=0)
    helped_30_to_59: Mapped[int] = mapped_column(default=0)
    helped_60_plus: Mapped[int] = mapped_column(default=0)
    vneid_installed: Mapped[bool] = mapped_column(default=False)
    vneid_level1: Mapped[bool] = mapped_column(default=False)
    referred_level2: Mapped[bool] = mapped_column(default=False)
    portal_login: Mapped[bool] = mapped_column(default=False)
    procedure_submitted: Mapped[bool] = mapped_column(default=False)
    procedure: Mapped[str] = mapped_column(sa.String(200), default="")
    fee_payment_setup: Mapped[bool] = mapped_column(default=False)
    guide_given: Mapped[str] = mapped_column(sa.String(8), default="")
    obstacle_other: Mapped[str] = mapped_column(sa.String(200), default="")
    follow_up_on: Mapped[date | None] = mapped_column(index=True)
    location_consent: Mapped[bool] = mapped_column(default=False)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    accuracy_m: Mapped[float | None]
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    # The resident's explicit consent, at this visit, to record a sensitive fact (a disability).
    sensitive_consent: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Set when the retention job cleared this record's free text (notes, other obstacle).
    notes_cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    supersedes_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit_record.id"), unique=True)
    # A correction keeps the time of the visit it corrects (device_time); this is when it was made.
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    household: Mapped[Household] = relationship()
    member: Mapped[User] = relationship()
    obstacles: Mapped[list["VisitObstacle"]] = relationship(cascade="all, delete-orphan", order_by="VisitObstacle.code")

    @property
    def obstacle_codes(self) -> list[str]:
        return [o.code for o in self.obstacles]

    @property
    def plain_obstacle_codes(self) -> list[str]:
        """The obstacles without the sensitive ones (for lists, exports and roles that need no more)."""
        return [o.code for o in self.obstacles if o.code not in SENSITIVE_OBSTACLES]


# Health facts: sensitive personal data (Law 91/2025). Linked to a household only with the resident's
# explicit consent (Purpose.SENSITIVE); otherwise counted in ``AnonymousFact``, linked to nobody.
SENSITIVE_OBSTACLES = frozenset({Obstacle.DISABILITY.value})


class VisitObstacle(Model):
    """What blocked the household, one row per obstacle (counted and mapped in SQL). A code of
    ``SENSITIVE_OBSTACLES`` is sensitive: left out of lists and exports unless a role needs it."""

    __tablename__ = "visit_obstacle"
    __table_args__ = (
        sa.CheckConstraint(
            "code in ('no_smartphone', 'phone_not_own_name', 'elderly', 'no_internet', 'no_chip_id', "
            "'language', 'disability', 'other')",
            name="code",
        ),
    )

    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visit_record.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(
        sa.String(20), primary_key=True, index=True, info={"sensitive": sorted(SENSITIVE_OBSTACLES)}
    )

    @property
    def sensitive(self) -> bool:
        return self.code in SENSITIVE_OBSTACLES


class AnonymousFact(Model):
    """A sensitive fact counted for a village and a day, linked to no household and no person: what a
    visit saw without the resident's consent to record it, and what the retention job unlinked."""

    __tablename__ = "anonymous_fact"
    __table_args__ = (
        sa.UniqueConstraint("village_id", "day", "code"),
        sa.CheckConstraint("count >= 0", name="count_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id", ondelete="CASCADE"), index=True)
    day: Mapped[date]
    code: Mapped[str] = mapped_column(sa.String(20))
    count: Mapped[int] = mapped_column(default=0)


def reached(outcome) -> sa.ColumnElement[bool]:
    """Someone of the household was met: every outcome but "nobody home", which is only a try.
    ``outcome`` is the outcome column of the visits counted (a model's or a subquery's)."""
    return outcome != Outcome.NOBODY_HOME


def current_visits() -> sa.Select:
    """Visit records that no later correction supersedes."""
    newer = sa.orm.aliased(VisitRecord)
    return sa.select(VisitRecord).where(~sa.exists().where(newer.supersedes_id == VisitRecord.id))


def latest_visits(households: sa.Select | None = None) -> sa.Subquery:
    """A subquery (visit_id, household_id): the newest current visit of each household, by device time;
    only of ``households`` (a select of household ids, such as ``households_under(unit)``) when given, so
    that the ranking reads the visits of the area and not those of the whole country."""
    current = current_visits()
    if households is not None:
        current = current.where(VisitRecord.household_id.in_(households))
    ranked = current.with_only_columns(
        VisitRecord.id.label("visit_id"),
        VisitRecord.household_id,
        sa.func.row_number()
        .over(partition_by=VisitRecord.household_id, order_by=(VisitRecord.device_time.desc(), VisitRecord.id.desc()))
        .label("n"),
    ).subquery()
    return sa.select(ranked.c.visit_id, ranked.c.household_id).where(ranked.c.n == 1).subquery()


def is_latest_visit(visit=VisitRecord) -> sa.ColumnElement[bool]:
    """A condition on ``visit`` (``VisitRecord`` or an alias): it is current and no later current visit of
    its household exists (by device time, then id): the household's latest visit. Joined to households
    (``outerjoin(VisitRecord, and_(VisitRecord.household_id == Household.id, is_latest_visit()))``) it
    reads a few index entries per household of the area, whatever the planner expects of the area's size:
    never the whole table's latest visits, nor a ranking read again for every household."""
    newer = sa.orm.aliased(VisitRecord)
    correction = sa.orm.aliased(VisitRecord)
    newer_correction = sa.orm.aliased(VisitRecord)
    return sa.and_(
        ~sa.exists().where(correction.supersedes_id == visit.id),
        ~sa.exists().where(
            newer.household_id == visit.household_id,
            sa.or_(
                newer.device_time > visit.device_time,
                sa.and_(newer.device_time == visit.device_time, newer.id > visit.id),
            ),
            ~sa.exists().where(newer_correction.supersedes_id == newer.id),
        ),
    )
