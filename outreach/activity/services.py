"""Activity reports up the chain.

A commune's leader reviews the figures the app counted, adds a note (what went well, what blocked) and
submits: the figures are frozen as a snapshot. The level above (district staff; on the 2025 structure,
with no districts, the province) returns the report with a comment or approves it. A district's report
adds up the snapshots of its approved communes and names the others; its staff submit it to the
province, which sees its districts (or, on the 2025 structure, its communes) the same way.

A figure that changes after submission (a visit corrected, statistics imported again, another commune
approved) is never changed in the snapshot: the report shows "changed since submitted" with the
difference. Scope as everywhere: a unit outside the actor's subtree is "not found"."""

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from outreach.activity import figures as counting
from outreach.activity.models import ActivityReport, ActivityReportEvent, ReportStatus
from outreach.activity.periods import ReportPeriod
from outreach.audit.services import record_event
from outreach.auth.models import Role, User
from outreach.auth.scope import get_unit
from outreach.errors import Forbidden, NotFound, ValidationError
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Level
from outreach.reports.targets import Target, target_for

REPORTING_LEVELS = (Level.COMMUNE, Level.DISTRICT)
NOTE_LIMIT = 4000
COMMENT_LIMIT = 2000
NOT_STARTED = "none"  # no report at all for the period: shown as "not submitted"


def reporting_children(unit: AdminUnit) -> list[AdminUnit]:
    """The units whose reports ``unit`` adds up: a district's communes, a legacy province's districts,
    a 2025 province's communes (no districts since 1/7/2025)."""
    return list(
        db.session.scalars(
            sa.select(AdminUnit)
            .where(AdminUnit.parent_id == unit.id, AdminUnit.level.in_(REPORTING_LEVELS))
            .order_by(AdminUnit.sort_key)
        )
    )


def reviewer_unit(unit: AdminUnit) -> AdminUnit | None:
    """Whose staff approve the unit's report: the unit above it (a commune's district, or its province
    where there are no districts; a district's province)."""
    return unit.parent if unit.level in REPORTING_LEVELS else None


def get_report_unit(actor: User, unit_id: int) -> AdminUnit:
    """A commune, district or province in the actor's scope. Members see only their own figures."""
    if actor.role == Role.MEMBER:
        raise Forbidden(actor.role)
    unit = get_unit(actor, unit_id)
    if unit.level == Level.VILLAGE:
        raise NotFound(unit_id)
    return unit


def may_write(actor: User, unit: AdminUnit) -> bool:
    """A commune's leader writes and submits its report; a district's staff theirs (admins any)."""
    if unit.level not in REPORTING_LEVELS:
        return False
    if actor.role == Role.ADMIN:
        return True
    role = Role.LEADER if unit.level == Level.COMMUNE else Role.STAFF
    return actor.role == role and actor.scope_unit_id == unit.id


def may_review(actor: User, unit: AdminUnit) -> bool:
    """Staff of the unit above (or of a unit above that one) approve or return the unit's report."""
    above = reviewer_unit(unit)
    if above is None:
        return False
    if actor.role == Role.ADMIN:
        return True
    scope = actor.scope_unit
    return actor.role == Role.STAFF and scope is not None and above.path.startswith(scope.path)


def find_report(unit: AdminUnit, period: ReportPeriod) -> ActivityReport | None:
    return db.session.scalar(
        sa.select(ActivityReport).where(
            ActivityReport.unit_id == unit.id,
            ActivityReport.period_kind == period.kind,
            ActivityReport.period_start == period.start,
        )
    )


def get_report(actor: User, report_id: int) -> ActivityReport:
    """A report of a unit in the actor's scope, else ``NotFound``."""
    report = db.session.get(ActivityReport, report_id)
    if report is None:
        raise NotFound(report_id)
    get_report_unit(actor, report.unit_id)
    return report


@dataclass
class Part:
    """One of the units an aggregate report adds up, with its report for the period (if any)."""

    unit: AdminUnit
    report: ActivityReport | None

    @property
    def status(self) -> str:
        return self.report.status if self.report is not None else NOT_STARTED

    @property
    def counted(self) -> bool:
        return self.status == ReportStatus.APPROVED

    @property
    def figures(self) -> counting.Figures:
        """As approved (the snapshot), or empty."""
        if self.report is None or self.report.snapshot is None:
            return {}
        return self.report.snapshot["figures"]


def parts_of(unit: AdminUnit, period: ReportPeriod) -> list[Part]:
    children = reporting_children(unit)
    reports = {
        r.unit_id: r
        for r in db.session.scalars(
            sa.select(ActivityReport).where(
                ActivityReport.unit_id.in_([c.id for c in children]),
                ActivityReport.period_kind == period.kind,
                ActivityReport.period_start == period.start,
            )
        )
    }
    return [Part(child, reports.get(child.id)) for child in children]


