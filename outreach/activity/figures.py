"""The figures of an activity report, counted in SQL from what the app already holds: the visits of the
period (current records, by the visit's time in the teams' zone), the commune's SMS, and its online-
submission statistics (``reports``). Adding up, comparing and reading them are plain functions over
dicts of numbers, the same for a live report and a frozen snapshot.

A resident's later erasure does not change what the team did that month: visits of erased households
stay counted (they name nobody)."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from outreach.activity.models import ActivityReminder
from outreach.activity.periods import ReportPeriod
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Household
from outreach.labels import OBSTACLE_LABELS
from outreach.reports import services as report_services
from outreach.reports.targets import gap_to_target, online_needed
from outreach.requests.models import HelpRequest, RequestStatus
from outreach.sms.models import SmsMessage, Status
from outreach.visits.models import (
    AnonymousFact,
    Obstacle,
    Outcome,
    VisitObstacle,
    VisitRecord,
    current_visits,
    reached,
)

if TYPE_CHECKING:
    from flask_babel.speaklater import LazyString

    from outreach.auth.models import User

Figures = dict[str, int | None]


@dataclass(frozen=True)
class Figure:
    key: str
    label: "LazyString"
    group: str


OBSTACLE_KEYS = tuple(f"obstacle.{code.value}" for code in Obstacle)

FIGURES: tuple[Figure, ...] = (
    Figure("members_active", _l("Team members active"), "team"),
    Figure("households_reached", _l("Households reached (someone was met)"), "team"),
    Figure("households_tried_only", _l("Households tried, nobody home"), "team"),
    Figure("visits", _l("Visits recorded"), "team"),
    Figure("people_helped", _l("People helped"), "help"),
    Figure("helped_under_30", _l("of them under 30"), "help"),
    Figure("helped_30_to_59", _l("of them 30 to 59"), "help"),
    Figure("helped_60_plus", _l("of them 60 or older"), "help"),
    Figure("vneid_level1", _l("VNeID level 1 registered"), "help"),
    Figure("referred_level2", _l("Referred to the police for VNeID level 2"), "help"),
    Figure("procedures_submitted", _l("Procedures submitted online with help"), "help"),
    Figure("fees_paid_online", _l("Online fee payment set up"), "help"),
    *(Figure(f"obstacle.{code.value}", OBSTACLE_LABELS[code.value], "obstacles") for code in Obstacle),
    Figure("guides_printed", _l("Printed guides given"), "guides"),
    Figure("guides_sms", _l("Guides given by SMS"), "guides"),
    Figure("sms_sent", _l("SMS sent to residents"), "sms"),
    Figure("sms_delivered", _l("SMS delivered"), "sms"),
    Figure("sms_opened", _l("SMS whose guide was opened"), "sms"),
    Figure("requests_answered", _l("Resident requests answered"), "requests"),
    Figure("dossiers_total", _l("Dossiers received"), "dossiers"),
    Figure("dossiers_online", _l("Dossiers received online"), "dossiers"),
    Figure("previous_total", _l("Dossiers received, previous period"), "dossiers"),
    Figure("previous_online", _l("Dossiers received online, previous period"), "dossiers"),
)
KEYS = tuple(f.key for f in FIGURES)
BY_KEY = {f.key: f for f in FIGURES}
# Counted from the visits (a member's own page shows only these).
VISIT_KEYS = KEYS[: KEYS.index("guides_sms") + 1]
# Not every installation has them: None means "not counted here", never 0.
OPTIONAL_KEYS = ("requests_answered",)


def label_of(key: str) -> str:
    """A figure's name in the reader's language."""
    return str(BY_KEY[key].label) if key in BY_KEY else key


# --- counting -------------------------------------------------------------------------------------------


def period_visits(unit: AdminUnit, period: ReportPeriod, member: "User | None" = None) -> sa.Select:
    """Current visit records of the period in the villages under ``unit`` (of one member, if given)."""
    start, end = period.bounds()
    village = sa.orm.aliased(AdminUnit)
    stmt = (
        current_visits()
        .join(Household, Household.id == VisitRecord.household_id)
        .join(village, village.id == Household.village_id)
        .where(
            village.path.startswith(unit.path, autoescape=True),
            VisitRecord.device_time >= start,
            VisitRecord.device_time < end,
        )
    )
    if member is not None:
        stmt = stmt.where(VisitRecord.member_id == member.id)
    return stmt


# What a visit must show to count in each visit figure (households count once, visits each time).
VISIT_CONDITIONS: dict[str, Callable[[Any], sa.ColumnElement[bool]]] = {
    "people_helped": lambda v: v.people_helped > 0,
    "helped_under_30": lambda v: v.helped_under_30 > 0,
    "helped_30_to_59": lambda v: v.helped_30_to_59 > 0,
    "helped_60_plus": lambda v: v.helped_60_plus > 0,
    "vneid_level1": lambda v: v.vneid_level1.is_(True),
    "referred_level2": lambda v: v.referred_level2.is_(True),
    "procedures_submitted": lambda v: v.procedure_submitted.is_(True),
    "fees_paid_online": lambda v: v.fee_payment_setup.is_(True),
    "guides_printed": lambda v: v.guide_given == "printed",
    "guides_sms": lambda v: v.guide_given == "sms",
    "households_reached": lambda v: reached(v.outcome),
    "households_tried_only": lambda v: v.outcome == Outcome.NOBODY_HOME,
}


def visit_figures(unit: AdminUnit, period: ReportPeriod, member: "User | None" = None) -> Figures:
    """Team, help, obstacle and guide figures of the visits under ``unit`` in ``period``."""
    v = period_visits(unit, period, member).subquery()

    def visits_where(key: str):
        return sa.func.count(sa.case((VISIT_CONDITIONS[key](v.c), v.c.id)))

    def total(column):
        return sa.func.coalesce(sa.func.sum(column), 0)

    met = sa.func.count(sa.distinct(sa.case((reached(v.c.outcome), v.c.household_id))))
    row = db.session.execute(
        sa.select(
            sa.func.count(sa.distinct(v.c.member_id)),
            met,
            sa.func.count(sa.distinct(v.c.household_id)) - met,  # tried, and nobody was home every time
            sa.func.count(v.c.id),
            total(v.c.people_helped),
            total(v.c.helped_under_30),
            total(v.c.helped_30_to_59),
            total(v.c.helped_60_plus),
            *(
                visits_where(key)
                for key in (
                    "vneid_level1",
                    "referred_level2",
                    "procedures_submitted",
                    "fees_paid_online",
                    "guides_printed",
                    "guides_sms",
                )
            ),
        )
    ).one()
    names = (
        "members_active", "households_reached", "households_tried_only", "visits", "people_helped",
        "helped_under_30", "helped_30_to_59", "helped_60_plus", "vneid_level1", "referred_level2",
        "procedures_submitted", "fees_paid_online", "guides_printed", "guides_sms",
    )  # fmt: skip
    figures: Figures = {name: int(value or 0) for name, value in zip(names, row, strict=True)}
    # An obstacle counts each household that met it once.
    obstacles = dict(
        db.session.execute(
            sa.select(VisitObstacle.code, sa.func.count(sa.distinct(v.c.household_id)))
            .join(v, v.c.id == VisitObstacle.visit_id)
            .group_by(VisitObstacle.code)
        ).all()
    )
    if member is None:
        # Sensitive facts counted without a household (no consent to link them, or past their time).
        village = sa.orm.aliased(AdminUnit)
        for code, count in db.session.execute(
            sa.select(AnonymousFact.code, sa.func.coalesce(sa.func.sum(AnonymousFact.count), 0))
            .join(village, village.id == AnonymousFact.village_id)
            .where(
                village.path.startswith(unit.path, autoescape=True),
                AnonymousFact.day >= period.start,
                AnonymousFact.day <= period.end,
            )
            .group_by(AnonymousFact.code)
        ):
            obstacles[code] = obstacles.get(code, 0) + int(count)
    for key in OBSTACLE_KEYS:
        figures[key] = int(obstacles.get(key.removeprefix("obstacle."), 0))
    return figures


def _leader_reminders() -> sa.Select:
    return sa.select(ActivityReminder.message_id).where(ActivityReminder.message_id.is_not(None))


def sms_messages(unit: AdminUnit, period: ReportPeriod, member: "User | None" = None) -> sa.Select:
    """SMS to residents sent in the period from the unit's communes (not the reminders to leaders)."""
    start, end = period.bounds()
    stmt = (
        sa.select(SmsMessage)
        .join(AdminUnit, AdminUnit.id == SmsMessage.commune_id)
        .where(
            AdminUnit.path.startswith(unit.path, autoescape=True),
            SmsMessage.sent_at >= start,
            SmsMessage.sent_at < end,
            SmsMessage.status.in_([Status.SENT, Status.DELIVERED, Status.UNDELIVERED]),
            SmsMessage.id.not_in(_leader_reminders()),
        )
    )
    if member is not None:
        stmt = stmt.where(SmsMessage.created_by_id == member.id)
    return stmt


