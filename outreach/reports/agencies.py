"""Receiving agencies: names as case-handling systems write them, matched to administrative units.

"UBND xã Tân Hà", "Ủy ban nhân dân xã Tân Hà" and "UBND Xa Tan Ha" are one agency, linked to the
commune Tân Hà when exactly one commune of the province has that name. A name that fits several
units, or none, is kept unresolved for a person to choose: never guessed.

In a province on the 2025 structure, the period of a row tells which communes its names mean: before
1/7/2025 the former ones (a row of March 2024 saying "Minh Xuân" means the old ward, one of six in
today's Phường Minh Xuân), from then on today's. A former commune's figures count in the commune it
went into (its main successor if it was split, or the one a person chose), each former commune once.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Generic, TypeVar

import sqlalchemy as sa
from flask_babel import gettext as _

from outreach.audit.services import record_event
from outreach.auth.models import Role, User
from outreach.auth.scope import get_unit, require_role
from outreach.errors import Forbidden, NotFound, ValidationError
from outreach.extensions import db
from outreach.geo.crosswalk import ensure_crosswalk
from outreach.geo.models import REFORM_DATE, AdminUnit, FormerUnit, Level
from outreach.reports.models import Agency, AgencyKind, AgencyStatus, SubmissionStat
from outreach.text import clean, fold, fold_key, sort_key, spelling

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


class CrossesReform(ValueError):
    """A row of a province on the 2025 structure whose period starts before 1/7/2025 and ends after it:
    its agency names could mean a former commune or today's."""


@dataclass(frozen=True)
class AgencyName:
    """What a written agency name says: its kind, the unit's name without prefixes, and an optional
    parent ("UBND xã Tân Hà, huyện Hàm Yên") that tells two communes of the same name apart."""

    kind: str | None  # None: a committee of unknown level ("UBND Tân Hà")
    key: str  # folded: "tan thanh"
    parent_key: str = ""
    exact: str = ""  # as written, lower case, diacritics kept: "tân thành" (Tân Thanh is another commune)
    level_word: str = ""  # the level as written, folded: "phuong", "xa", "thi tran"
    parent_named: bool = False  # the parent was written with its level ("huyện Hàm Yên"): it rules others out

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


def _level_of(words: str) -> tuple[str | None, str, str]:
    """(kind, the words after the level word, the level word) of folded words."""
    for word, kind in _LEVEL_WORDS:
        if words == word:
            return kind, "", word
        if words.startswith(word + " "):
            return kind, words[len(word) + 1 :], word
    return None, words, ""


def _strip_level(words: str) -> tuple[str | None, str]:
    kind, rest, _word = _level_of(words)
    return kind, rest


def parse_agency_name(name: str) -> AgencyName:
    """Read an agency name the way a clerk would (without diacritics, case or punctuation)."""
    parts = re.split(r"\s*[,;(]\s*|\s+-\s+", clean(name), maxsplit=1)
    main, rest = parts[0], (parts[1] if len(parts) > 1 else "")
    words = fold_key(main)
    committee = _COMMITTEE.match(words)
    if committee:
        words = words[committee.end() :]
    kind, key, level_word = _level_of(words)
    exact = _as_written(main, key)
    if kind is None and not committee and any(words == w or words.startswith(w + " ") for w in _DEPARTMENT_WORDS):
        return AgencyName(AgencyKind.DEPARTMENT, words, exact=_as_written(main, words))
    parent_kind, parent_key, _word = _level_of(fold_key(rest)) if rest else (None, "", "")
    if kind is None and not committee:
        # A bare name ("Tân Hà"): most exports list communes' committees this way; a parent counts
        # only when written with its level ("Tân Thành, huyện Hàm Yên").
        if parent_kind is None:
            return AgencyName(None, words, exact=exact)
        return AgencyName(None, words, parent_key, exact, parent_named=True)
    if kind not in (AgencyKind.COMMUNE, None):
        parent_key, parent_kind = "", None
    return AgencyName(kind, key, parent_key, exact, level_word, parent_named=parent_kind is not None)


def _as_written(text: str, key: str) -> str:
    """The last words of ``text`` that fold to ``key``, with their diacritics; "" when written without any."""
    words = re.findall(r"[^\W_]+", clean(text).lower())
    count = len(key.split())
    tail = words[len(words) - count :] if count else []
    if not tail or [fold(w) for w in tail] != key.split():
        return ""
    written = " ".join(tail)
    return written if written != key else ""


