"""Receiving agencies: names as case-handling systems write them, matched to administrative units.

"UBND xã Tân Hà", "Ủy ban nhân dân xã Tân Hà" and "UBND Xa Tan Ha" are one agency, linked to the
commune Tân Hà when exactly one commune of the province has that name. A name that fits several
units, or none, is kept unresolved for a person to choose: never guessed.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from outreach.audit.services import record_event
from outreach.auth.models import Role, User
from outreach.auth.scope import get_unit, require_role
from outreach.errors import Forbidden, NotFound, ValidationError
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Level
from outreach.reports.models import Agency, AgencyKind, AgencyStatus, SubmissionStat
from outreach.text import clean, fold, fold_key, sort_key

_COMMITTEE = re.compile(r"^(uy ban nhan dan|ubnd)\b\s*")
# Longest first: "thi xa" is a district-level town, "xa" a commune.
_LEVEL_WORDS = (
    ("thi tran", AgencyKind.COMMUNE),
    ("phuong", AgencyKind.COMMUNE),
    ("xa", AgencyKind.COMMUNE),
    ("thanh pho", AgencyKind.DISTRICT),
    ("thi xa", AgencyKind.DISTRICT),
    ("huyen", AgencyKind.DISTRICT),
    ("quan", AgencyKind.DISTRICT),
    ("tp", AgencyKind.DISTRICT),
    ("tinh", AgencyKind.PROVINCE),
)
_DEPARTMENT_WORDS = (
    "so",
    "ban",
    "chi cuc",
    "cuc",
    "cong an",
    "van phong",
    "bao hiem",
    "kho bac",
    "trung tam",
    "thanh tra",
    "bo chi huy",
    "toa an",
    "vien kiem sat",
    "chi nhanh",
    "doi",
    "phong",
    "department",
    "office",
)
_KIND_LEVELS: dict[str | None, tuple[Level, ...]] = {
    AgencyKind.COMMUNE: (Level.COMMUNE,),
    AgencyKind.DISTRICT: (Level.DISTRICT,),
    AgencyKind.PROVINCE: (Level.PROVINCE,),
}


@dataclass(frozen=True)
class AgencyName:
    """What a written agency name says: its kind, the unit's name without prefixes, and an optional
    parent ("UBND xã Tân Hà, huyện Hàm Yên") that tells two communes of the same name apart."""

    kind: str | None  # None: a committee of unknown level ("UBND Tân Hà")
    key: str  # folded: "tan thanh"
    parent_key: str = ""
    exact: str = ""  # as written, lower case, diacritics kept: "tân thành" (Tân Thanh is another commune)

    @property
    def name_key(self) -> str:
        key = f"{self.kind or 'committee'}:{self.exact or self.key}"
        return f"{key}@{self.parent_key}" if self.parent_key else key


def agencies_in_scope(actor: User) -> sa.Select:
    """Receiving agencies whose unit is in the actor's subtree. An agency not linked to a unit (a
    department, or a name still to resolve) belongs to its province: only province-wide users see it."""
    home = sa.orm.aliased(AdminUnit)
    stmt = sa.select(Agency).join(home, home.id == sa.func.coalesce(Agency.unit_id, Agency.province_id))
    if actor.role == Role.ADMIN:
        return stmt
    if actor.scope_unit is None:
        return stmt.where(sa.false())
    return stmt.where(home.path.startswith(actor.scope_unit.path, autoescape=True))


def _strip_level(words: str) -> tuple[str | None, str]:
    for word, kind in _LEVEL_WORDS:
        if words == word:
            return kind, ""
        if words.startswith(word + " "):
            return kind, words[len(word) + 1 :]
    return None, words


def parse_agency_name(name: str) -> AgencyName:
    """Read an agency name the way a clerk would (without diacritics, case or punctuation)."""
    parts = re.split(r"\s*[,;(]\s*|\s+-\s+", clean(name), maxsplit=1)
    main, rest = parts[0], (parts[1] if len(parts) > 1 else "")
    words = fold_key(main)
    committee = _COMMITTEE.match(words)
    if committee:
        words = words[committee.end() :]
    kind, key = _strip_level(words)
    exact = _as_written(main, key)
    if kind is None and not committee and any(words == w or words.startswith(w + " ") for w in _DEPARTMENT_WORDS):
        return AgencyName(AgencyKind.DEPARTMENT, words, exact=_as_written(main, words))
    if kind is None and not committee:
        # A bare name ("Tân Hà"): most exports list communes' committees this way.
        return AgencyName(None, words, exact=exact)
    parent_key = ""
    if rest and kind in (AgencyKind.COMMUNE, None):
        _parent_kind, parent_key = _strip_level(fold_key(rest))
    return AgencyName(kind, key, parent_key, exact)


def _as_written(text: str, key: str) -> str:
    """The last words of ``text`` that fold to ``key``, with their diacritics; "" when written without any."""
    words = re.findall(r"[^\W_]+", clean(text).lower())
    count = len(key.split())
    tail = words[len(words) - count :] if count else []
    if not tail or [fold(w) for w in tail] != key.split():
        return ""
    written = " ".join(tail)
    return written if written != key else ""


@dataclass
class Matcher:
    """Matches agency names to the units of one province; loads the province's units once."""

    province: AdminUnit
    by_name: dict[tuple[str, str], list[AdminUnit]] = field(default_factory=dict)
    by_exact: dict[tuple[str, str], list[AdminUnit]] = field(default_factory=dict)
    by_code: dict[str, AdminUnit] = field(default_factory=dict)
    agencies: dict[str, Agency] = field(default_factory=dict)
    agencies_by_code: dict[str, Agency] = field(default_factory=dict)

    def __post_init__(self) -> None:
        units = db.session.scalars(
            sa.select(AdminUnit).where(
                AdminUnit.path.startswith(self.province.path, autoescape=True), AdminUnit.level != Level.VILLAGE
            )
        )
        for unit in units:
            # By its short name and by its full name without the level word ("Thành phố Tuyên Quang").
            for name in _names_of(unit) - {""}:
                self.by_name.setdefault((unit.level, name), []).append(unit)
            for name in _exact_names_of(unit) - {""}:
                self.by_exact.setdefault((unit.level, name), []).append(unit)
            self.by_code[unit.code] = unit
        for agency in db.session.scalars(sa.select(Agency).where(Agency.province_id == self.province.id)):
            self.agencies[agency.name_key] = agency
            if agency.code:
                self.agencies_by_code[agency.code] = agency

    def candidates(self, parsed: AgencyName) -> list[AdminUnit]:
        if parsed.kind == AgencyKind.DEPARTMENT:
            return []
        levels = _KIND_LEVELS.get(parsed.kind, (Level.COMMUNE, Level.DISTRICT))
        found = []
        if parsed.exact:  # written with diacritics: "Tân Thành" is not "Tân Thanh"
            found = [unit for level in levels for unit in self.by_exact.get((level, parsed.exact), [])]
        if not found:
            found = [unit for level in levels for unit in self.by_name.get((level, parsed.key), [])]
        if parsed.parent_key and len(found) > 1:
            narrowed = [u for u in found if u.parent and parsed.parent_key in _names_of(u.parent)]
            found = narrowed or found
        return found

    def agency_for(self, name: str, code: str = "", *, now: datetime) -> Agency:
        """The agency this row names: known by code or name, else created, linked if exactly one unit fits."""
        code = clean(code)[:40]  # as stored, so the next import finds it
        if code and code in self.agencies_by_code:
            return self.agencies_by_code[code]
        parsed = parse_agency_name(name)
        if not parsed.key and not code:
            raise ValueError("empty agency name")
        if parsed.kind == AgencyKind.DEPARTMENT:
            # "Phong Điền", "Đội Cấn": a commune's bare name can start like "Phòng", "Đội"; units first.
            as_unit = AgencyName(None, parsed.key, exact=parsed.exact)
            if self.candidates(as_unit):
                parsed = as_unit
        if code and code in self.by_code and not parsed.key:
            unit = self.by_code[code]
            parsed = AgencyName(_kind_of(unit), fold_key(unit.short_name or unit.name))
        # Only a code, of no unit: the code is the agency (two unknown codes are two agencies).
        name_key = (parsed.name_key if parsed.key else f"code:{code}")[:255]
        agency = self.agencies.get(name_key)
        if agency is not None:
            if code and not agency.code:
                agency.code = code
                self.agencies_by_code[code] = agency
            return agency
        agency = Agency(
            province_id=self.province.id,
            name=clean(name)[:255] or code,
            name_key=name_key,
            code=code,
            created_at=now,
        )
        if parsed.kind == AgencyKind.DEPARTMENT:
            agency.kind, agency.status = AgencyKind.DEPARTMENT, AgencyStatus.NOT_A_UNIT
        else:
            units = [self.by_code[code]] if code in self.by_code else (self.candidates(parsed) if parsed.key else [])
            if len(units) == 1:
                agency.kind, agency.status, agency.unit_id = _kind_of(units[0]), AgencyStatus.LINKED, units[0].id
            else:
                agency.kind = parsed.kind or AgencyKind.COMMUNE
                agency.status = AgencyStatus.UNRESOLVED
                agency.candidate_ids = [u.id for u in units]
        db.session.add(agency)
        self.agencies[name_key] = agency
        if code:
            self.agencies_by_code[code] = agency
        return agency


