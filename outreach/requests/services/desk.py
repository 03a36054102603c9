"""Walk-in help at the commune's one-stop desk."""

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from outreach.auth.models import Role, User
from outreach.auth.scope import get_household, require_role
from outreach.clock import local_today
from outreach.errors import Forbidden, NotFound, ValidationError
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Level
from outreach.requests.models import (
    DeskHelp,
)
from outreach.text import clean
from outreach.types import MAX_INTEGER
from outreach.visits.models import HELP_FACTS, SENSITIVE_OBSTACLES, Obstacle
from outreach.visits.sensitive import count_anonymously


@dataclass
class DeskInput:
    client_id: str
    people: int | None = 1
    done: list[str] = field(default_factory=list)
    obstacles: list[str] = field(default_factory=list)
    note: str = ""
    household_id: int | None = None


def desk_commune(actor: User) -> AdminUnit:
    """The commune whose desk the member or leader works at (their own)."""
    require_role(actor, Role.LEADER, Role.MEMBER)
    unit = actor.scope_unit
    while unit is not None and unit.level != Level.COMMUNE:
        unit = unit.parent
    if unit is None:
        raise Forbidden("no commune")
    return unit


def record_desk_help(actor: User, data: DeskInput, *, now: datetime) -> DeskHelp:
    """Walk-in help at the one-stop desk. The same form sent twice is stored once. A sensitive obstacle
    (a disability) is never kept with a household from the desk: with a household it is counted for the
    household's village and the day, linked to nobody (see ``sensitive_counted_apart``)."""
    commune = desk_commune(actor)
    client_id = clean(data.client_id)[:40]
    if client_id and (seen := db.session.scalar(sa.select(DeskHelp).where(DeskHelp.client_id == client_id))):
        return seen
    errors: dict[str, list[str]] = {}
    if not client_id:
        errors[""] = [_("The form expired: open it again.")]
    if data.people is None or not 1 <= data.people <= 50:
        errors["people"] = [_("How many people: a whole number from 1 to 50.")]
    if not data.done:
        errors["done"] = [_("Tick what was done.")]
    if set(data.done) - set(HELP_FACTS):
        errors["done"] = [_("Tick what was done.")]
    if set(data.obstacles) - {o.value for o in Obstacle}:
        errors["obstacles"] = [_("Unknown obstacle.")]
    if len(clean(data.note)) > 300:
        errors["note"] = [_("The note is too long (at most 300 characters).")]
    household = None
    if data.household_id is not None and not 1 <= data.household_id <= MAX_INTEGER:
        errors["household_id"] = [_("No such household in your area.")]
    elif data.household_id:
        try:
            household = get_household(actor, data.household_id)
        except NotFound:
            errors["household_id"] = [_("No such household in your area.")]
    if errors:
        raise ValidationError(errors)
    obstacles = set(data.obstacles)
    if household is not None:
        for code in sorted(SENSITIVE_OBSTACLES & obstacles):
            obstacles.discard(code)
            count_anonymously(household.village_id, local_today(now), code)
    row = DeskHelp(
        client_id=client_id, commune_id=commune.id, member_id=actor.id,
        household_id=household.id if household else None, helped_at=now, people=data.people,
        done=sorted(set(data.done)), obstacles=sorted(obstacles), note=clean(data.note), created_at=now,
    )  # fmt: skip
    try:
        with db.session.begin_nested():  # the same form sent twice at once: the other one stored it
            db.session.add(row)
    except IntegrityError:
        seen = db.session.scalar(sa.select(DeskHelp).where(DeskHelp.client_id == client_id))
        if seen is None:
            raise
        return seen
    return row


def sensitive_counted_apart(data: DeskInput) -> bool:
    """Whether the desk form's sensitive obstacles were counted anonymously (a household was named)."""
    return bool(data.household_id) and bool(SENSITIVE_OBSTACLES.intersection(data.obstacles))


def desk_recent(actor: User, *, limit: int = 20) -> list[DeskHelp]:
    commune = desk_commune(actor)
    stmt = sa.select(DeskHelp).where(DeskHelp.commune_id == commune.id)
    if actor.role == Role.MEMBER:
        stmt = stmt.where(DeskHelp.member_id == actor.id)
    return list(db.session.scalars(stmt.order_by(DeskHelp.helped_at.desc()).limit(limit)))