_Place = TypeVar("_Place", AdminUnit, FormerUnit)


@dataclass
class _Names(Generic[_Place]):
    """Units (today's, or the former communes) of one province by level and name as a clerk writes
    them, each with the names of its parents and the level word of its kind."""

    by_name: dict[tuple[str, str], list[_Place]] = field(default_factory=dict)
    by_exact: dict[tuple[str, str], list[_Place]] = field(default_factory=dict)
    by_code: dict[str, _Place] = field(default_factory=dict)
    parents: dict[int, set[str]] = field(default_factory=dict)
    kinds: dict[int, str] = field(default_factory=dict)

    def add(self, item: _Place, level: str, full: str, short: str, code: str, parents: set[str]) -> None:
        for name in {fold_key(short or full), _strip_level(fold_key(full))[1]} - {""}:
            self.by_name.setdefault((level, name), []).append(item)
        for name in _exact_names(full, short) - {""}:
            self.by_exact.setdefault((level, name), []).append(item)
        self.by_code[code] = item
        self.parents[id(item)] = parents
        self.kinds[id(item)] = _level_of(fold_key(full))[2]

    def find(self, parsed: AgencyName, levels: tuple[str, ...]) -> tuple[list[_Place], bool]:
        """The units the name fits, and whether it fits exactly one with nothing written against it."""
        sure = True
        found: list[_Place] = []
        if parsed.exact:
            exact = spelling(parsed.exact)  # "Hoà" and "Hòa" are one spelling
            found = [unit for level in levels for unit in self.by_exact.get((level, exact), [])]
            # Written with diacritics that no unit's name has ("Tân Thành" where only Tân Thanh is).
            sure = bool(found)
        if not found:
            found = [unit for level in levels for unit in self.by_name.get((level, parsed.key), [])]
        if parsed.parent_key and found:
            narrowed = [u for u in found if parsed.parent_key in self.parents[id(u)]]
            if narrowed:
                found = narrowed
            elif parsed.parent_named:
                sure = False  # "huyện Yên Sơn" rules out units of other districts
        if parsed.level_word and len(found) > 1:
            found = [u for u in found if self.kinds[id(u)] == parsed.level_word] or found
        return found, sure and len(found) == 1


def _exact_names(full: str, short: str) -> set[str]:
    short_words = " ".join(re.findall(r"[^\W_]+", clean(short or full).lower()))
    full_words = " ".join(re.findall(r"[^\W_]+", clean(full).lower()))
    return {
        spelling(short_words),
        spelling(_as_written(full_words, _strip_level(fold_key(full))[1]) or full_words),
    }


def _parent_names(*names: str) -> set[str]:
    return {n for name in names if name for n in (fold_key(name), _strip_level(fold_key(name))[1])} - {""}


