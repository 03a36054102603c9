"""The goal behind the whole effort: a province's target for the online-submission rate (80% unless the
province set another) with the day it is due, and how far each unit is from it.

The arithmetic (``gap_to_target``, ``online_needed``, ``recent_volume``) is plain functions over counts,
checkable by hand; the rest reads and writes the province's setting."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from flask import current_app, has_app_context
from flask_babel import format_decimal
from flask_babel import gettext as _

from outreach.audit.services import record_event
from outreach.auth.models import Role, User
from outreach.errors import Forbidden, ValidationError
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Level
from outreach.reports import services
from outreach.reports.models import OnlineTarget
from outreach.reports.tables import figures_text, pct

if TYPE_CHECKING:
    from outreach.reports.services import TrendPoint

DEFAULT_TARGET_PCT = 80.0


@dataclass(frozen=True)
class Target:
    """The target in force for a unit: its province's, or the default."""

    share: float  # 0..1
    due_on: date | None
    is_default: bool

    @property
    def pct(self) -> float:
        return round(100 * self.share, 2)


def default_target() -> Target:
    """``ONLINE_TARGET_PCT`` (80) with ``ONLINE_TARGET_DUE`` (a date, or none)."""
    config = current_app.config if has_app_context() else {}
    due = config.get("ONLINE_TARGET_DUE") or ""
    return Target(float(config.get("ONLINE_TARGET_PCT", DEFAULT_TARGET_PCT)) / 100, _day(due), True)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def province_of(unit: AdminUnit) -> AdminUnit:
    if unit.level == Level.PROVINCE:
        return unit
    return unit.ancestors()[0]


def target_for(unit: AdminUnit) -> Target:
    """The target of the unit's province (the default where the province set none)."""
    row = db.session.get(OnlineTarget, province_of(unit).id)
    if row is None:
        return default_target()
    return Target(row.target_pct / 100, row.due_on, False)


def may_set_target(actor: User, unit: AdminUnit) -> bool:
    """Province staff for their province, and administrators."""
    if unit.level != Level.PROVINCE:
        return False
    return actor.role == Role.ADMIN or (actor.role == Role.STAFF and actor.scope_unit_id == unit.id)


def set_target(actor: User, province: AdminUnit, *, pct: float | None, due_on: date | None, now: datetime) -> Target:
    """Set a province's target (a percentage above 0, at most 100) and the day it is due."""
    if not may_set_target(actor, province):
        raise Forbidden(actor.role)
    if pct is None or not 0 < pct <= 100:
        raise ValidationError({"target_pct": [_("Write the target as a percentage above 0 and at most 100.")]})
    row = db.session.get(OnlineTarget, province.id)
    if row is None:
        row = OnlineTarget(province_id=province.id, target_pct=pct)
        db.session.add(row)
    row.target_pct, row.due_on, row.set_by_id, row.set_at = pct, due_on, actor.id, now
    record_event(
        actor,
        "target.set",
        target=province,
        detail={"label": f"{pct:g}%" + (f" {due_on:%d/%m/%Y}" if due_on else "")},
        now=now,
    )
    db.session.flush()
    return Target(pct / 100, due_on, False)


# --- arithmetic --------------------------------------------------------------------------------------


def gap_to_target(rate: float | None, target: float) -> float | None:
    """How far a rate is below the target, as a share (0.12 = 12 points); negative above it; None for no data."""
    return None if rate is None else target - rate


def online_needed(online: int, total: int, target: float) -> int | None:
    """How many more of the same ``total`` dossiers would have to be online to reach ``target``
    (0 when it is reached); None when there were no dossiers."""
    if total <= 0:
        return None
    # A tolerance against float dust: 0.8 * 1000 is 800.0000000000001.
    return max(0, math.ceil(target * total - online - 1e-9))


@dataclass(frozen=True)
class Volume:
    """The dossiers of the latest months with figures: the "current volume"."""

    online: int
    total: int
    months: int
    first: date
    last: date

    def per_month(self, count: int) -> float:
        return count / self.months

    def needed_per_month(self, target: float) -> int | None:
        """More online dossiers a month that would reach ``target`` at this volume."""
        needed = online_needed(self.online, self.total, target)
        return None if needed is None else math.ceil(needed / self.months)


def _months(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


def recent_volume(points: "Sequence[TrendPoint]", months: int = 3) -> Volume | None:
    """The latest periods with dossiers, covering at least ``months`` months (three months, a quarter,
    a year, whichever the figures come in), added up; None when there are no dossiers at all."""
    chosen: list[TrendPoint] = []
    span = 0
    for point in reversed(points):
        if not point.figures.has_data:
            continue
        chosen.append(point)
        span += _months(point.start, point.end)
        if span >= months:
            break
    if not chosen:
        return None
    return Volume(
        online=sum(p.figures.online for p in chosen),
        total=sum(p.figures.total for p in chosen),
        months=span,
        first=chosen[-1].start,
        last=chosen[0].end,
    )


# --- on maps -----------------------------------------------------------------------------------------


def gap_detail(figures: services.Figures, target: Target) -> str:
    """What a unit's popup says about its distance to the target, with the counts behind it."""
    rate = figures.rate
    gap = gap_to_target(rate, target.share)
    if gap is None:
        return _("no data")
    if gap <= 0:
        return _("target of %(target)s reached: %(counts)s", target=pct(target.share, 0), counts=figures_text(figures))
    return _(
        "%(points)s points below the target of %(target)s: %(counts)s",
        points=format_decimal(round(100 * gap, 1)),
        target=pct(target.share, 0),
        counts=figures_text(figures),
    )


def gap_values(actor: User, unit: AdminUnit, level: str, period: services.Period) -> dict[int, tuple[float, str]]:
    """Per unit of ``level`` under ``unit``: the gap to the target in points (0 or less: reached) and the
    counts behind it, over ``period``."""
    target = target_for(unit)
    values = {}
    for uid, figures in services.rates_by_unit(actor, unit, period, level=level).items():
        gap = gap_to_target(figures.rate, target.share)
        if gap is not None:
            values[uid] = (round(100 * gap, 1), gap_detail(figures, target))
    return values
