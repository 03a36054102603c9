"""Finding the commune and village a row names: by code or name, today's units or former ones (the 2025 reform)."""

import re
from typing import TypeVar

import sqlalchemy as sa
from flask_babel import gettext as _

from outreach.auth.models import Role, User
from outreach.auth.scope import unit_in_scope
from outreach.extensions import db
from outreach.geo.imports.columns import MappedCommune
from outreach.geo.models import AdminUnit, FormerUnit, Level
from outreach.text import clean, fold, spelling

_CODE = re.compile(r"^\d{1,10}$")
_DISTRICT_WORD = re.compile(r"^(huyen|quan|thi xa|thanh pho|tp\.?)\s+")


class Communes:
    """Commune lookup by code or name within the actor's scope, cached. A code in both datasets needs
    the dataset; a code or name of a commune before 1/7/2025 finds the commune it went into.

    The codes that could match are read once, so a file of made-up codes (one on every line) is refused
    without asking the database for each of them."""

    def __init__(self, actor: User | None, dataset: str | None):
        self.actor, self.dataset = actor, dataset
        self.cache: dict[tuple[str, str], AdminUnit | str] = {}
        self.mapped: dict[tuple[str, str], MappedCommune] = {}
        self.codes: set[str] | None = None
        self.preloaded: dict[str, list[AdminUnit]] = {}
        self.formers: dict[str, FormerUnit] = {}

    def _known_codes(self) -> set[str]:
        if self.codes is None:
            codes = sa.select(AdminUnit.code).where(AdminUnit.level == Level.COMMUNE)
            if self.actor is not None:
                codes = codes.where(unit_in_scope(self.actor))
            self.codes = set(db.session.scalars(codes)) | set(db.session.scalars(sa.select(FormerUnit.code)))
        return self.codes

    def get(self, written: str, dataset: str) -> AdminUnit | str:
        key = (clean(written), dataset or self.dataset or "")
        if key not in self.cache:
            code_like = _CODE.match(key[0]) is not None
            self.cache[key] = self._by_code(*key) if code_like else self._by_name(*key)
        if key in self.mapped:
            self.mapped[key].rows += 1
        return self.cache[key]

    def _in_scope(self, unit: AdminUnit) -> bool:
        if self.actor is None or self.actor.role == Role.ADMIN:
            return True
        scope = self.actor.scope_unit
        return scope is not None and unit.path.startswith(scope.path)

    def _successor(self, key: tuple[str, str], former: FormerUnit) -> AdminUnit | None:
        """Where a former commune's rows go: its main successor, or (split) the one in the actor's area."""
        unit = next((u for u in former.successors if self._in_scope(u)), None)
        if unit is not None:
            self.mapped[key] = MappedCommune(key[0], former, unit)
        return unit

    def preload(self, written: set[str]) -> None:
        """Read the communes (and former communes) of these codes in two queries, for a file naming many
        communes: ``get`` then asks the database nothing more for them."""
        codes = {clean(w) for w in written if _CODE.match(clean(w))} & self._known_codes()
        if not codes:
            return
        stmt = sa.select(AdminUnit).where(AdminUnit.code.in_(codes), AdminUnit.level == Level.COMMUNE)
        if self.actor is not None:
            stmt = stmt.where(unit_in_scope(self.actor))
        self.preloaded = {code: [] for code in codes}
        for unit in db.session.scalars(stmt):
            self.preloaded[unit.code].append(unit)
        self.formers = {f.code: f for f in db.session.scalars(sa.select(FormerUnit).where(FormerUnit.code.in_(codes)))}

    def _by_code(self, code: str, dataset: str) -> AdminUnit | str:
        if code not in self._known_codes():
            return _("no commune with code “%(code)s” in your area", code=code)
        if code in self.preloaded:
            found = [u for u in self.preloaded[code] if not dataset or u.dataset == dataset]
            former = self.formers.get(code) if dataset != "2025" else None
        else:
            stmt = sa.select(AdminUnit).where(AdminUnit.code == code, AdminUnit.level == Level.COMMUNE)
            if dataset:
                stmt = stmt.where(AdminUnit.dataset == dataset)
            if self.actor is not None:
                stmt = stmt.where(unit_in_scope(self.actor))
            found = list(db.session.scalars(stmt))
            former = (
                db.session.scalar(sa.select(FormerUnit).where(FormerUnit.code == code)) if dataset != "2025" else None
            )
        if len(found) > 1:
            return _(
                "commune code “%(code)s” exists in both datasets: add a “dataset” column (2025 or legacy)",
                code=code,
            )
        if found and former is not None and found[0].dataset == "2025" and found[0] not in former.successors:
            return _(
                "commune code “%(code)s” is %(today)s today and was %(former)s before 1/7/2025 (now part of "
                "%(successor)s): add a “dataset” column (2025 or legacy)",
                code=code,
                today=found[0].name,
                former=former.name,
                successor=", ".join(u.name for u in former.successors),
            )
        if found:
            return found[0]
        unit = self._successor((code, dataset), former) if former is not None else None
        if unit is not None:
            return unit
        return _("no commune with code “%(code)s” in your area", code=code)

    def _by_name(self, written: str, dataset: str) -> AdminUnit | str:
        name, _sep, parent = written.partition(",")
        folded = fold(name)
        if not folded:
            return _("the commune is empty")
        stmt = sa.select(AdminUnit).where(
            AdminUnit.level == Level.COMMUNE,
            sa.or_(AdminUnit.name_folded.startswith(f"{folded} |"), AdminUnit.name_folded.endswith(f"| {folded}")),
        )
        if dataset:
            stmt = stmt.where(AdminUnit.dataset == dataset)
        if self.actor is not None:
            stmt = stmt.where(unit_in_scope(self.actor))
        found = _as_written(list(db.session.scalars(stmt.limit(20))), name)
        if len(found) == 1:
            return found[0]
        if found:
            return _("several communes in your area are called “%(name)s”: write the commune code instead", name=name)
        if dataset == "2025":
            return _("no commune called “%(name)s” in your area", name=name)
        formers = _as_written(
            list(
                db.session.scalars(
                    sa.select(FormerUnit)
                    .where(
                        sa.or_(
                            FormerUnit.name_folded.startswith(f"{folded} |"),
                            FormerUnit.name_folded.endswith(f"| {folded}"),
                        )
                    )
                    .limit(50)
                )
            ),
            name,
        )
        formers = [f for f in formers if any(self._in_scope(u) for u in f.successors)]
        district = _DISTRICT_WORD.sub("", fold(parent).strip())
        if district:  # "Tân Thành, huyện Hàm Yên"
            formers = [f for f in formers if _DISTRICT_WORD.sub("", fold(f.district_name)) == district]
        if len(formers) > 1:
            return _(
                "several communes before 1/7/2025 were called “%(name)s”: write the district after a comma "
                "(“%(name)s, huyện …”) or the commune code",
                name=name,
            )
        unit = self._successor((written, dataset), formers[0]) if formers else None
        if unit is not None:
            return unit
        return _("no commune called “%(name)s” in your area", name=name)


