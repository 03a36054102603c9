"""Report figures, aggregated in SQL within the actor's scope.

Only current statistics count (rows no later import replaced), and a period counts in a range
only when it lies wholly inside it, so a quarter is never split into guessed months.
"""

import re
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from outreach.audit.models import ImportBatch
from outreach.auth.models import User
from outreach.auth.scope import unit_in_scope
from outreach.clock import EARLIEST_DAY, day_end, day_start, local_today
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.models import REFORM_DATE, AdminUnit, Household, Level
from outreach.planning.models import Campaign
from outreach.reports.agencies import agencies_in_scope
from outreach.reports.analysis import (
    DiDEstimate,
    RankCorrelation,
    UnitRates,
    difference_in_differences,
    rank_correlation,
    rate,
)
from outreach.reports.imports import month_end
from outreach.reports.models import Agency, AgencyStatus, PeriodKind, SubmissionStat
from outreach.text import sort_key
from outreach.visits.coverage import coverage
from outreach.visits.models import VisitRecord

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


@dataclass(frozen=True)
class Period:
    """Whole months, first to last, inclusive."""

    start: date
    end: date

    @property
    def first_month(self) -> str:
        return f"{self.start.year:04}-{self.start.month:02}"

    @property
    def last_month(self) -> str:
        return f"{self.end.year:04}-{self.end.month:02}"