def _exact_names_of(unit: AdminUnit) -> set[str]:
    short = " ".join(re.findall(r"[^\W_]+", clean(unit.short_name or unit.name).lower()))
    full = " ".join(re.findall(r"[^\W_]+", clean(unit.name).lower()))
    return {short, _as_written(full, _strip_level(fold_key(unit.name))[1]) or full}


def _names_of(unit: AdminUnit) -> set[str]:
    return {fold_key(unit.short_name or unit.name), _strip_level(fold_key(unit.name))[1]}


def _kind_of(unit: AdminUnit) -> str:
    return {
        Level.COMMUNE: AgencyKind.COMMUNE,
        Level.DISTRICT: AgencyKind.DISTRICT,
        Level.PROVINCE: AgencyKind.PROVINCE,
    }.get(Level(unit.level), AgencyKind.COMMUNE)


def list_agencies(actor: User, *, status: str = "") -> list[Agency]:
    """Agencies the actor may see, unresolved first, then by name."""
    stmt = agencies_in_scope(actor)
    if status:
        stmt = stmt.where(Agency.status == status)
    agencies = list(db.session.scalars(stmt.options(sa.orm.selectinload(Agency.unit).selectinload(AdminUnit.parent))))
    # Vietnamese order (Bạch Xa before Bình An, Đ after D), unresolved first.
    agencies.sort(key=lambda a: (a.status != AgencyStatus.UNRESOLVED, sort_key(a.name)))
    return agencies


