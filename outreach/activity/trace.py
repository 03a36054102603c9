"""What a figure counts, record by record: the visits (households for those who may see them; per
village for staff, who see counts only), the members, or the SMS behind each number of a report."""

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from outreach.activity import figures as counting
from outreach.activity.periods import ReportPeriod
from outreach.auth.models import Role, User
from outreach.errors import NotFound
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Household
from outreach.requests.models import HelpRequest
from outreach.sms.models import Guide, SmsMessage
from outreach.visits.models import VisitObstacle, VisitRecord, reached

LIMIT = 1000


@dataclass
class VisitLine:
    when: datetime
    village: str
    household: str  # empty for an erased household
    household_id: int
    member: str
    people_helped: int
    outcome: str


@dataclass
class Trace:
    key: str
    kind: str  # visits | villages | members | sms | dossiers | none
    visits: list[VisitLine] = field(default_factory=list)
    counts: list[tuple[str, int]] = field(default_factory=list)  # (village or member, how many)
    messages: list[tuple[datetime | None, str, str, str]] = field(default_factory=list)  # when, status, guide, to
    truncated: bool = False


def _condition(key: str, unit: AdminUnit, period: ReportPeriod, member: User | None):
    if key.startswith("obstacle."):
        code = key.removeprefix("obstacle.")
        return sa.exists().where(VisitObstacle.visit_id == VisitRecord.id, VisitObstacle.code == code)
    if key == "visits":
        return sa.true()
    condition = counting.VISIT_CONDITIONS[key](VisitRecord)
    if key == "households_tried_only":  # nobody home, and nobody met at any other try of the period
        met = counting.period_visits(unit, period, member).where(reached(VisitRecord.outcome))
        condition = sa.and_(condition, VisitRecord.household_id.not_in(met.with_only_columns(VisitRecord.household_id)))
    return condition


def figure_trace(actor: User, unit: AdminUnit, period: ReportPeriod, key: str, *, member: User | None = None) -> Trace:
    """The records behind one figure of a commune's report (or of a member's own figures)."""
    if key not in counting.KEYS:
        raise NotFound(key)
    if key.startswith(("dossiers_", "previous_")):
        return Trace(key, "dossiers")
    if key.startswith("sms_"):
        return _sms_trace(actor, unit, period, key, member)
    village = sa.orm.aliased(AdminUnit)
    visits = counting.period_visits(unit, period, member)
    if key == "members_active":
        members = db.session.execute(
            visits.join(User, User.id == VisitRecord.member_id)
            .with_only_columns(User.full_name, User.username, sa.func.count(VisitRecord.id))
            .group_by(User.id, User.full_name, User.username)
            .order_by(User.full_name, User.username)
        )
        return Trace(key, "members", counts=[(name or username, n) for name, username, n in members])
    if key == "requests_answered":  # the visits that answered a resident's request
        visits = visits.where(
            VisitRecord.id.in_(counting.answered_requests(unit, period, member).with_only_columns(HelpRequest.visit_id))
        )
    else:
        visits = visits.where(_condition(key, unit, period, member))
    if actor.role == Role.STAFF:  # counts per village, never a household
        villages = db.session.execute(
            visits.join(village, village.id == Household.village_id, isouter=False)
            .with_only_columns(village.name, sa.func.count(sa.distinct(VisitRecord.household_id)))
            .group_by(village.id, village.name, village.sort_key)
            .order_by(village.sort_key)
        )
        return Trace(key, "villages", counts=[(name, n) for name, n in villages])
    rows = db.session.execute(
        visits.join(village, village.id == Household.village_id)
        .join(User, User.id == VisitRecord.member_id)
        .with_only_columns(
            VisitRecord.device_time,
            village.name,
            Household.head_name,
            Household.id,
            User.full_name,
            User.username,
            VisitRecord.people_helped,
            VisitRecord.outcome,
        )
        .order_by(VisitRecord.device_time, VisitRecord.id)
        .limit(LIMIT + 1)
    ).all()
    lines = [
        VisitLine(when, village_name, head or "", hid, name or username, people, outcome)
        for when, village_name, head, hid, name, username, people, outcome in rows[:LIMIT]
    ]
    return Trace(key, "visits", visits=lines, truncated=len(rows) > LIMIT)


def _sms_trace(actor: User, unit: AdminUnit, period: ReportPeriod, key: str, member: User | None) -> Trace:
    stmt = (
        counting.sms_messages(unit, period, member)
        .where(counting.SMS_CONDITIONS[key]())
        .outerjoin(Guide, Guide.id == SmsMessage.guide_id)
        .outerjoin(Household, Household.id == SmsMessage.household_id)
        .with_only_columns(SmsMessage.sent_at, SmsMessage.status, Guide.title_vi, Household.head_name)
        .order_by(SmsMessage.sent_at, SmsMessage.id)
        .limit(LIMIT + 1)
    )
    rows = db.session.execute(stmt).all()
    show_names = actor.role != Role.STAFF  # staff see counts, never whom
    messages = [(at, status, title or "", (head or "") if show_names else "") for at, status, title, head in rows]
    return Trace(key, "sms", messages=messages[:LIMIT], truncated=len(rows) > LIMIT)