def parse_month(text: str, field_name: str, *, today: date | None = None) -> date:
    """A month written YYYY-MM, from January 2015 to the month of ``today`` (by default the local day)."""
    match = _MONTH.match((text or "").strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValidationError({field_name: [_("Write a month as YYYY-MM, for example 2026-09.")]})
    month, last = (int(match[1]), int(match[2])), today or local_today()
    if not (EARLIEST_DAY.year, EARLIEST_DAY.month) <= month <= (last.year, last.month):
        first, last_month = f"{EARLIEST_DAY:%Y-%m}", f"{last:%Y-%m}"
        message = _("Choose a month from %(first)s to %(last)s.", first=first, last=last_month)
        raise ValidationError({field_name: [message]})
    return date(*month, 1)


def report_period(
    actor: User, unit: AdminUnit, first: str = "", last: str = "", *, today: date | None = None
) -> Period:
    """The months asked for, or by default every month with figures for the unit."""
    today = today or local_today()
    start = parse_month(first, "from", today=today) if first else None
    end_month = parse_month(last, "to", today=today) if last else None
    if start is None or end_month is None:
        bounds = db.session.execute(
            _current_stats(actor, unit).with_only_columns(
                sa.func.min(SubmissionStat.period_start), sa.func.max(SubmissionStat.period_end)
            )
        ).one()
        start = start or (bounds[0].replace(day=1) if bounds[0] else today.replace(day=1))
        end_month = end_month or (bounds[1].replace(day=1) if bounds[1] else start)
    if end_month < start:
        raise ValidationError({"to": [_("The last month is before the first.")]})
    return Period(start, month_end(end_month.year, end_month.month))


def provinces_with_figures(actor: User) -> set[int]:
    """The provinces whose agencies have current figures the actor may see, in one query."""
    return set(
        db.session.scalars(
            sa.select(Agency.province_id)
            .join(SubmissionStat, SubmissionStat.agency_id == Agency.id)
            .where(
                SubmissionStat.replaced_by_batch_id.is_(None),
                Agency.id.in_(agencies_in_scope(actor).with_only_columns(Agency.id).scalar_subquery()),
            )
            .distinct()
        )
    )


# The parts of the counts a file may or may not give, each with the count it is a part of.
PARTS = (("fully_online", "online"), ("partly_online", "online"), ("paid_online", "total"))


@dataclass
class Figures:
    """Dossier counts behind a rate; the rate is never shown without them.

    Fully online, partly online and paid online are None when no file gave them (unknown, not 0), else
    the sum over the rows whose file did: ``*_known_*`` say how many of the online (or all) dossiers
    that sum covers."""

    total: int = 0
    online: int = 0
    fully_online: int | None = None
    partly_online: int | None = None
    paid_online: int | None = None
    agencies: int = 0
    fully_known_online: int = 0  # of ``online``, those whose row said how many were fully online
    partly_known_online: int = 0  # of ``online``, those whose row said how many were partly online
    paid_known_total: int = 0  # of ``total``, those whose row said how many were paid online

    @property
    def rate(self) -> float | None:
        return rate(self.online, self.total)

    @property
    def has_data(self) -> bool:
        return self.total > 0

    @property
    def detailed_online(self) -> int:
        """Online dossiers whose file gave the fully/partly split (the name pages used first)."""
        return self.fully_known_online

    def coverage(self, part: str) -> tuple[int, int]:
        """How many dossiers a part's sum covers, out of how many it is a part of: (512, 600)."""
        known = {"fully_online": self.fully_known_online, "partly_online": self.partly_known_online}
        return known.get(part, self.paid_known_total), getattr(self, dict(PARTS)[part])

    def add(self, other: "Figures") -> None:
        """Add another's counts to these (a period's months into its quarter); unknown stays unknown only
        where both are. The count of agencies is not added: the same agency reports every month."""
        for name in ("total", "online", "fully_known_online", "partly_known_online", "paid_known_total"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name, _whole in PARTS:
            mine, theirs = getattr(self, name), getattr(other, name)
            setattr(self, name, None if mine is None and theirs is None else (mine or 0) + (theirs or 0))


@dataclass
class RateRow:
    key: str  # "unit" | "own" | "departments" | "unresolved"
    label: str
    figures: Figures
    unit: AdminUnit | None = None


@dataclass
class RateReport:
    unit: AdminUnit
    period: Period
    rows: list[RateRow]  # children (with no data too), then the unit's own and unlinked agencies
    total: Figures
    agencies: list[tuple[Agency, Figures]] = field(default_factory=list)
    straddling: int = 0  # figures of periods crossing the range's ends, not counted


def _home():
    return sa.orm.aliased(AdminUnit, name="home")


def _current_stats(actor: User, unit: AdminUnit, period: Period | None = None, home=None) -> sa.Select:
    """Current statistics of agencies in the actor's scope whose unit (or province, if unlinked) is in ``unit``."""
    home = home if home is not None else _home()
    stmt = (
        sa.select(SubmissionStat)
        .join(Agency, Agency.id == SubmissionStat.agency_id)
        .join(home, home.id == sa.func.coalesce(Agency.unit_id, Agency.province_id))
        .where(
            SubmissionStat.replaced_by_batch_id.is_(None),
            home.path.startswith(unit.path, autoescape=True),
            Agency.id.in_(agencies_in_scope(actor).with_only_columns(Agency.id).scalar_subquery()),
        )
    )
    if period is not None:
        stmt = stmt.where(SubmissionStat.period_start >= period.start, SubmissionStat.period_end <= period.end)
    return stmt


def _sums():
    def known(part, whole):  # the dossiers of rows that give ``part``
        return sa.func.coalesce(sa.func.sum(sa.case((part.is_not(None), whole), else_=0)), 0)

    return (
        sa.func.coalesce(sa.func.sum(SubmissionStat.total), 0),
        sa.func.coalesce(sa.func.sum(SubmissionStat.online), 0),
        # No coalesce: a sum over rows that all lack the figure is NULL, "not given", never 0.
        sa.func.sum(SubmissionStat.fully_online),
        sa.func.sum(SubmissionStat.partly_online),
        sa.func.sum(SubmissionStat.paid_online),
        sa.func.count(sa.distinct(SubmissionStat.agency_id)),
        known(SubmissionStat.fully_online, SubmissionStat.online),
        known(SubmissionStat.partly_online, SubmissionStat.online),
        known(SubmissionStat.paid_online, SubmissionStat.total),
    )


def _figures(row) -> Figures:
    total, online, fully, partly, paid, *rest = row
    return Figures(
        int(total or 0),
        int(online or 0),
        None if fully is None else int(fully),
        None if partly is None else int(partly),
        None if paid is None else int(paid),
        *(int(v or 0) for v in rest),
    )


def rates_by_unit(actor: User, unit: AdminUnit, period: Period, *, level: str | None = None) -> dict[int, Figures]:
    """Figures per unit under ``unit``: its direct children, or every unit of ``level`` in its subtree.
    An agency counts for the unit whose subtree holds the unit it is linked to. Agencies link to
    communes, districts or the province, so one or two parent links always reach the unit shown
    (equality joins, which every database plans well)."""
    home = _home()
    parent = sa.orm.aliased(AdminUnit, name="parent")
    if level == Level.COMMUNE:
        key = sa.case((home.level == Level.COMMUNE, home.id))
    elif level == Level.DISTRICT:
        key = sa.case((home.level == Level.DISTRICT, home.id), (home.level == Level.COMMUNE, home.parent_id))
    elif level is None:
        key = sa.case((home.parent_id == unit.id, home.id), (parent.parent_id == unit.id, parent.id))
    else:
        return {}
    grouped = (
        _current_stats(actor, unit, period, home)
        .outerjoin(parent, parent.id == home.parent_id)
        .with_only_columns(key.label("unit_id"), *_sums())
        .where(key.is_not(None))
        .group_by(key)
    )
    return {row[0]: _figures(row[1:]) for row in db.session.execute(grouped)}


def online_rates(actor: User, unit: AdminUnit, period: Period) -> RateReport:
    """The unit's online rate and its parts: each child unit, the unit's own committee, and (for a
    province) its departments and any agency still to be matched, so the rows add up to the total."""
    children = list(
        db.session.scalars(
            sa.select(AdminUnit)
            .where(AdminUnit.parent_id == unit.id, unit_in_scope(actor))
            .order_by(AdminUnit.sort_key)
        )
    )
    by_child = rates_by_unit(actor, unit, period) if children and unit.level != Level.COMMUNE else {}
    rows = [RateRow("unit", child.name, by_child.get(child.id, Figures()), child) for child in children]
    if unit.level == Level.COMMUNE:
        rows = []  # villages have no agencies: the commune's figures are its own committee's
    home = _home()
    own = db.session.execute(
        _current_stats(actor, unit, period, home)
        .where(home.id == unit.id)
        .with_only_columns(Agency.status, *_sums())
        .group_by(Agency.status)
    ).all()
    labels = {
        AgencyStatus.LINKED: _("%(unit)s's own committee", unit=unit.name[:1].lower() + unit.name[1:]),
        AgencyStatus.NOT_A_UNIT: _("Departments and other agencies"),
        AgencyStatus.UNRESOLVED: _("Agencies not yet matched to a unit"),
    }
    keys = {AgencyStatus.LINKED: "own", AgencyStatus.NOT_A_UNIT: "departments", AgencyStatus.UNRESOLVED: "unresolved"}
    for status in (AgencyStatus.LINKED, AgencyStatus.NOT_A_UNIT, AgencyStatus.UNRESOLVED):
        for row in own:
            if row[0] == status:
                rows.append(
                    RateRow(keys[status], labels[status], _figures(row[1:]), unit if status == "linked" else None)
                )
    total = _figures(db.session.execute(_current_stats(actor, unit, period).with_only_columns(*_sums())).one())
    agencies = [
        (agency, _figures(row))
        for agency, *row in db.session.execute(
            _current_stats(actor, unit, period)
            .with_only_columns(Agency, *_sums())
            .group_by(Agency.id)
            .order_by(Agency.name)
        )
    ]
    straddling = db.session.scalar(
        _current_stats(actor, unit)
        .with_only_columns(sa.func.count(SubmissionStat.id))
        .where(
            SubmissionStat.period_start <= period.end,
            SubmissionStat.period_end >= period.start,
            sa.or_(SubmissionStat.period_start < period.start, SubmissionStat.period_end > period.end),
        )
    )
    agencies.sort(key=lambda item: sort_key(item[0].name))
    return RateReport(unit, period, rows, total, agencies, straddling or 0)


@dataclass
class RankedUnit:
    unit: AdminUnit
    figures: Figures
    rank: int
    gap: float | None = None  # to the target: a share below it (negative: above it), when a target is given


def ranking(
    actor: User,
    unit: AdminUnit,
    period: Period,
    *,
    level: str = Level.COMMUNE,
    target: float | None = None,
    by_gap: bool = False,
) -> list[RankedUnit]:
    """Units of ``level`` under ``unit`` with figures, highest online rate first (ties: more dossiers first);
    with ``by_gap``, the furthest below ``target`` first (the units most in need of help)."""
    figures = rates_by_unit(actor, unit, period, level=level)
    units = {u.id: u for u in db.session.scalars(sa.select(AdminUnit).where(AdminUnit.id.in_(figures)))}
    ordered = sorted(
        ((units[uid], f) for uid, f in figures.items() if f.total > 0),
        key=lambda item: (-(item[1].rate or 0), -item[1].total, item[0].sort_key),
    )
    if by_gap:  # one target for the unit's province: the lowest rate is the largest gap
        ordered.sort(key=lambda item: (item[1].rate or 0, -item[1].total, item[0].sort_key))
    return [
        RankedUnit(u, f, index, None if target is None or f.rate is None else target - f.rate)
        for index, (u, f) in enumerate(ordered, start=1)
    ]


@dataclass
class TrendPoint:
    start: date
    end: date
    kind: str
    figures: Figures


def trend(actor: User, unit: AdminUnit, period: Period) -> list[TrendPoint]:
    """The unit's figures per period. Where some agencies report months and others quarters (or years),
    the months are added up into the coarser periods, so one line never mixes them; figures for an odd
    range of days cannot be placed and are left out."""
    stmt = (
        _current_stats(actor, unit, period)
        .with_only_columns(SubmissionStat.period_start, SubmissionStat.period_end, SubmissionStat.period_kind, *_sums())
        .group_by(SubmissionStat.period_start, SubmissionStat.period_end, SubmissionStat.period_kind)
        .order_by(SubmissionStat.period_start, SubmissionStat.period_end)
    )
    points = [TrendPoint(start, end, kind, _figures(rest)) for start, end, kind, *rest in db.session.execute(stmt)]
    kinds = {p.kind for p in points} - {PeriodKind.RANGE}
    if kinds <= {PeriodKind.MONTH}:
        return [p for p in points if p.kind == PeriodKind.MONTH]
    coarse = PeriodKind.YEAR if PeriodKind.YEAR in kinds else PeriodKind.QUARTER
    buckets: dict[date, TrendPoint] = {}
    for p in points:
        if p.kind == PeriodKind.RANGE:
            continue
        if coarse == PeriodKind.YEAR:
            start, end = date(p.start.year, 1, 1), date(p.start.year, 12, 31)
        else:
            first = 3 * ((p.start.month - 1) // 3) + 1
            start, end = date(p.start.year, first, 1), month_end(p.start.year, first + 2)
        bucket = buckets.setdefault(start, TrendPoint(start, end, coarse, Figures()))
        bucket.figures.add(p.figures)
    return [buckets[key] for key in sorted(buckets)]


def agency_rows(actor: User, agency: Agency, period: Period | None = None) -> list[SubmissionStat]:
    """Every row behind an agency's figures (current and replaced), newest import first: the trace."""
    stmt = (
        sa.select(SubmissionStat)
        .where(SubmissionStat.agency_id == agency.id)
        .options(sa.orm.joinedload(SubmissionStat.batch))
        .order_by(
            SubmissionStat.period_start, SubmissionStat.replaced_by_batch_id.is_not(None), SubmissionStat.id.desc()
        )
    )
    if period is not None:
        stmt = stmt.where(SubmissionStat.period_start >= period.start, SubmissionStat.period_end <= period.end)
    return list(db.session.scalars(stmt))


# --- Outreach against outcome -------------------------------------------------------------------------------


@dataclass
class ImpactRow:
    unit: AdminUnit
    households: int
    visited: int
    activated: int
    people_helped: int
    before: Figures
    after: Figures
    treated: bool

    @property
    def visited_share(self) -> float | None:
        return self.visited / self.households if self.households else None

    @property
    def activated_per_1000(self) -> float | None:
        return 1000 * self.activated / self.households if self.households else None

    @property
    def change(self) -> float | None:
        before, after = self.before.rate, self.after.rate
        return None if before is None or after is None else after - before


@dataclass
class ImpactReport:
    unit: AdminUnit
    period: Period
    outreach_start: date | None
    level: str
    rows: list[ImpactRow]
    commune_rows: list[ImpactRow]  # the communes compared (for a commune: itself only)
    correlation: RankCorrelation | None
    did: DiDEstimate | None
    overall: Figures | None = None  # the whole period's figures (a commune's page)
    # "Before" is before 1/7/2025 and "after" after it: the communes compared were reorganised in
    # between (on the 2025 structure, the former communes' figures are added up on today's).
    crosses_reform: bool = False


def outreach_start(actor: User, unit: AdminUnit) -> date | None:
    """When outreach began in the unit: the first campaign's first month, else the first visit's."""
    first_campaign = db.session.scalar(
        sa.select(sa.func.min(Campaign.starts_on))
        .join(AdminUnit, AdminUnit.id == Campaign.commune_id)
        .where(AdminUnit.path.startswith(unit.path, autoescape=True), unit_in_scope(actor))
    )
    if first_campaign is None:
        first_visit = db.session.scalar(
            sa.select(sa.func.min(VisitRecord.device_time))
            .join(Household, Household.id == VisitRecord.household_id)
            .join(AdminUnit, AdminUnit.id == Household.village_id)
            .where(AdminUnit.path.startswith(unit.path, autoescape=True), unit_in_scope(actor))
        )
        first_campaign = first_visit.date() if first_visit else None
    return first_campaign.replace(day=1) if first_campaign else None


def split_period(period: Period, split: date | None) -> tuple[Period | None, Period | None]:
    """The months before outreach began and from then on, inside ``period``; None when it began outside."""
    if split is None or not period.start < split <= period.end:
        return None, None
    previous = date(split.year - (split.month == 1), (split.month - 2) % 12 + 1, 1)
    return Period(period.start, month_end(previous.year, previous.month)), Period(split, period.end)


def _unit_figures(actor: User, unit: AdminUnit, period: Period | None) -> Figures:
    if period is None:
        return Figures()
    return _figures(db.session.execute(_current_stats(actor, unit, period).with_only_columns(*_sums())).one())


def impact(actor: User, unit: AdminUnit, period: Period, *, start: date | None = None) -> ImpactReport:
    """Outreach per commune (or per village of a commune) against the commune's online rate before and
    after outreach began; the rank correlation of coverage with the change in rate; and a difference in
    differences of communes with outreach against communes without, over the same months."""
    split = start or outreach_start(actor, unit)
    before_period, after_period = split_period(period, split)
    crosses = (
        before_period is not None and after_period is not None and before_period.start < REFORM_DATE <= after_period.end
    )
    level = Level.VILLAGE if unit.level == Level.COMMUNE else Level.COMMUNE
    # With outreach: someone met by a current visit in the "after" months themselves (a visit after them
    # cannot explain them), counted in the same pass over the area's visits as the coverage.
    window = None
    if level == Level.COMMUNE and before_period is not None and after_period is not None:
        window = (day_start(after_period.start), day_end(after_period.end))
    outreach = coverage(actor, unit, level, reached_between=window)
    units = {
        u.id: u for u in db.session.scalars(sa.select(AdminUnit).where(AdminUnit.id.in_([c.id for c in outreach])))
    }
    if window is not None and before_period is not None and after_period is not None:
        before = rates_by_unit(actor, unit, before_period, level=level)
        after = rates_by_unit(actor, unit, after_period, level=level)
        treated: set[int] | None = {c.id for c in outreach if c.reached_in}
    else:  # villages have no agencies: their rates stay empty, the commune's are on its own row
        before, after, treated = {}, {}, None
    rows = [
        ImpactRow(
            units[c.id],
            c.households,
            c.visited,
            c.activated,
            c.people_helped,
            before.get(c.id, Figures()),
            after.get(c.id, Figures()),
            c.id in treated if treated is not None else c.visited > 0,
        )
        for c in outreach
    ]
    if unit.level == Level.COMMUNE:
        commune = ImpactRow(
            unit,
            sum(r.households for r in rows),
            sum(r.visited for r in rows),
            sum(r.activated for r in rows),
            sum(r.people_helped for r in rows),
            _unit_figures(actor, unit, before_period),
            _unit_figures(actor, unit, after_period),
            any(r.treated for r in rows),
        )
        overall = _unit_figures(actor, unit, period)
        return ImpactReport(unit, period, split, level, rows, [commune], None, None, overall, crosses)
    correlation = did = None
    if before_period is not None:
        correlation = rank_correlation([r.visited_share for r in rows], [r.change for r in rows])
        did = difference_in_differences(
            [
                UnitRates(
                    r.unit.id, r.unit.name, r.treated, r.before.online, r.before.total, r.after.online, r.after.total
                )
                for r in rows
                if r.before.has_data or r.after.has_data
            ]
        )
    return ImpactReport(unit, period, split, level, rows, rows, correlation, did, crosses_reform=crosses)


@dataclass
class PeriodRow:
    agency: str
    code: str
    unit: str
    start: date
    end: date
    figures: Figures
    filename: str
    line: int


def period_rows(actor: User, unit: AdminUnit, period: Period) -> list[PeriodRow]:
    """Every current figure under the unit, by agency and period, with the file and line it came from."""
    linked = sa.orm.aliased(AdminUnit, name="linked")
    stmt = (
        _current_stats(actor, unit, period)
        .join(ImportBatch, ImportBatch.id == SubmissionStat.batch_id)
        .outerjoin(linked, linked.id == Agency.unit_id)
        .with_only_columns(
            Agency.name,
            Agency.code,
            linked.name,
            SubmissionStat.period_start,
            SubmissionStat.period_end,
            SubmissionStat.total,
            SubmissionStat.online,
            SubmissionStat.fully_online,
            SubmissionStat.partly_online,
            SubmissionStat.paid_online,
            ImportBatch.filename,
            SubmissionStat.source_line,
        )
        .order_by(Agency.name, SubmissionStat.period_start)
    )
    return [
        PeriodRow(
            name,
            code,
            unit_name or "",
            start,
            end,
            Figures(
                t,
                o,
                f,
                p,
                paid,
                1,
                o if f is not None else 0,
                o if p is not None else 0,
                t if paid is not None else 0,
            ),
            filename,
            line,
        )
        for name, code, unit_name, start, end, t, o, f, p, paid, filename, line in db.session.execute(stmt)
    ]