@dataclass
class Matcher:
    """Matches agency names to the units of one province; loads the province's units once (and, for
    a province on the 2025 structure, its former communes when a row needs them)."""

    province: AdminUnit
    units: _Names[AdminUnit] = field(default_factory=_Names)
    agencies: dict[str, Agency] = field(default_factory=dict)
    agencies_by_code: dict[tuple[bool, str], Agency] = field(default_factory=dict)
    _formers: _Names[FormerUnit] | None = None
    _former_districts: set[str] = field(default_factory=set)
    _former_provinces: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        units = db.session.scalars(
            sa.select(AdminUnit).where(
                AdminUnit.path.startswith(self.province.path, autoescape=True), AdminUnit.level != Level.VILLAGE
            )
        )
        for unit in units:
            parents = _parent_names(*(a.name for a in unit.ancestors()))
            self.units.add(unit, unit.level, unit.name, unit.short_name, unit.code, parents)
        for agency in db.session.scalars(sa.select(Agency).where(Agency.province_id == self.province.id)):
            self.agencies[agency.name_key] = agency
            if agency.code:
                self.agencies_by_code[(agency.before_reform, agency.code)] = agency

    @property
    def on_2025_structure(self) -> bool:
        return self.province.dataset == "2025"

    def names_before_reform(self, period: tuple[date, date] | None) -> bool:
        """Whether a row's names mean the communes before 1/7/2025 (a province on the 2025 structure,
        a period before it). A period across it is refused: its names could mean either."""
        if period is None or not self.on_2025_structure:
            return False
        start, end = period
        if end < REFORM_DATE:
            return True
        if start >= REFORM_DATE:
            return False
        raise CrossesReform(
            _(
                "%(first)s–%(last)s crosses 1/7/2025, when communes were merged: its names could mean the "
                "communes before or after. Import months or quarters on either side of it.",
                first=start.strftime("%d/%m/%Y"),
                last=end.strftime("%d/%m/%Y"),
            )
        )

    def formers(self) -> _Names[FormerUnit]:
        """The province's former communes (loaded from the package the first time if need be)."""
        if self._formers is None:
            self._formers = _Names[FormerUnit]()
            ensure_crosswalk(self.province)
            for former in db.session.scalars(
                sa.select(FormerUnit).where(FormerUnit.province_id == self.province.id).order_by(FormerUnit.code)
            ):
                parents = _parent_names(former.district_name, former.old_province_name)
                self._formers.add(former, Level.COMMUNE, former.name, former.short_name, former.code, parents)
                self._former_districts |= _parent_names(former.district_name)
                self._former_provinces |= _parent_names(former.old_province_name)
        return self._formers

    def candidates(self, parsed: AgencyName) -> list[AdminUnit]:
        if parsed.kind == AgencyKind.DEPARTMENT:
            return []
        return self.units.find(parsed, _KIND_LEVELS.get(parsed.kind, (Level.COMMUNE, Level.DISTRICT)))[0]

    def agency_for(
        self, name: str, code: str = "", *, now: datetime, period: tuple[date, date] | None = None
    ) -> Agency:
        """The agency this row names: known by code or name, else created, linked if exactly one unit fits.
        ``period`` (first and last day of the row) tells, in a province on the 2025 structure, whether the
        name means a commune before 1/7/2025 or today's; it raises ``CrossesReform`` for a period across it."""
        before = self.names_before_reform(period)
        code = clean(code)[:40]  # as stored, so the next import finds it
        if code and (before, code) in self.agencies_by_code:
            return self.agencies_by_code[(before, code)]
        parsed = parse_agency_name(name)
        if not parsed.key and not code:
            raise ValueError("empty agency name")
        names = self.formers() if before else self.units
        if parsed.kind == AgencyKind.DEPARTMENT:
            # "Phong Điền", "Đội Cấn": a commune's bare name can start like "Phòng", "Đội"; units first.
            as_unit = AgencyName(None, parsed.key, exact=parsed.exact)
            if names.find(as_unit, (Level.COMMUNE, Level.DISTRICT))[0]:
                parsed = as_unit
            else:
                before = False  # a department is one agency across the reform, counted in the province
        if code and code in names.by_code and not parsed.key:
            unit = names.by_code[code]
            parsed = AgencyName(_kind_of(unit), fold_key(unit.short_name or unit.name))
        # Only a code, of no unit: the code is the agency (two unknown codes are two agencies).
        name_key = parsed.name_key if parsed.key else f"code:{code}"
        name_key = (f"before:{name_key}" if before else name_key)[:255]
        agency = self.agencies.get(name_key)
        if agency is not None:
            if code and not agency.code:
                agency.code = code
                self.agencies_by_code[(before, code)] = agency
            return agency
        agency = Agency(
            province_id=self.province.id,
            name=clean(name)[:255] or code,
            name_key=name_key,
            code=code,
            before_reform=before,
            created_at=now,
        )
        if parsed.kind == AgencyKind.DEPARTMENT:
            agency.kind, agency.status = AgencyKind.DEPARTMENT, AgencyStatus.NOT_A_UNIT
        elif before:
            self._link_former(agency, parsed, code)
        else:
            self._link(agency, parsed, code)
        db.session.add(agency)
        self.agencies[name_key] = agency
        if code:
            self.agencies_by_code[(before, code)] = agency
        return agency

    def _link(self, agency: Agency, parsed: AgencyName, code: str) -> None:
        """A name of today's units; in a province on the 2025 structure, a name that fits none of them
        (or fits only by a different level word) offers the communes a former commune of that name went into."""
        if code in self.units.by_code:
            units, sure = [self.units.by_code[code]], True
        elif parsed.key:
            units, sure = self.units.find(parsed, _KIND_LEVELS.get(parsed.kind, (Level.COMMUNE, Level.DISTRICT)))
        else:
            units, sure = [], False
        level = parsed.level_word
        # "phường Tân Quang" after the reform, where today's Tân Quang is a xã: the old ward's successor?
        other_level = sure and bool(level) and self.units.kinds[id(units[0])] != level
        if (
            self.on_2025_structure
            and parsed.key
            and parsed.kind in (AgencyKind.COMMUNE, None)
            and (not sure or other_level)
        ):
            formers = self.formers().find(parsed, (Level.COMMUNE,))[0]
            if not sure or any(self.formers().kinds[id(f)] == level for f in formers):
                sure = False
                units = units + [u for f in formers for u in f.successors if u not in units]
        if sure:
            agency.kind, agency.status, agency.unit_id = _kind_of(units[0]), AgencyStatus.LINKED, units[0].id
        else:
            agency.kind = parsed.kind or AgencyKind.COMMUNE
            agency.status = AgencyStatus.UNRESOLVED
            agency.candidate_ids = [u.id for u in units]

    def _link_former(self, agency: Agency, parsed: AgencyName, code: str) -> None:
        """A name of before 1/7/2025: a former commune counts in its main successor; a former district's
        or province's committee has no commune today and counts in the province."""
        formers = self.formers()
        if parsed.kind == AgencyKind.PROVINCE:
            units, sure = self.units.find(parsed, (Level.PROVINCE,))
            if sure:
                agency.kind, agency.status, agency.unit_id = AgencyKind.PROVINCE, AgencyStatus.LINKED, units[0].id
                return
        if parsed.kind in (AgencyKind.DISTRICT, AgencyKind.PROVINCE):
            known = self._former_districts if parsed.kind == AgencyKind.DISTRICT else self._former_provinces
            agency.kind = parsed.kind
            agency.status = AgencyStatus.NOT_A_UNIT if parsed.key in known else AgencyStatus.UNRESOLVED
            return
        if code in formers.by_code:
            found, sure = [formers.by_code[code]], True
        else:
            found, sure = formers.find(parsed, (Level.COMMUNE,)) if parsed.key else ([], False)
        agency.kind = AgencyKind.COMMUNE
        if sure and found[0].main_successor is not None:
            agency.status, agency.former_unit_id = AgencyStatus.LINKED, found[0].id
            agency.former_unit, agency.unit_id = found[0], found[0].main_successor.id
        else:
            agency.status = AgencyStatus.UNRESOLVED
            agency.candidate_ids = [f.id for f in found]