SMS_CONDITIONS: dict[str, Callable[[], sa.ColumnElement[bool]]] = {
    "sms_sent": lambda: sa.true(),
    "sms_delivered": lambda: SmsMessage.status == Status.DELIVERED,
    "sms_opened": lambda: SmsMessage.opened_at.is_not(None),
}


def sms_figures(unit: AdminUnit, period: ReportPeriod, member: "User | None" = None) -> Figures:
    """SMS sent in the period, delivered, and opened (the guide's link followed)."""
    sent, delivered, opened = db.session.execute(
        sms_messages(unit, period, member).with_only_columns(
            sa.func.count(SmsMessage.id),
            sa.func.count(SmsMessage.id).filter(SMS_CONDITIONS["sms_delivered"]()),
            sa.func.count(SmsMessage.id).filter(SMS_CONDITIONS["sms_opened"]()),
        )
    ).one()
    return {"sms_sent": sent or 0, "sms_delivered": delivered or 0, "sms_opened": opened or 0}


def answered_requests(unit: AdminUnit, period: ReportPeriod, member: "User | None" = None) -> sa.Select:
    """Residents' requests for help (spam left out) answered by a visit of the period under ``unit``."""
    visits = period_visits(unit, period, member).with_only_columns(VisitRecord.id)
    return sa.select(HelpRequest.id).where(
        HelpRequest.visit_id.in_(visits.scalar_subquery()), HelpRequest.status != RequestStatus.SPAM
    )