def live_figures(actor: User, unit: AdminUnit, period: ReportPeriod) -> tuple[counting.Figures, list[Part]]:
    """A commune's figures counted now; for a district or province, the sum of its approved parts'
    snapshots, and every part (approved or not)."""
    if unit.level == Level.COMMUNE:
        return counting.unit_figures(actor, unit, period), []
    parts = parts_of(unit, period)
    return counting.add_up(p.figures for p in parts if p.counted), parts


def _snapshot(unit: AdminUnit, period: ReportPeriod, figures, parts: list[Part], target: Target) -> dict[str, Any]:
    """Everything the report says, as submitted: the figures, the target then, what was added up (with
    each part's own parts, so a province's file has a sheet per level) and what was missing."""
    return {
        "version": 1,
        "unit": {"id": unit.id, "code": unit.code, "name": unit.name, "level": unit.level},
        "period": period.key,
        "figures": figures,
        "target_pct": target.pct,
        "target_due": target.due_on.isoformat() if target.due_on else None,
        "parts": [
            {
                "unit_id": p.unit.id,
                "code": p.unit.code,
                "name": p.unit.name,
                "level": p.unit.level,
                "number": p.report.number if p.report else None,
                "figures": p.figures,
                "parts": (p.report.snapshot or {}).get("parts", []) if p.report else [],
            }
            for p in parts
            if p.counted
        ],
        "missing": [
            {"unit_id": p.unit.id, "code": p.unit.code, "name": p.unit.name, "status": p.status}
            for p in parts
            if not p.counted
        ],
    }


@dataclass
class ReportView:
    """What a report page (and its documents) shows."""

    unit: AdminUnit
    period: ReportPeriod
    report: ActivityReport | None
    figures: counting.Figures  # counted now
    parts: list[Part]
    target: Target
    may_write: bool
    may_review: bool
    live: dict[str, Any] = field(default_factory=dict)  # the snapshot it would be if submitted now
    changes: list[counting.Change] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.report.status if self.report is not None else NOT_STARTED

    @property
    def is_aggregate(self) -> bool:
        return self.unit.level != Level.COMMUNE

    @property
    def counted(self) -> list[Part]:
        return [p for p in self.parts if p.counted]

    @property
    def missing(self) -> list[Part]:
        return [p for p in self.parts if not p.counted]

    @property
    def submitted(self) -> counting.Figures | None:
        """The figures as submitted, when the report is with the level above or approved (or returned)."""
        if self.report is None or self.report.snapshot is None:
            return None
        return self.report.snapshot["figures"]

    @property
    def document(self) -> dict[str, Any]:
        """What the report's documents say: the snapshot as submitted once it is (submitted or approved),
        else the figures counted now."""
        if self.report is not None and self.report.is_submitted and self.report.snapshot is not None:
            return self.report.snapshot
        return self.live

    @property
    def shown(self) -> counting.Figures:
        """The figures the report stands on: as submitted once it is, else as counted now."""
        return self.document["figures"]

    @property
    def shown_target(self) -> float:
        """The target the report was measured against when submitted (it may have changed since)."""
        return self.document["target_pct"] / 100

    @property
    def reading(self) -> counting.Reading:
        return counting.read(self.shown, self.shown_target)


def report_view(actor: User, unit: AdminUnit, period: ReportPeriod) -> ReportView:
    """A unit's report for the period: figures counted now, the report's state, and what changed since
    it was submitted."""
    now_figures, parts = live_figures(actor, unit, period)
    report = find_report(unit, period)
    target = target_for(unit)
    view = ReportView(
        unit, period, report, now_figures, parts, target, may_write(actor, unit), may_review(actor, unit),
        live=_snapshot(unit, period, now_figures, parts, target),
    )  # fmt: skip
    if view.submitted is not None:
        view.changes = counting.changes(view.submitted, now_figures)
    return view


def _note(text: str | None, field_name: str, limit: int = NOTE_LIMIT) -> str:
    value = unicodedata.normalize("NFC", (text or "").replace("\x00", "")).strip()
    if len(value) > limit:
        raise ValidationError({field_name: [_("At most %(n)s characters.", n=limit)]})
    return value


def _report_to_write(actor: User, unit: AdminUnit, period: ReportPeriod, *, today: date, now: datetime):
    if not may_write(actor, unit):
        raise Forbidden(actor.role)
    if period.start > today:
        raise ValidationError({"period": [_("This period has not begun yet.")]})
    report = find_report(unit, period)
    if report is None:
        report = ActivityReport(
            unit_id=unit.id, period_kind=period.kind, period_start=period.start, period_end=period.end,
            status=ReportStatus.DRAFT, created_at=now, updated_at=now,
        )  # fmt: skip
        db.session.add(report)
    elif report.is_submitted:
        raise ValidationError(
            {"": [_("This report was already submitted: the level above returns it if it needs a change.")]}
        )
    return report


