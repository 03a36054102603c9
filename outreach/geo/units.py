"""Loading the official administrative units from the ``vietnamadminunits`` package.

The 2025 dataset has two levels (34 provinces > 3,321 communes); the legacy one has three
(63 provinces > districts > about 10,000 communes) with bounding boxes. Re-running updates
in place and never duplicates: a unit is identified by (dataset, code).
"""

import functools
from dataclasses import dataclass, field

import sqlalchemy as sa
from vietnamadminunits.database.main import query as package_query

from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Level, unit_names
from outreach.text import fold
from outreach.types import utcnow

_TABLES = {"2025": "admin_units", "legacy": "admin_units_legacy"}
_FIELDS = (
    "level",
    "kind",
    "name",
    "short_name",
    "name_folded",
    "sort_key",
    "path",
    "lat",
    "lon",
    "south",
    "west",
    "north",
    "east",
)


@dataclass
class ImportStats:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: int = 0

    @property
    def total_created(self) -> int:
        return sum(self.created.values())

    @property
    def total_updated(self) -> int:
        return sum(self.updated.values())


def _kind(full: str, short: str) -> str:
    return full[: -len(short)].strip() if short and full.endswith(short) else ""


def _bounds(text: str | None) -> tuple[float | None, ...]:
    # "21.820359,105.181276 – 21.850082,105.213007" (south-west – north-east)
    if not text:
        return (None, None, None, None)
    try:
        sw, ne = (part.strip() for part in text.replace("–", "-").split(" - "))
        south, west = (float(v) for v in sw.split(","))
        north, east = (float(v) for v in ne.split(","))
    except ValueError:
        return (None, None, None, None)
    return (south, west, north, east)


def _unit(dataset, level, code, full, short, parent_path, lat, lon, bounds=None) -> dict:
    south, west, north, east = _bounds(bounds)
    return {
        "dataset": dataset,
        "code": code,
        "level": level,
        "kind": _kind(full, short),
        **unit_names(full, short),
        "path": f"{parent_path}{code}/",
        "lat": lat,
        "lon": lon,
        "south": south,
        "west": west,
        "north": north,
        "east": east,
    }


def official_units(dataset: str, province: str | None = None) -> list[dict]:
    """The units of one dataset (optionally one province), parents before children."""
    if dataset not in _TABLES:
        raise ValidationError({"dataset": [f"unknown dataset {dataset!r}: use 2025 or legacy"]})
    rows = package_query(f"SELECT * FROM [{_TABLES[dataset]}]")  # noqa: S608 - fixed table names
    if province:
        wanted = fold(province).removeprefix("tinh ").removeprefix("thanh pho ").strip()
        rows = [r for r in rows if wanted in (fold(r["provinceShort"]), fold(r["province"]), r["provinceCode"])]
        if not rows:
            raise ValidationError({"province": [f"no province called {province!r} in the {dataset} dataset"]})

    units: dict[str, dict] = {}
    root = f"{dataset}/"
    for r in rows:
        pcode = r["provinceCode"]
        if pcode not in units:
            units[pcode] = _unit(
                dataset,
                Level.PROVINCE,
                pcode,
                r["province"],
                r["provinceShort"],
                root,
                r["provinceLat"],
                r["provinceLon"],
                r.get("provinceBounds"),
            )
        parent = units[pcode]
        if dataset == "legacy":
            dcode = r["districtCode"]
            if dcode not in units:
                units[dcode] = _unit(
                    dataset,
                    Level.DISTRICT,
                    dcode,
                    r["district"],
                    r["districtShort"],
                    parent["path"],
                    r["districtLat"],
                    r["districtLon"],
                    r.get("districtBounds"),
                )
            parent = units[dcode]
        wcode = r["wardCode"]
        if not wcode or not r["ward"]:
            continue  # a few island districts have no communes
        units[wcode] = _unit(
            dataset,
            Level.COMMUNE,
            wcode,
            r["ward"],
            r["wardShort"],
            parent["path"],
            r["wardLat"],
            r["wardLon"],
            r.get("wardBounds"),
        )
        units[wcode]["_parent"] = parent["code"]
    for unit in units.values():
        if unit["level"] == Level.DISTRICT:
            unit["_parent"] = unit["path"].split("/")[1]
    return list(units.values())


def import_units(dataset: str = "2025", province: str | None = None) -> ImportStats:
    """Create or update the official units of a dataset (or of one province of it)."""
    wanted = official_units(dataset, province)
    stats = ImportStats()
    now = utcnow()
    columns = [AdminUnit.id, AdminUnit.code, AdminUnit.parent_id] + [getattr(AdminUnit, f) for f in _FIELDS]
    existing = {
        row.code: row
        for row in db.session.execute(
            sa.select(*columns).where(AdminUnit.dataset == dataset, AdminUnit.level != Level.VILLAGE)
        )
    }
    ids = {code: row.id for code, row in existing.items()}

    for level in (Level.PROVINCE, Level.DISTRICT, Level.COMMUNE):
        inserts, updates = [], []
        for unit in (u for u in wanted if u["level"] == level):
            values = {k: v for k, v in unit.items() if not k.startswith("_")}
            values["parent_id"] = ids[unit["_parent"]] if "_parent" in unit else None
            old = existing.get(unit["code"])
            if old is None:
                inserts.append(values | {"created_at": now, "updated_at": now})
            elif any(getattr(old, f) != values[f] for f in _FIELDS) or old.parent_id != values["parent_id"]:
                updates.append(values | {"id": old.id, "updated_at": now})
            else:
                stats.unchanged += 1
        if inserts:
            db.session.execute(sa.insert(AdminUnit), inserts)
            rows = db.session.execute(
                sa.select(AdminUnit.code, AdminUnit.id).where(AdminUnit.dataset == dataset, AdminUnit.level == level)
            )
            ids.update((code, unit_id) for code, unit_id in rows)
        if updates:
            db.session.execute(sa.update(AdminUnit), updates)
            for values in updates:
                old_path = existing[values["code"]].path
                if old_path != values["path"]:
                    _move_villages(dataset, old_path, values["path"])
        stats.created[level] = len(inserts)
        stats.updated[level] = len(updates)
    db.session.flush()
    return stats


def _move_villages(dataset: str, old_path: str, new_path: str) -> None:
    """Villages keep their commune when the commune's place in the tree changes."""
    db.session.execute(
        sa.update(AdminUnit)
        .where(
            AdminUnit.dataset == dataset,
            AdminUnit.level == Level.VILLAGE,
            AdminUnit.path.startswith(old_path, autoescape=True),
        )
        .values(path=sa.literal(new_path) + sa.func.substr(AdminUnit.path, len(old_path) + 1))
        .execution_options(synchronize_session=False)
    )


@functools.cache
def _areas_2025() -> dict[str, float]:
    rows = package_query("SELECT wardCode, wardAreaKm2 FROM admin_units")
    return {r["wardCode"]: float(r["wardAreaKm2"]) for r in rows if r["wardCode"] and r["wardAreaKm2"]}


def commune_area_km2(dataset: str, code: str) -> float | None:
    """A 2025 commune's area as the package gives it (the 2025 dataset has no bounding boxes)."""
    return _areas_2025().get(code) if dataset == "2025" else None