_U = TypeVar("_U", AdminUnit, FormerUnit)


def _as_written(units: list[_U], written: str) -> list[_U]:
    """Of units whose names fold alike, those spelled as written: diacritics, when written, tell Tân
    Thành from Tân Thanh (a name written without them fits all)."""
    if fold(written) == clean(written).lower():
        return units
    return [u for u in units if spelling(written) in (spelling(u.name), spelling(u.short_name))]


class Villages:
    """The villages of each commune by name, read once per commune: a file naming a thousand villages
    that do not exist asks the database once, not a thousand times. A name matches as in
    ``find_village``: the village's full or short name, without diacritics ("Thôn Phú Bình", "phu binh")."""

    def __init__(self) -> None:
        self.by_commune: dict[int, dict[str, int]] = {}

    def get(self, commune: AdminUnit, name: str) -> int | None:
        names = self.by_commune.get(commune.id)
        if names is None:
            names = self.by_commune[commune.id] = {}
            for village_id, folded in db.session.execute(
                sa.select(AdminUnit.id, AdminUnit.name_folded)
                .where(AdminUnit.parent_id == commune.id, AdminUnit.level == Level.VILLAGE)
                .order_by(AdminUnit.id)
            ):
                for part in folded.split(" | "):  # "full | short", as unit_names writes it
                    names.setdefault(part, village_id)
        return names.get(fold(name))
