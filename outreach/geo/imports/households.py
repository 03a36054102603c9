"""The household import: rows checked one by one, good ones inserted in chunks, all or nothing."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import BinaryIO

import sqlalchemy as sa
from flask_babel import gettext as _

from outreach.audit.services import record_event, start_import
from outreach.auth.models import Role, User
from outreach.auth.scope import require_role
from outreach.csvio import CsvRows, RowErrors, lines_left
from outreach.extensions import db
from outreach.geo.consent import CONSENT_TEXTS, CONSENT_VERSION
from outreach.geo.imports.cells import number, parsed, whole_number, yes_no
from outreach.geo.imports.columns import CHUNK, HOUSEHOLD_COLUMNS, ConsentRow, HouseholdRow, ImportResult
from outreach.geo.imports.places import Communes, Villages
from outreach.geo.models import Consent, Household, Purpose
from outreach.geo.services import (
    HouseholdInput,
    validate_household,
)
from outreach.text import clean, fold


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
    communes = Communes(actor, dataset)
    villages = Villages()
    pending: list[tuple[HouseholdRow, list[Purpose]]] = []
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
        consent_phone = yes_no(row, "consent_phone", problems)
        consent_sms = yes_no(row, "consent_sms", problems)
        members = parsed(row, "members", problems, whole_number)
        lat, lon = parsed(row, "lat", problems, number), parsed(row, "lon", problems, number)
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


def _insert_households(pending: list[tuple[HouseholdRow, list[Purpose]]], actor_id: int | None, now: datetime) -> None:
    rows = [row for row, _purposes in pending]
    ids: Sequence[int]
    if db.session.get_bind().dialect.name == "postgresql":
        ids = _copy_households(rows)
    else:
        table = Household.__table__
        insert = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids = db.session.execute(insert, rows).scalars().all()
    consents: list[ConsentRow] = [
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


def _copy_households(rows: list[HouseholdRow]) -> Sequence[int]:
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
