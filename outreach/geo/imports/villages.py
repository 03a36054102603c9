"""The village import: every row checked first, then one multi-row INSERT and one UPDATE, all or nothing."""

from datetime import datetime
from typing import BinaryIO

import sqlalchemy as sa
from flask_babel import gettext as _

from outreach.audit.services import record_event
from outreach.auth.models import Role, User
from outreach.auth.scope import manageable_commune, require_role
from outreach.csvio import CsvRows, RowErrors
from outreach.errors import Forbidden, NotFound
from outreach.extensions import db
from outreach.geo.imports.cells import number
from outreach.geo.imports.columns import VILLAGE_COLUMNS, ImportResult
from outreach.geo.imports.places import Communes
from outreach.geo.models import VILLAGE_KINDS, AdminUnit, Level
from outreach.geo.services import (
    VillageInput,
    check_village,
    normalize_village_name,
    village_columns,
)
from outreach.text import fold


def import_villages(
    actor: User | None, stream: BinaryIO, filename: str, *, now: datetime, dataset: str | None = None
) -> ImportResult:
    """Create or update villages from CSV (matched by commune and name, so re-running never duplicates).

    Every row is checked first, against the villages of its commune read once; then, if none is wrong,
    the new villages go in with one multi-row INSERT and the changed ones with one UPDATE by id: whole
    or not at all, and 10,000 villages in a few seconds rather than a minute row by row."""
    if actor is not None:
        require_role(actor, Role.LEADER)
    system = actor or User(role=Role.ADMIN, username="system")  # the CLI acts with the whole country in scope
    rows = CsvRows(stream, VILLAGE_COLUMNS)
    errors = RowErrors()
    communes = Communes(actor, dataset)
    count = 0
    seen: set[tuple[int, str]] = set()
    known: dict[int, dict[str, sa.Row]] = {}  # per commune: its villages by folded full and short name
    managed: dict[int, str | None] = {}  # per commune: why the actor may not change it, or None
    inserts: list[dict] = []
    updates: list[dict] = []
    next_number: dict[int, int] = {}
    pending: dict[tuple[int, str], dict] = {}  # new villages of the file by commune and folded name
    # A village list is short beside a household list (tens of villages a commune): read it whole, then
    # ask the database once for all its communes and once for all their villages.
    every = list(rows)
    communes.preload({row["commune_code"] for _line, row in every})
    for position, (line, row) in enumerate(every):
        if errors.enough(line):
            errors.stop(line - 1, len(every) - position)
            break
        count += 1
        commune = communes.get(row["commune_code"], row.get("dataset", ""))
        if isinstance(commune, str):
            errors.add(line, commune)
            continue
        kind = (
            next((k for k in VILLAGE_KINDS if fold(k) == fold(row.get("kind", ""))), None)
            if row.get("kind")
            else "Thôn"
        )
        try:
            lat, lon = number(row.get("lat", "")), number(row.get("lon", ""))
        except ValueError:
            errors.add(line, _("latitude and longitude must be numbers"))
            continue
        if kind is None:
            errors.add(
                line, _("kind “%(kind)s” is not one of: %(kinds)s", kind=row["kind"], kinds=", ".join(VILLAGE_KINDS))
            )
            continue
        data = VillageInput(name=row["name"], kind=kind, lat=lat, lon=lon)
        key = (commune.id, fold(data.name))
        if key in seen:
            errors.add(line, _("“%(name)s” appears twice for %(commune)s", name=data.name, commune=commune.name))
            continue
        seen.add(key)
        problems = check_village(commune, data)
        if problems:
            for messages in problems.values():
                for message in messages:
                    errors.add(line, message)
            continue
        if commune.id not in managed:
            managed[commune.id] = _may_manage(system, commune)
        refused = managed[commune.id]
        if refused is not None:
            errors.add(line, refused)
            continue
        if commune.id not in known:
            wanted = {u.id for units in communes.preloaded.values() for u in units if u.id not in known}
            known.update(_villages_by_name(wanted | {commune.id}))
        villages = known[commune.id]
        existing = villages.get(fold(data.name))
        normalize_village_name(data)
        same = villages.get(fold(data.name))
        if same is not None and existing is not None and same is not existing:
            errors.add(
                line,
                _("%(commune)s already has a village called “%(name)s”.", commune=commune.name, name=same.short_name),
            )
            continue
        existing = existing or same
        if errors:
            continue
        columns = village_columns(data)
        if existing is not None:
            updates.append({"id": existing.id, **columns, "updated_at": now})
            continue
        planned = pending.get((commune.id, fold(row["name"]))) or pending.get((commune.id, fold(data.name)))
        if planned is not None:  # named again another way ("Thôn A", then "A"): the same new village
            planned.update(columns)
            continue
        if commune.id not in next_number:
            next_number[commune.id] = _next_number(commune, villages)
        code = f"{commune.code}-{next_number[commune.id]:03d}"
        next_number[commune.id] += 1
        new = {
            "dataset": commune.dataset, "code": code, "level": Level.VILLAGE, "parent_id": commune.id,
            "path": f"{commune.path}{code}/", "created_at": now, "updated_at": now, **columns,
        }  # fmt: skip
        inserts.append(new)
        full, _sep, short = columns["name_folded"].partition(" | ")
        pending.setdefault((commune.id, full), new)
        pending.setdefault((commune.id, short), new)
    if count == 0:
        errors.add(2, _("The file has no rows under its header."))
    errors.raise_if_any()
    if inserts:
        db.session.execute(sa.insert(AdminUnit), inserts)
    if updates:
        db.session.execute(sa.update(AdminUnit), updates)
        db.session.expire_all()  # villages loaded elsewhere in this session hold their old values
    created = len(inserts)
    updated = count - created  # every row either made a village or changed one (no errors by now)
    record_event(
        actor,
        "villages.import",
        detail={"file": filename, "rows": count, "created": created, "updated": updated},
        now=now,
    )
    db.session.flush()
    return ImportResult(batch=None, rows=count, created=created, updated=updated, mapped=list(communes.mapped.values()))


