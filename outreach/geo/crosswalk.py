"""The crosswalk from the communes before 1 July 2025 to the communes of the 2025 structure.

``vietnamadminunits`` ships it keyed by names folded into keys ("tinhtuyenquang_thanhphotuyenquang_
phuongtanha" -> "phuongminhxuan"), with the default successor of each commune that was split. It is
loaded per 2025 province already in the database, with each former commune's names, district, code
and bounds, so old names and codes find today's communes without the legacy units being loaded.
Re-running updates in place: a former commune is identified by its legacy code.
"""

import functools
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from vietnamadminunits.converter.converter_2025 import (
    DICT_PROVINCE,
    DICT_PROVINCE_WARD_DIVIDED,
    DICT_PROVINCE_WARD_NO_DIVIDED,
)
from vietnamadminunits.database.main import query as package_query

from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.models import AdminUnit, FormerUnit, Level, Succession, unit_names
from outreach.geo.units import _bounds, _kind
from outreach.text import fold


@dataclass
class CrosswalkStats:
    provinces: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0  # former communes that went whole into a commune (alone or with others)
    split: int = 0  # former communes whose land went to several communes
    missing: int = 0  # former communes whose successor is not loaded (a 2025 commune missing)


@functools.cache
def _successors_by_old_key() -> dict[str, list[tuple[str, bool]]]:
    """ "province_district_ward" (legacy keys) -> [(new ward key, is the default successor)]."""
    found: dict[str, list[tuple[str, bool]]] = {}
    for wards in DICT_PROVINCE_WARD_NO_DIVIDED.values():
        for new_key, old_keys in wards.items():
            for old_key in old_keys:
                found.setdefault(old_key, []).append((new_key, True))
    for divided in DICT_PROVINCE_WARD_DIVIDED.values():
        for old_key, options in divided.items():
            found[old_key] = [(o["newWardKey"], bool(o["isDefaultNewWard"])) for o in options]
    return found


def _provinces(province: str | None) -> list[AdminUnit]:
    stmt = sa.select(AdminUnit).where(AdminUnit.dataset == "2025", AdminUnit.level == Level.PROVINCE)
    loaded = list(db.session.scalars(stmt.order_by(AdminUnit.code)))
    if province:
        wanted = fold(province).removeprefix("tinh ").removeprefix("thanh pho ").strip()
        loaded = [p for p in loaded if wanted in (fold(p.short_name), fold(p.name), p.code)]
    if not loaded:
        raise ValidationError(
            {
                "province": [
                    _(
                        "No province of the 2025 structure called “%(name)s” is loaded: load its units first "
                        "(flask --app outreach geo import-units --dataset 2025 --province …).",
                        name=province or "",
                    )
                ]
            }
        )
    return loaded


def import_crosswalk(province: str | None = None) -> CrosswalkStats:
    """Load (or update) the former communes of every loaded 2025 province, or of one, with their successors."""
    stats = CrosswalkStats()
    for unit in _provinces(province):
        _import_province(unit, stats)
        stats.provinces += 1
    db.session.flush()
    return stats


def ensure_crosswalk(province: AdminUnit) -> bool:
    """Load the crosswalk of a 2025 province if it has none yet; True when it has one after."""
    if province.dataset != "2025" or province.level != Level.PROVINCE:
        return False
    if db.session.scalar(sa.select(FormerUnit.id).where(FormerUnit.province_id == province.id).limit(1)):
        return True
    stats = CrosswalkStats()
    _import_province(province, stats)
    db.session.flush()
    return stats.created > 0


def _import_province(province: AdminUnit, stats: CrosswalkStats) -> None:
    new_rows = package_query(
        f"SELECT provinceKey, wardKey, wardCode FROM admin_units WHERE provinceCode = {_literal(province.code)}"  # noqa: S608
    )
    if not new_rows:
        return
    new_key = new_rows[0]["provinceKey"]
    code_of = {r["wardKey"]: r["wardCode"] for r in new_rows}
    ids = dict(
        db.session.execute(
            sa.select(AdminUnit.code, AdminUnit.id).where(
                AdminUnit.dataset == "2025",
                AdminUnit.level == Level.COMMUNE,
                AdminUnit.path.startswith(province.path, autoescape=True),
            )
        ).all()
    )
    old_provinces = DICT_PROVINCE.get(new_key, [])
    if not old_provinces:
        return
    old_rows = package_query(
        "SELECT * FROM admin_units_legacy WHERE provinceKey IN ({})".format(  # noqa: S608 - package keys
            ", ".join(_literal(k) for k in old_provinces)
        )
    )
    existing = {
        f.code: f
        for f in db.session.scalars(
            sa.select(FormerUnit).where(FormerUnit.code.in_([r["wardCode"] for r in old_rows if r["wardCode"]]))
        )
    }
    successors = _successors_by_old_key()
    for row in old_rows:
        if not row["wardCode"] or not row["ward"]:
            continue  # island districts without communes
        options = successors.get(f"{row['provinceKey']}_{row['districtKey']}_{row['wardKey']}", [])
        wanted = sorted(((ids.get(code_of.get(key, "")), is_main) for key, is_main in options), key=lambda w: not w[1])
        if not wanted or any(unit_id is None for unit_id, _main in wanted):
            stats.missing += 1
            continue
        if len(wanted) > 1:
            stats.split += 1
        else:
            stats.merged += 1
        values = _former_values(province, row)
        former = existing.get(row["wardCode"])
        if former is None:
            former = FormerUnit(**values)
            db.session.add(former)
            stats.created += 1
        elif any(getattr(former, k) != v for k, v in values.items()) or {
            (s.unit_id, s.is_main) for s in former.successions
        } != set(wanted):
            for key, value in values.items():
                setattr(former, key, value)
            stats.updated += 1
        else:
            stats.unchanged += 1
            continue
        former.successions = [Succession(unit_id=unit_id, is_main=is_main) for unit_id, is_main in wanted]


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _former_values(province: AdminUnit, row: dict) -> dict:
    south, west, north, east = _bounds(row.get("wardBounds"))
    names = unit_names(row["ward"], row["wardShort"])
    return {
        "province_id": province.id,
        "code": row["wardCode"],
        "kind": _kind(row["ward"], row["wardShort"]),
        "name": names["name"],
        "short_name": names["short_name"],
        "name_folded": names["name_folded"],
        "sort_key": names["sort_key"],
        "district_code": row["districtCode"] or "",
        "district_name": row["district"] or "",
        "old_province_code": row["provinceCode"] or "",
        "old_province_name": row["province"] or "",
        "lat": row["wardLat"],
        "lon": row["wardLon"],
        "south": south,
        "west": west,
        "north": north,
        "east": east,
    }