def resident_requests_answered(unit: AdminUnit, period: ReportPeriod, member: "User | None" = None) -> int:
    """Residents' requests for help answered in the period: their member's visit closed them."""
    stmt = answered_requests(unit, period, member)
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0)


def dossier_figures(actor: "User", unit: AdminUnit, period: ReportPeriod) -> Figures:
    """Dossiers received by the unit's agencies in the period and the one before (imported statistics)."""

    def counts(p: ReportPeriod) -> report_services.Figures:
        return report_services.online_rates(actor, unit, report_services.Period(p.start, p.end)).total

    now, before = counts(period), counts(period.previous())
    return {
        "dossiers_total": now.total,
        "dossiers_online": now.online,
        "previous_total": before.total,
        "previous_online": before.online,
    }


def unit_figures(actor: "User", unit: AdminUnit, period: ReportPeriod) -> Figures:
    """Every figure of a commune's report, counted now."""
    figures = visit_figures(unit, period)
    figures |= sms_figures(unit, period)
    figures["requests_answered"] = resident_requests_answered(unit, period)
    figures |= dossier_figures(actor, unit, period)
    return {key: figures.get(key) for key in KEYS}


def member_figures(member: "User", unit: AdminUnit, period: ReportPeriod) -> Figures:
    """A member's own figures: their visits and the SMS they sent."""
    figures = visit_figures(unit, period, member)
    figures |= sms_figures(unit, period, member)
    return figures


# --- adding up, comparing, reading ------------------------------------------------------------------


def add_up(parts: Iterable[Figures]) -> Figures:
    """The sum of each figure over ``parts``; an optional figure none of them counted stays None."""
    parts = list(parts)
    total: Figures = {}
    for key in KEYS:
        values = [p.get(key) for p in parts if p.get(key) is not None]
        total[key] = sum(v for v in values if v is not None) if values or key not in OPTIONAL_KEYS else None
    return total


@dataclass(frozen=True)
class Change:
    key: str
    before: int | None
    after: int | None

    @property
    def label(self) -> str:
        return label_of(self.key)

    @property
    def delta(self) -> int | None:
        return None if self.before is None or self.after is None else self.after - self.before


def changes(submitted: Figures, now: Figures) -> list[Change]:
    """The figures that differ between what was submitted and what the app counts now."""
    return [Change(key, submitted.get(key), now.get(key)) for key in KEYS if submitted.get(key) != now.get(key)]


def top_obstacles(figures: Figures, n: int = 3) -> list[tuple[str, int]]:
    """The ``n`` obstacles met by most households, most first (ties: in the list's order)."""
    met = [(key.removeprefix("obstacle."), figures.get(key) or 0) for key in OBSTACLE_KEYS]
    return sorted((item for item in met if item[1] > 0), key=lambda item: -item[1])[:n]


@dataclass(frozen=True)
class Reading:
    """The online rate of the period, its change since the previous one, and its distance to the target."""

    rate: float | None
    previous_rate: float | None
    target: float
    age_not_given: int  # people helped whose age band was not recorded

    @property
    def change(self) -> float | None:
        return None if self.rate is None or self.previous_rate is None else self.rate - self.previous_rate

    @property
    def gap(self) -> float | None:
        return gap_to_target(self.rate, self.target)


def _rate(online: int | None, total: int | None) -> float | None:
    return (online or 0) / total if total else None


def read(figures: Figures, target: float) -> Reading:
    bands = sum(figures.get(k) or 0 for k in ("helped_under_30", "helped_30_to_59", "helped_60_plus"))
    return Reading(
        rate=_rate(figures.get("dossiers_online"), figures.get("dossiers_total")),
        previous_rate=_rate(figures.get("previous_online"), figures.get("previous_total")),
        target=target,
        age_not_given=max(0, (figures.get("people_helped") or 0) - bands),
    )


def online_needed_per_month(figures: Figures, target: float, months: int) -> int | None:
    """More online dossiers a month that would have reached the target at the period's volume."""
    needed = online_needed(figures.get("dossiers_online") or 0, figures.get("dossiers_total") or 0, target)
    return None if needed is None else -(-needed // months)