def get_agency(actor: User, agency_id: int) -> Agency:
    agency = db.session.scalar(agencies_in_scope(actor).where(Agency.id == agency_id))
    if agency is None:
        raise NotFound(agency_id)
    return agency


def candidates_by_agency(agencies: list[Agency]) -> dict[int, list[AdminUnit]]:
    """The units offered for each unresolved agency, in one query."""
    wanted = {uid for a in agencies for uid in (a.candidate_ids or [])}
    units = (
        {
            u.id: u
            for u in db.session.scalars(
                sa.select(AdminUnit).where(AdminUnit.id.in_(wanted)).options(sa.orm.selectinload(AdminUnit.parent))
            )
        }
        if wanted
        else {}
    )
    return {
        a.id: sorted((units[uid] for uid in a.candidate_ids or [] if uid in units), key=lambda u: u.path)
        for a in agencies
    }


def candidates_of(agency: Agency) -> list[AdminUnit]:
    if not agency.candidate_ids:
        return []
    return list(
        db.session.scalars(sa.select(AdminUnit).where(AdminUnit.id.in_(agency.candidate_ids)).order_by(AdminUnit.path))
    )


def resolve_agency(actor: User, agency: Agency, *, unit_id: int | None, not_a_unit: bool, now: datetime) -> Agency:
    """A person's answer for an agency: the unit it serves, or "not an administrative unit". Province staff
    and administrators only: the answer moves figures between units, beyond a district's own."""
    require_role(actor, Role.STAFF)
    if actor.role != Role.ADMIN and (actor.scope_unit is None or actor.scope_unit.level != Level.PROVINCE):
        raise Forbidden(actor.role)
    unit: AdminUnit | None = None
    if not_a_unit:
        agency.status, agency.unit_id, agency.kind = AgencyStatus.NOT_A_UNIT, None, AgencyKind.DEPARTMENT
    else:
        if unit_id is None:
            raise ValidationError({"unit": [_("Choose the unit this agency serves.")]})
        unit = get_unit(actor, unit_id)
        if not unit.path.startswith(agency.province.path) or unit.level == Level.VILLAGE:
            raise ValidationError({"unit": [_("Choose a commune, district or the province of this agency.")]})
        clash = _double_count(agency, unit)
        if clash is not None:
            other, start = clash
            raise ValidationError(
                {
                    "unit": [
                        _(
                            "%(unit)s already has figures from “%(other)s” for the same months (from %(month)s): "
                            "linking this agency too would count them twice. Undo one of the imports first.",
                            unit=unit.name,
                            other=other,
                            month=start.strftime("%m/%Y"),
                        )
                    ]
                }
            )
        agency.status, agency.unit_id, agency.kind = AgencyStatus.LINKED, unit.id, _kind_of(unit)
    agency.resolved_by_id, agency.resolved_at = actor.id, now
    agency.candidate_ids = []
    record_event(
        actor,
        "agency_resolved",
        target=agency,
        detail={"label": agency.name, "unit": unit.name if unit is not None else ""},
        now=now,
    )
    db.session.flush()
    return agency


def _double_count(agency: Agency, unit: AdminUnit):
    """(another agency's name, a month) if another agency linked to ``unit`` has current figures for a
    period overlapping one of ``agency``'s, else None."""
    mine, theirs = sa.orm.aliased(SubmissionStat), sa.orm.aliased(SubmissionStat)
    other = sa.orm.aliased(Agency)
    row = db.session.execute(
        sa.select(other.name, mine.period_start)
        .select_from(mine)
        .join(theirs, sa.and_(theirs.period_start <= mine.period_end, mine.period_start <= theirs.period_end))
        .join(other, other.id == theirs.agency_id)
        .where(
            mine.agency_id == agency.id,
            mine.replaced_by_batch_id.is_(None),
            theirs.replaced_by_batch_id.is_(None),
            other.id != agency.id,
            other.unit_id == unit.id,
            other.status == AgencyStatus.LINKED,
        )
        .order_by(mine.period_start)
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])
