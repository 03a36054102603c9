"""Geographic scope, enforced here and only here: a user sees the subtree of their unit."""

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from outreach.auth.models import Role, User
from outreach.errors import Forbidden, NotFound
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Household, Level


def unit_in_scope(actor: User, unit=AdminUnit) -> ColumnElement[bool]:
    """A condition on ``AdminUnit`` (or an alias of it) true for the units in the actor's subtree."""
    if actor.role == Role.ADMIN:
        return sa.true()
    if actor.scope_unit is None:
        return sa.false()
    return unit.path.startswith(actor.scope_unit.path, autoescape=True)


def within_scope(actor: User, unit: AdminUnit) -> bool:
    """Whether ``unit`` is in the actor's subtree (the same rule as ``unit_in_scope``, for a unit in hand)."""
    if actor.role == Role.ADMIN:
        return True
    return actor.scope_unit is not None and unit.path.startswith(actor.scope_unit.path)


def households_under(unit: AdminUnit) -> sa.Select:
    """The ids of the households (not erased) of the villages under ``unit``: one filter by the units'
    path prefix. A page counts visits only of these, filtered before anything is aggregated, so it costs
    what its own area holds, however large the rest of the country is. Not a permission check: the
    caller has the unit through ``get_unit`` (or a campaign, a member) already."""
    village = sa.orm.aliased(AdminUnit)
    return (
        sa.select(Household.id)
        .join(village, village.id == Household.village_id)
        .where(village.path.startswith(unit.path, autoescape=True), Household.erased_at.is_(None))
    )


def households_in_area(actor: User, unit: AdminUnit | None) -> sa.Select:
    """``households_in_scope`` narrowed to the households under ``unit``, with the one path filter of the
    narrower of the two (two prefix filters on the same column make the planner expect one row and loop).
    A unit outside the actor's scope gives no household."""
    if unit is None:
        return households_in_scope(actor)
    if actor.role == Role.STAFF:
        raise Forbidden("staff see counts, not individual households")
    stmt = (
        sa.select(Household)
        .join(AdminUnit, Household.village_id == AdminUnit.id)
        .where(AdminUnit.path.startswith(unit.path, autoescape=True), Household.erased_at.is_(None))
    )
    return stmt if within_scope(actor, unit) else stmt.where(sa.false())


def get_unit(actor: User, unit_id: int) -> AdminUnit:
    """The unit if it is in the actor's subtree, else ``NotFound``."""
    unit = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.id == unit_id, unit_in_scope(actor)))
    if unit is None:
        raise NotFound(unit_id)
    return unit


def households_in_scope(actor: User, *, include_restricted: bool = False) -> sa.Select:
    """Households (not erased) of the villages in the actor's subtree. Staff see none. A household whose
    resident restricted or objected to the processing is kept but hidden, unless ``include_restricted``
    (its commune's leaders, who answer the request: outreach/privacy)."""
    if actor.role == Role.STAFF:
        raise Forbidden("staff see counts, not individual households")
    stmt = (
        sa.select(Household)
        .join(AdminUnit, Household.village_id == AdminUnit.id)
        .where(unit_in_scope(actor), Household.erased_at.is_(None))
    )
    if not (include_restricted and actor.role in (Role.ADMIN, Role.LEADER)):
        stmt = stmt.where(Household.restricted_at.is_(None))
    return stmt


def get_household(actor: User, household_id: int, *, include_restricted: bool = False) -> Household:
    """The household if the actor may see it, else ``NotFound`` (never a hint that it exists)."""
    if actor.role == Role.STAFF:
        raise NotFound(household_id)
    stmt = households_in_scope(actor, include_restricted=include_restricted)
    household = db.session.scalar(stmt.where(Household.id == household_id))
    if household is None:
        raise NotFound(household_id)
    return household


def visible_household_ids(actor: User) -> sa.Select:
    """The ids of the households the actor may see, to filter other lists by (staff: none)."""
    if actor.role == Role.STAFF:
        return sa.select(Household.id).where(sa.false())
    return households_in_scope(actor).with_only_columns(Household.id)


def require_role(actor: User, *roles: Role) -> None:
    if actor.role != Role.ADMIN and actor.role not in roles:
        raise Forbidden(actor.role)


def manageable_commune(actor: User, unit: AdminUnit) -> AdminUnit:
    """The commune whose villages and households ``actor`` may change, for a unit in it."""
    require_role(actor, Role.LEADER)
    commune: AdminUnit | None = unit
    while commune is not None and commune.level != Level.COMMUNE:
        commune = commune.parent
    if commune is None:
        raise NotFound(unit.id)
    if actor.role != Role.ADMIN and (actor.scope_unit is None or not commune.path.startswith(actor.scope_unit.path)):
        raise NotFound(unit.id)
    return commune


def village_choices(actor: User) -> list[AdminUnit]:
    """Villages the actor may put households in."""
    if actor.role == Role.STAFF:
        raise Forbidden(actor.role)
    return list(
        db.session.scalars(
            sa.select(AdminUnit)
            .where(AdminUnit.level == Level.VILLAGE, unit_in_scope(actor))
            .order_by(AdminUnit.parent_id, AdminUnit.sort_key)
            .limit(2000)
        )
    )
