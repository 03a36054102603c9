"""CSV imports of villages and households: a file lands whole or not at all.

Rows are streamed and checked one by one; good rows are inserted in chunks inside the
caller's transaction. At the end, if any row was bad, every error is raised together and
the caller rolls back, so nothing of the file stays.
"""

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO, NotRequired, TypedDict, TypeVar

import sqlalchemy as sa
from flask_babel import gettext as _

from outreach.audit.models import ImportBatch
from outreach.audit.services import record_event, start_import
from outreach.auth.models import Role, User
from outreach.auth.scope import manageable_commune, require_role, unit_in_scope
from outreach.csvio import Column, CsvRows, RowErrors, lines_left
from outreach.errors import Forbidden, NotFound
from outreach.extensions import db
from outreach.geo.consent import CONSENT_TEXTS, CONSENT_VERSION
from outreach.geo.models import VILLAGE_KINDS, AdminUnit, Consent, FormerUnit, Household, Level, Purpose
from outreach.geo.services import (
    HouseholdInput,
    VillageInput,
    check_village,
    normalize_village_name,
    validate_household,
    village_columns,
)
from outreach.text import clean, fold, spelling

_YES = {"1", "x", "yes", "y", "true", "co", "dong y", "da dong y", "ok"}
_NO = {"", "0", "no", "n", "false", "khong", "khong dong y"}

COMMUNE = Column("commune_code", ("mã xã", "ma xa", "mã đơn vị", "commune code", "commune", "xã", "xa"), required=True)
DATASET = Column("dataset", ("bộ dữ liệu", "phiên bản", "dataset version"))

HOUSEHOLD_COLUMNS = [
    COMMUNE,
    DATASET,
    Column("village", ("thôn", "thôn/bản", "thôn, bản, tổ dân phố", "thôn bản", "village name"), required=True),
    Column("head_name", ("họ tên chủ hộ", "chủ hộ", "tên chủ hộ", "head of household", "head"), required=True),
    Column("address", ("địa chỉ", "dia chi")),
    Column("phone", ("số điện thoại", "điện thoại", "sđt", "sdt", "phone number", "mobile")),
    Column("members", ("số nhân khẩu", "nhân khẩu", "số thành viên", "số người", "household members")),
    Column("lat", ("vĩ độ", "latitude")),
    Column("lon", ("kinh độ", "longitude", "lng")),
    Column("notes", ("ghi chú", "note")),
    Column("consent_phone", ("đồng ý lưu số điện thoại", "đồng ý lưu sđt", "consent to store phone", "consent phone")),
    Column("consent_sms", ("đồng ý nhận sms", "đồng ý nhận tin nhắn", "consent to sms", "consent sms")),
]

COLUMN_LABELS = {column.name: column.aliases[0] for column in HOUSEHOLD_COLUMNS}

VILLAGE_COLUMNS = [
    COMMUNE,
    DATASET,
    Column("name", ("tên thôn", "thôn", "tên", "village", "village name"), required=True),
    Column("kind", ("loại", "loại thôn", "type")),
    Column("lat", ("vĩ độ", "latitude")),
    Column("lon", ("kinh độ", "longitude", "lng")),
]

CHUNK = 2000
_CODE = re.compile(r"^\d{1,10}$")
_DISTRICT_WORD = re.compile(r"^(huyen|quan|thi xa|thanh pho|tp\.?)\s+")


class _HouseholdRow(TypedDict):
    """A household as inserted (or copied) in bulk: database-ready values, in the table's terms."""

    id: NotRequired[int]  # reserved from the sequence before a COPY
    village_id: int
    head_name: str
    head_name_folded: str
    address: str
    address_folded: str
    phone: str | None
    members: int
    lat: float | None
    lon: float | None
    notes: str
    created_at: datetime
    updated_at: datetime
    created_by_id: int | None
    import_batch_id: int


class _ConsentRow(TypedDict):
    household_id: int
    purpose: str
    text_version: str
    text: str
    method: str
    collected_by_id: int | None
    collected_at: datetime


@dataclass
class MappedCommune:
    """A commune a file wrote as it was before 1/7/2025 (its old code or name), and today's commune
    its rows were put in: said to the person who imported, never done silently."""

    written: str
    former: FormerUnit
    unit: AdminUnit
    rows: int = 0

    @property
    def split(self) -> bool:
        """The former commune was split: its rows went to one successor (the main one, or the one in
        the importer's area), though some may belong to another."""
        return self.former.was_split


@dataclass
class ImportResult:
    batch: ImportBatch | None
    rows: int
    created: int = 0
    updated: int = 0
    mapped: list[MappedCommune] = field(default_factory=list)


class _Communes:
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


class _Villages:
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


def _number(value: str) -> float | None:
    """A decimal number, with a point or a comma; None for an empty cell."""
    return float(value.replace(",", ".")) if value != "" else None


def _whole_number(value: str) -> int | None:
    return int(value) if value != "" else None


_N = TypeVar("_N", int, float)


def _parsed(row: dict[str, str], column: str, problems: list[str], parse: Callable[[str], _N | None]) -> _N | None:
    try:
        return parse(row.get(column, ""))
    except ValueError:
        problems.append(_("%(column)s: “%(value)s” is not a number", column=COLUMN_LABELS[column], value=row[column]))
        return None


def _yes_no(row: dict[str, str], column: str, problems: list[str]) -> bool | None:
    answer = _yes(row.get(column, ""))
    if answer is None:
        problems.append(
            _("%(column)s: write “có” or “không”, not “%(value)s”", column=COLUMN_LABELS[column], value=row[column])
        )
    return answer


def _yes(value: str) -> bool | None:
    folded = fold(value)
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    return None