def save_note(
    actor: User, unit: AdminUnit, period: ReportPeriod, *, went_well: str, blocked: str, today: date, now: datetime
) -> ActivityReport:
    """Keep the leader's note on a report not yet submitted (or returned)."""
    went_well, blocked = _note(went_well, "went_well"), _note(blocked, "blocked")
    report = _report_to_write(actor, unit, period, today=today, now=now)
    report.went_well, report.blocked, report.updated_at = went_well, blocked, now
    db.session.flush()
    return report


def submit_report(
    actor: User, unit: AdminUnit, period: ReportPeriod, *, went_well: str, blocked: str, today: date, now: datetime
) -> ActivityReport:
    """Submit the report: the figures counted now are frozen with the note, and the report goes to the
    level above. A returned report is submitted again the same way (it keeps its number)."""
    went_well, blocked = _note(went_well, "went_well"), _note(blocked, "blocked")
    report = _report_to_write(actor, unit, period, today=today, now=now)
    figures, parts = live_figures(actor, unit, period)
    snapshot = _snapshot(unit, period, figures, parts, target_for(unit))
    if report.number is None:
        year = today.year
        last = db.session.scalar(
            sa.select(sa.func.max(ActivityReport.number)).where(
                ActivityReport.unit_id == unit.id, ActivityReport.number_year == year
            )
        )
        report.number, report.number_year = (last or 0) + 1, year
    report.went_well, report.blocked = went_well, blocked
    report.status, report.snapshot = ReportStatus.SUBMITTED, snapshot
    report.submitted_at, report.submitted_by_id, report.updated_at = now, actor.id, now
    report.reviewed_at, report.reviewed_by_id, report.review_comment = None, None, ""
    report.events.append(ActivityReportEvent(action="submitted", actor_id=actor.id, at=now, snapshot=snapshot))
    record_event(actor, "activity.submit", target=report, detail={"unit": unit.name, "label": period.key}, now=now)
    db.session.flush()
    return report


def _to_review(actor: User, report: ActivityReport) -> ActivityReport:
    if not may_review(actor, report.unit):
        raise Forbidden(actor.role)
    if report.status != ReportStatus.SUBMITTED:
        raise ValidationError({"": [_("Only a submitted report can be approved or returned.")]})
    return report


def return_report(actor: User, report_id: int, *, comment: str, now: datetime) -> ActivityReport:
    """Send a submitted report back with a comment saying what to correct."""
    report = _to_review(actor, get_report(actor, report_id))
    comment = _note(comment, "comment", COMMENT_LIMIT)
    if not comment:
        raise ValidationError({"comment": [_("Say what to correct: the comment goes back with the report.")]})
    report.status, report.review_comment = ReportStatus.RETURNED, comment
    report.reviewed_at, report.reviewed_by_id, report.updated_at = now, actor.id, now
    report.events.append(ActivityReportEvent(action="returned", actor_id=actor.id, at=now, comment=comment))
    record_event(actor, "activity.return", target=report, detail={"unit": report.unit.name}, now=now)
    db.session.flush()
    return report


def approve_report(actor: User, report_id: int, *, comment: str = "", now: datetime) -> ActivityReport:
    """Approve a submitted report: its snapshot now counts in the report of the level above."""
    report = _to_review(actor, get_report(actor, report_id))
    comment = _note(comment, "comment", COMMENT_LIMIT)
    report.status, report.review_comment = ReportStatus.APPROVED, comment
    report.reviewed_at, report.reviewed_by_id, report.updated_at = now, actor.id, now
    report.events.append(ActivityReportEvent(action="approved", actor_id=actor.id, at=now, comment=comment))
    record_event(actor, "activity.approve", target=report, detail={"unit": report.unit.name}, now=now)
    db.session.flush()
    return report


def reports_to_review(actor: User, *, limit: int = 200) -> list[ActivityReport]:
    """Submitted reports waiting for the actor's decision, oldest first."""
    if actor.role not in (Role.ADMIN, Role.STAFF):
        return []
    above = sa.orm.aliased(AdminUnit)
    stmt = (
        sa.select(ActivityReport)
        .join(AdminUnit, AdminUnit.id == ActivityReport.unit_id)
        .join(above, above.id == AdminUnit.parent_id)
        .where(ActivityReport.status == ReportStatus.SUBMITTED)
        .order_by(ActivityReport.submitted_at)
        .limit(limit)
    )
    if actor.role != Role.ADMIN:
        if actor.scope_unit is None:
            return []
        stmt = stmt.where(above.path.startswith(actor.scope_unit.path, autoescape=True))
    return list(db.session.scalars(stmt))
