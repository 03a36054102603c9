"""Finding units: search by name (and former names), children, roots of a person's area."""

import sqlalchemy as sa

from outreach.auth.models import Role, User
from outreach.auth.scope import (
    unit_in_scope,
)
from outreach.extensions import db
from outreach.geo.models import (
    AdminUnit,
    FormerUnit,
    Household,
    Level,
    Succession,
)
from outreach.text import fold

# --- units -----------------------------------------------------------------------------------


def word_starts(column, word: str):
    """``column`` (folded text) has a word starting with ``word``."""
    return sa.or_(column.startswith(word, autoescape=True), column.contains(f" {word}", autoescape=True))


def search_units(actor: User, query: str, *, level: str | None = None, limit: int = 30) -> list[AdminUnit]:
    """Units in scope whose name contains the query, ignoring diacritics and case; then today's
    communes that a commune of that name before 1/7/2025 went into ("Tân Hà": Phường Minh Xuân)."""
    words = fold(query).split()
    stmt = sa.select(AdminUnit).where(unit_in_scope(actor))
    for word in words:
        # Words match from their start: "ha" finds "Tân Hà", not "Tân Thành".
        stmt = stmt.where(word_starts(AdminUnit.name_folded, word))
    if level:
        stmt = stmt.where(AdminUnit.level == level)
    order = sa.case({Level.PROVINCE: 0, Level.DISTRICT: 1, Level.COMMUNE: 2}, value=AdminUnit.level, else_=3)
    found = list(db.session.scalars(stmt.order_by(order, AdminUnit.sort_key, AdminUnit.id).limit(limit)))
    if words and len(found) < limit and level in (None, Level.COMMUNE):
        seen = {u.id for u in found}
        formerly = (
            sa.select(Succession.unit_id)
            .join(FormerUnit, FormerUnit.id == Succession.former_id)
            .where(*(word_starts(FormerUnit.name_folded, word) for word in words))
        )
        successors = (
            sa.select(AdminUnit)
            .where(AdminUnit.id.in_(formerly), unit_in_scope(actor))
            .order_by(AdminUnit.sort_key, AdminUnit.id)
            .limit(limit)
        )
        found += [u for u in db.session.scalars(successors) if u.id not in seen][: limit - len(found)]
    return found


def former_names(units: list[AdminUnit], query: str) -> dict[int, list[str]]:
    """For units a search found only through a former commune's name: those names ("Phường Tân Hà"),
    by unit id."""
    words = fold(query).split()
    wanted = [u.id for u in units if u.level == Level.COMMUNE and not all(_starts(u.name_folded, w) for w in words)]
    if not words or not wanted:
        return {}
    rows = db.session.execute(
        sa.select(Succession.unit_id, FormerUnit.name)
        .join(FormerUnit, FormerUnit.id == Succession.former_id)
        .where(Succession.unit_id.in_(wanted), *(word_starts(FormerUnit.name_folded, word) for word in words))
        .order_by(FormerUnit.sort_key, FormerUnit.id)
    )
    names: dict[int, list[str]] = {}
    for unit_id, name in rows:
        names.setdefault(unit_id, []).append(name)
    return names


# Kind words a resident may type before a commune's name ("Phường Tân Hà", "thi tran Na Hang").
COMMUNE_KIND_WORDS = (("thi", "tran"), ("dac", "khu"), ("phuong",), ("xa",))


def strip_commune_kind(query: str) -> list[str]:
    """The folded words of a commune's name as typed, without a leading kind word."""
    words = fold(query).split()
    for kind in COMMUNE_KIND_WORDS:
        if len(words) > len(kind) and tuple(words[: len(kind)]) == kind:
            return words[len(kind) :]
    return words


def find_communes_by_name(query: str, *, limit: int = 20) -> tuple[list[AdminUnit], dict[int, list[str]]]:
    """For the public help form (no one signed in): communes whose name has words starting with
    what was typed (a leading "xã"/"phường"/"thị trấn"/"đặc khu" left out), then today's communes a
    former commune of that name went into; with those former names by unit id."""
    words = strip_commune_kind(query)[:4]
    if not words or len("".join(words)) < 2:
        return [], {}
    stmt = sa.select(AdminUnit).where(
        AdminUnit.level == Level.COMMUNE, *(word_starts(AdminUnit.name_folded, w) for w in words)
    )
    found = list(db.session.scalars(stmt.order_by(AdminUnit.dataset, AdminUnit.sort_key, AdminUnit.id).limit(limit)))
    if len(found) < limit:
        seen = {u.id for u in found}
        formerly = (
            sa.select(Succession.unit_id)
            .join(FormerUnit, FormerUnit.id == Succession.former_id)
            .where(*(word_starts(FormerUnit.name_folded, w) for w in words))
        )
        successors = db.session.scalars(
            sa.select(AdminUnit)
            .where(AdminUnit.id.in_(formerly), AdminUnit.level == Level.COMMUNE)
            .order_by(AdminUnit.sort_key, AdminUnit.id)
            .limit(limit)
        )
        found += [u for u in successors if u.id not in seen][: limit - len(found)]
    return found, former_names(found, " ".join(words))


def _starts(folded: str, word: str) -> bool:
    return folded.startswith(word) or f" {word}" in folded


def child_units(actor: User, unit: AdminUnit) -> list[tuple[AdminUnit, int]]:
    """The children of a unit in scope, each with its number of households (not erased)."""
    village = sa.orm.aliased(AdminUnit)
    counts = (
        sa.select(sa.func.count(Household.id))
        .join(village, Household.village_id == village.id)
        .where(village.path.startswith(AdminUnit.path, autoescape=False), Household.erased_at.is_(None))
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(AdminUnit, counts)
        .where(AdminUnit.parent_id == unit.id, unit_in_scope(actor))
        .order_by(AdminUnit.sort_key)
    )
    return [(u, n) for u, n in rows]


def root_units(actor: User) -> list[AdminUnit]:
    """Where browsing starts: the actor's own unit, or every province for an admin."""
    if actor.role != Role.ADMIN:
        return [actor.scope_unit] if actor.scope_unit is not None else []
    return list(
        db.session.scalars(
            sa.select(AdminUnit)
            .where(AdminUnit.level == Level.PROVINCE)
            .order_by(AdminUnit.dataset, AdminUnit.sort_key)
        )
    )