def _may_manage(actor: User, commune: AdminUnit) -> str | None:
    """None if ``actor`` may change the commune's villages, else what the row's error says."""
    try:
        manageable_commune(actor, commune)
    except (Forbidden, NotFound):
        return _("no commune with code “%(code)s” in your area", code=commune.code)
    return None


def _villages_by_name(commune_ids: set[int]) -> dict[int, dict[str, sa.Row]]:
    """Per commune, its villages (id, code, names) by folded name, full ("thon phu binh") and short ("phu
    binh"), as ``find_village`` matches them: one query for all the communes of a file."""
    found: dict[int, dict[str, sa.Row]] = {commune_id: {} for commune_id in commune_ids}
    columns = (AdminUnit.id, AdminUnit.parent_id, AdminUnit.code, AdminUnit.short_name, AdminUnit.name_folded)
    for village in db.session.execute(
        sa.select(*columns).where(AdminUnit.parent_id.in_(commune_ids), AdminUnit.level == Level.VILLAGE)
    ):
        full, _sep, short = village.name_folded.partition(" | ")
        assert village.parent_id is not None  # a village always has its commune
        found[village.parent_id].setdefault(full, village)
        found[village.parent_id].setdefault(short or full, village)
    return found


def _next_number(commune: AdminUnit, villages: dict[str, sa.Row]) -> int:
    """The number of the commune's next village code ("02216-007": 7), from its villages read already."""
    numbers = [
        int(v.code.rsplit("-", 1)[1]) for v in villages.values() if "-" in v.code and v.code.rsplit("-", 1)[1].isdigit()
    ]
    return max(numbers, default=0) + 1