def _kind_of(unit: AdminUnit | FormerUnit) -> str:
    if isinstance(unit, FormerUnit):
        return AgencyKind.COMMUNE
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


def candidates_by_agency(agencies: list[Agency]) -> dict[int, list]:
    """The units offered for each unresolved agency (former communes for a name before 1/7/2025), in
    two queries at most."""
    wanted = {uid for a in agencies if not a.before_reform for uid in (a.candidate_ids or [])}
    wanted_former = {uid for a in agencies if a.before_reform for uid in (a.candidate_ids or [])}
    units: dict[int, AdminUnit] = (
        {
            u.id: u
            for u in db.session.scalars(
                sa.select(AdminUnit).where(AdminUnit.id.in_(wanted)).options(sa.orm.selectinload(AdminUnit.parent))
            )
        }
        if wanted
        else {}
    )
    formers: dict[int, FormerUnit] = (
        {f.id: f for f in db.session.scalars(sa.select(FormerUnit).where(FormerUnit.id.in_(wanted_former)))}
        if wanted_former
        else {}
    )
    found: dict[int, list] = {}
    for a in agencies:
        if a.before_reform:
            options = [formers[uid] for uid in a.candidate_ids or [] if uid in formers]
            found[a.id] = sorted(options, key=lambda f: (f.district_name, f.sort_key))
        else:
            found[a.id] = sorted((units[uid] for uid in a.candidate_ids or [] if uid in units), key=lambda u: u.path)
    return found


def candidates_of(agency: Agency) -> list:
    """The units offered for an agency (former communes for a name before 1/7/2025)."""
    return candidates_by_agency([agency])[agency.id] if agency.candidate_ids else []