def import_households(
    actor: User | None, stream: BinaryIO, filename: str, *, now: datetime, dataset: str | None = None
) -> ImportResult:
    """Import households from CSV. ``actor`` None means the command line (whole country in scope).

    The consent columns record consent collected on paper; a phone without it is refused.
    """
    if actor is not None:
        require_role(actor, Role.LEADER)
    batch = start_import(actor, "households", stream, filename, now=now)
    rows = CsvRows(stream, HOUSEHOLD_COLUMNS)
    errors = RowErrors()
    communes = _Communes(actor, dataset)
    villages = _Villages()
    pending: list[tuple[_HouseholdRow, list[Purpose]]] = []
    count = 0
    actor_id = actor.id if actor else None

    for line, row in rows:
        if errors.enough(line):
            errors.stop(line - 1, 1 + lines_left(stream))  # this line was read, not checked
            break
        count += 1
        problems: list[str] = []
        village_id = None
        commune = communes.get(row["commune_code"], row.get("dataset", ""))
        if isinstance(commune, str):
            problems.append(commune)
        else:
            village_id = villages.get(commune, row["village"])
            if village_id is None:
                problems.append(
                    _(
                        "%(commune)s has no village “%(village)s”: add it first.",
                        commune=commune.name,
                        village=row["village"],
                    )
                )
        consent_phone = _yes_no(row, "consent_phone", problems)
        consent_sms = _yes_no(row, "consent_sms", problems)
        members = _parsed(row, "members", problems, _whole_number)
        lat, lon = _parsed(row, "lat", problems, _number), _parsed(row, "lon", problems, _number)
        data = HouseholdInput(
            village_id=village_id,
            head_name=row["head_name"],
            address=row.get("address", ""),
            phone=row.get("phone", ""),
            members=1 if members is None else members,
            lat=lat,
            lon=lon,
            notes=row.get("notes", ""),
            consent_store_phone=bool(consent_phone),
            consent_sms=bool(consent_sms),
        )
        field_errors, phone = validate_household(data)
        if "members" in field_errors and row.get("members", "") and members is None:
            del field_errors["members"]  # already reported as not a number
        problems.extend(message for messages in field_errors.values() for message in messages)
        for problem in problems:
            errors.add(line, problem)
        if problems:
            continue
        if errors:
            continue  # the file will be refused; keep checking, stop writing
        assert village_id is not None and data.members is not None  # else the problems above said so
        purposes = [Purpose.STORE_PHONE] if phone else []
        if phone and consent_sms:
            purposes.append(Purpose.RECEIVE_SMS)
        pending.append(
            (
                {
                    "village_id": village_id,
                    "head_name": clean(data.head_name),
                    "head_name_folded": fold(data.head_name),
                    "address": clean(data.address),
                    "address_folded": fold(data.address),
                    "phone": phone,
                    "members": data.members,
                    "lat": lat,
                    "lon": lon,
                    "notes": clean(data.notes),
                    "created_at": now,
                    "updated_at": now,
                    "created_by_id": actor_id,
                    "import_batch_id": batch.id,
                },
                purposes,
            )
        )
        if len(pending) >= CHUNK:
            _insert_households(pending, actor_id, now)
            pending = []

    if count == 0:
        errors.add(2, _("The file has no rows under its header."))
    errors.raise_if_any()
    if pending:
        _insert_households(pending, actor_id, now)
    batch.rows = count
    record_event(actor, "households.import", target=batch, detail={"file": filename, "rows": count}, now=now)
    db.session.flush()
    return ImportResult(batch=batch, rows=count, created=count, mapped=list(communes.mapped.values()))


def _insert_households(pending: list[tuple[_HouseholdRow, list[Purpose]]], actor_id: int | None, now: datetime) -> None:
    rows = [row for row, _purposes in pending]
    ids: Sequence[int]
    if db.session.get_bind().dialect.name == "postgresql":
        ids = _copy_households(rows)
    else:
        table = Household.__table__
        insert = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids = db.session.execute(insert, rows).scalars().all()
    consents: list[_ConsentRow] = [
        {
            "household_id": household_id,
            "purpose": purpose.value,
            "text_version": CONSENT_VERSION,
            "text": CONSENT_TEXTS[purpose],
            "method": "paper_import",
            "collected_by_id": actor_id,
            "collected_at": now,
        }
        for household_id, (_row, purposes) in zip(ids, pending, strict=True)
        for purpose in purposes
    ]
    if not consents:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        _copy_rows("consent", consents)
    else:
        db.session.execute(sa.insert(Consent.__table__), consents)


def _copy_households(rows: list[_HouseholdRow]) -> Sequence[int]:
    """PostgreSQL: reserve ids from the sequence, then COPY (an INSERT ... RETURNING of 13,000
    parameters per batch spends most of its time in the driver; COPY is about ten times faster)."""
    ids = db.session.scalars(
        sa.text("SELECT nextval(pg_get_serial_sequence('household', 'id')) FROM generate_series(1, :n)"),
        {"n": len(rows)},
    ).all()
    _copy_rows("household", [row | {"id": household_id} for row, household_id in zip(rows, ids, strict=True)])
    return ids


def _copy_rows(table: str, rows: Sequence[Mapping[str, object]]) -> None:
    """COPY rows into a table inside the session's transaction (values must already be database-ready:
    aware UTC datetimes, plain numbers and strings)."""
    columns = list(rows[0])
    driver = db.session.connection().connection.driver_connection
    assert driver is not None  # the session holds an open connection, which has its driver's
    cursor = driver.cursor()
    column_list = ", ".join(f'"{c}"' for c in columns)
    with cursor, cursor.copy(f'COPY "{table}" ({column_list}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


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
    communes = _Communes(actor, dataset)
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
            lat, lon = _number(row.get("lat", "")), _number(row.get("lon", ""))
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
