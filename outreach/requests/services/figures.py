"""Requests received, answered and how fast, and help at the desk: counts for the campaign and impact pages."""

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from outreach.auth.models import User
from outreach.clock import day_end, day_start
from outreach.extensions import db
from outreach.geo.models import AdminUnit
from outreach.requests.models import (
    DeskHelp,
    HelpRequest,
    RequestStatus,
)
from outreach.text import fold
from outreach.visits.models import VisitRecord


@dataclass
class HelpFigures:
    received: int = 0
    answered: int = 0  # closed by a visit
    open: int = 0
    median_hours: float | None = None
    by_village: list[dict] = field(default_factory=list)
    by_member: list[dict] = field(default_factory=list)
    desk_records: int = 0
    desk_people: int = 0


def _median_hours(pairs: list[tuple[datetime, datetime]]) -> float | None:
    hours = [max((visit - asked).total_seconds() / 3600, 0) for asked, visit in pairs]
    return round(statistics.median(hours), 1) if hours else None


def help_figures(unit: AdminUnit, start: datetime | None = None, end: datetime | None = None) -> HelpFigures:
    """Requests received in a unit's subtree (and period), answered by a visit, the median time from
    request to visit, per village and per member; and help at the desk. Counts, no names of residents."""
    in_unit = AdminUnit.path.startswith(unit.path, autoescape=True)
    stmt = (
        sa.select(HelpRequest, VisitRecord.device_time, User)
        .join(AdminUnit, HelpRequest.commune_id == AdminUnit.id)
        .outerjoin(VisitRecord, VisitRecord.id == HelpRequest.visit_id)
        .outerjoin(User, User.id == HelpRequest.member_id)
        .where(in_unit, HelpRequest.status != RequestStatus.SPAM)
    )
    if start is not None:
        stmt = stmt.where(HelpRequest.created_at >= start)
    if end is not None:
        stmt = stmt.where(HelpRequest.created_at < end)
    figures = HelpFigures()
    villages: dict[int | None, dict] = {}
    members: dict[int, dict] = {}
    pairs: list[tuple[datetime, datetime]] = []
    names: dict[int | None, str] = {}
    for request, visited_at, member in db.session.execute(stmt):
        figures.received += 1
        figures.open += request.is_open
        village = villages.setdefault(request.village_id, {"received": 0, "answered": 0, "pairs": []})
        village["received"] += 1
        names.setdefault(request.village_id, request.village.name if request.village else "—")
        if member is not None:
            row = members.setdefault(
                member.id, {"name": member.full_name or member.username, "assigned": 0, "answered": 0, "pairs": []}
            )
            row["assigned"] += 1
        if visited_at is not None:
            figures.answered += 1
            village["answered"] += 1
            pair = (request.created_at, visited_at)
            pairs.append(pair)
            village["pairs"].append(pair)
            if member is not None:
                members[member.id]["answered"] += 1
                members[member.id]["pairs"].append(pair)
    figures.median_hours = _median_hours(pairs)
    figures.by_village = sorted(
        ({"name": names[k], "received": v["received"], "answered": v["answered"],
          "median_hours": _median_hours(v["pairs"])} for k, v in villages.items()),
        key=lambda r: fold(r["name"]),
    )  # fmt: skip
    figures.by_member = sorted(
        ({"name": v["name"], "assigned": v["assigned"], "answered": v["answered"],
          "median_hours": _median_hours(v["pairs"])} for v in members.values()),
        key=lambda r: fold(r["name"]),
    )  # fmt: skip
    desk = (
        sa.select(sa.func.count(DeskHelp.id), sa.func.coalesce(sa.func.sum(DeskHelp.people), 0))
        .join(AdminUnit, DeskHelp.commune_id == AdminUnit.id)
        .where(in_unit)
    )
    if start is not None:
        desk = desk.where(DeskHelp.helped_at >= start)
    if end is not None:
        desk = desk.where(DeskHelp.helped_at < end)
    figures.desk_records, figures.desk_people = db.session.execute(desk).one()
    return figures


def help_figures_between(unit: AdminUnit, first: date, last: date) -> HelpFigures:
    """The figures of requests made (and desk help given) from ``first`` to ``last``, local days."""
    return help_figures(unit, day_start(first), day_end(last))