def find_former(agency: Agency, text: str) -> FormerUnit | None:
    """A former commune of the agency's province written in a form by its code or name ("02216",
    "Phường Tân Hà", "Tân Hà"), when exactly one fits."""
    text = clean(text)
    folded = fold(text)
    if not folded:
        return None
    found = list(
        db.session.scalars(
            sa.select(FormerUnit)
            .where(
                FormerUnit.province_id == agency.province_id,
                sa.or_(
                    FormerUnit.code == text,
                    FormerUnit.name_folded.startswith(f"{folded} |"),
                    FormerUnit.name_folded.endswith(f"| {folded}"),
                ),
            )
            .limit(2)
        )
    )
    return found[0] if len(found) == 1 else None


def resolve_agency(
    actor: User,
    agency: Agency,
    *,
    unit_id: int | None,
    not_a_unit: bool,
    now: datetime,
    former_id: int | None = None,
) -> Agency:
    """A person's answer for an agency: the unit it serves, or "not an administrative unit". For a name
    of before 1/7/2025, the former commune it was (``former_id``) and, where that commune was split, which
    of its successors takes the figures (``unit_id``, else the main one). Province staff and administrators
    only: the answer moves figures between units, beyond a district's own."""
    require_role(actor, Role.STAFF)
    if actor.role != Role.ADMIN and (actor.scope_unit is None or actor.scope_unit.level != Level.PROVINCE):
        raise Forbidden(actor.role)
    unit: AdminUnit | None = None
    former: FormerUnit | None = None
    if not_a_unit:
        agency.status, agency.unit_id, agency.kind = AgencyStatus.NOT_A_UNIT, None, AgencyKind.DEPARTMENT
        agency.former_unit_id = None
    else:
        if former_id is not None:
            former = db.session.get(FormerUnit, former_id)
            if former is None or former.province_id != agency.province_id or not agency.before_reform:
                raise ValidationError({"unit": [_("Choose one of the former communes offered.")]})
            unit = _successor(actor, former, unit_id)
        elif unit_id is None:
            raise ValidationError({"unit": [_("Choose the unit this agency serves.")]})
        else:
            unit = get_unit(actor, unit_id)
        if not unit.path.startswith(agency.province.path) or unit.level == Level.VILLAGE:
            if agency.province.dataset == "2025":  # no districts since 1/7/2025
                raise ValidationError({"unit": [_("Choose a commune or the province of this agency.")]})
            raise ValidationError({"unit": [_("Choose a commune, district or the province of this agency.")]})
        clash = _double_count(agency, unit, former)
        if clash is not None:
            other, start = clash
            raise ValidationError(
                {
                    "unit": [
                        _(
                            "%(unit)s already has figures from “%(other)s” for the same months (from %(month)s): "
                            "linking this agency too would count them twice. Undo one of the imports first.",
                            unit=former.name if former is not None else unit.name,
                            other=other,
                            month=start.strftime("%m/%Y"),
                        )
                    ]
                }
            )
        agency.status, agency.unit_id, agency.kind = AgencyStatus.LINKED, unit.id, _kind_of(unit)
        agency.former_unit_id = former.id if former is not None else None
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


def _successor(actor: User, former: FormerUnit, unit_id: int | None) -> AdminUnit:
    """The successor of a former commune that takes its figures: the one chosen, else the main one."""
    successors = former.successors
    chosen = former.main_successor if unit_id is None else next((u for u in successors if u.id == unit_id), None)
    if chosen is None:
        raise ValidationError(
            {
                "unit": [
                    _(
                        "%(former)s (before 1/7/2025) went into %(units)s: choose one of them.",
                        former=former.name,
                        units=", ".join(u.name for u in successors),
                    )
                ]
            }
        )
    return get_unit(actor, chosen.id)


def _double_count(agency: Agency, unit: AdminUnit, former: FormerUnit | None):
    """(another agency's name, a month) if another agency with the same figures' owner (the unit, or the
    former commune) has current figures for a period overlapping one of ``agency``'s, else None. Former
    communes merged into one ward are different owners: their figures add up."""
    mine, theirs = sa.orm.aliased(SubmissionStat), sa.orm.aliased(SubmissionStat)
    other = sa.orm.aliased(Agency)
    same_owner = (
        other.former_unit_id == former.id
        if former is not None
        else sa.and_(other.unit_id == unit.id, other.former_unit_id.is_(None))
    )
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
            same_owner,
            other.status == AgencyStatus.LINKED,
        )
        .order_by(mine.period_start)
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])
