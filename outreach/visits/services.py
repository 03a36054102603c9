"""Recording visits. A record is checked whole, stored whole or not at all, and a client_id seen
before changes nothing: phones resend, networks drop answers, two requests may race."""

import collections
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError

from outreach.auth.models import Role, User
from outreach.auth.permissions import may
from outreach.auth.scope import get_household, households_in_scope, require_role, unit_in_scope
from outreach.bulk import any_of, insert_unnest, on_postgresql, planned_for_their_arrays
from outreach.clock import day_start, local_zone
from outreach.errors import NotFound
from outreach.extensions import db
from outreach.geo.consent import CONSENT_TEXTS, CONSENT_VERSION
from outreach.geo.models import AdminUnit, Consent, Household, Purpose
from outreach.visits.checks import Window, check_visit, uuid_or_none
from outreach.visits.models import (
    HELP_FACTS,
    SENSITIVE_OBSTACLES,
    Outcome,
    VisitObstacle,
    VisitRecord,
    current_visits,
)
from outreach.visits.sensitive import add_anonymous_counts
from outreach.visits.signals import StoredVisit, visits_stored

MAX_BATCH = 500


@dataclass
class SyncResult:
    client_id: str
    status: str  # created | duplicate | rejected
    errors: dict[str, str] = field(default_factory=dict)
    visit_id: int | None = None
    notes: dict[str, str] = field(default_factory=dict)  # stored, but not all of it: what and why, by field

    def as_json(self) -> dict:
        answer = {"client_id": self.client_id, "status": self.status, "errors": self.errors}
        if self.notes:
            answer["notes"] = self.notes
        return answer


@dataclass(frozen=True)
class _Found:
    """A household of the batch, as the scope query found it."""

    village_id: int
    consented: bool  # to sensitive facts being kept with it


@dataclass
class _Sensitive:
    client_id: str
    household_id: int
    device_time: datetime
    codes: list[str]  # the record's obstacles; sensitive ones without consent are taken out
    consent: bool


def _sensitive_consented():
    """Whether the household's resident consented to sensitive facts being kept (a correlated EXISTS)."""
    return (
        sa.exists()
        .where(Consent.household_id == Household.id, Consent.purpose == Purpose.SENSITIVE)
        .where(Consent.withdrawn_at.is_(None))
    )


def _sensitive_apart(
    actor: User, items: list[_Sensitive], *, now: datetime, known: dict[int, "_Found"] | None = None
) -> dict[str, dict[str, str]]:
    """Sensitive facts (a disability) stay with the household only with the resident's explicit consent,
    given at this visit (recorded as the household's consent, with its text) or before. Without it the
    fact is counted for the village and the day, linked to nobody, and the record says so. ``known``:
    the households' villages and consents, if the caller read them already."""
    items = [item for item in items if SENSITIVE_OBSTACLES.intersection(item.codes)]
    if not items:
        return {}
    if known is None:
        ids = {item.household_id for item in items}
        found = sa.select(Household.id, Household.village_id, _sensitive_consented()).where(any_of(Household.id, ids))
        known = {row.id: _Found(row.village_id, row[2]) for row in db.session.execute(found)}
    consented = {item.household_id for item in items if known[item.household_id].consented}
    villages = {item.household_id: known[item.household_id].village_id for item in items}
    notes: dict[str, dict[str, str]] = {}
    counts: collections.Counter[tuple[int, date, str]] = collections.Counter()
    note = _(
        "a disability is recorded only with the resident's consent: it was counted for the village, "
        "not kept with the household"
    )
    zone = local_zone()
    for item in items:
        if item.consent and item.household_id not in consented:
            db.session.add(
                Consent(
                    household_id=item.household_id,
                    purpose=Purpose.SENSITIVE,
                    text_version=CONSENT_VERSION,
                    text=CONSENT_TEXTS[Purpose.SENSITIVE],
                    method="in_person",
                    collected_by_id=actor.id,
                    collected_at=now,
                )
            )
            consented.add(item.household_id)
        if item.household_id in consented:
            continue
        day = item.device_time.astimezone(zone).date()
        for code in sorted(SENSITIVE_OBSTACLES.intersection(item.codes)):
            item.codes.remove(code)
            counts[villages[item.household_id], day, code] += 1
        notes[item.client_id] = {"obstacles": note}
    add_anonymous_counts(counts)  # one query for the whole batch
    db.session.flush()
    return notes


def record_visit(actor: User, payload: dict, *, now: datetime) -> SyncResult:
    """Store one visit from a device; a client_id seen before changes nothing."""
    require_role(actor, Role.LEADER, Role.MEMBER)
    client_id = str(payload.get("client_id", "")) if isinstance(payload, dict) else ""
    supersedes = uuid_or_none(payload.get("supersedes")) if isinstance(payload, dict) else None
    previous = (
        db.session.scalar(sa.select(VisitRecord).where(VisitRecord.client_id == supersedes)) if supersedes else None
    )
    # A correction keeps the time of the visit it corrects: its dates are checked against that.
    values, errors = check_visit(payload, now, visit_time=previous.device_time if previous else None)
    if "client_id" in values:
        client_id = values["client_id"]
        if db.session.scalar(sa.select(VisitRecord.id).where(VisitRecord.client_id == client_id)):
            return SyncResult(client_id, "duplicate")
    household = None
    if "household_id" in values:
        try:
            household = get_household(actor, values["household_id"])
        except NotFound:
            errors["household_id"] = _unseen(actor, {values["household_id"]}).get(
                values["household_id"], _("no such household in your area")
            )
    if values.get("supersedes") and not errors:
        if previous is None or household is None or previous.household_id != household.id:
            errors["supersedes"] = _("no earlier record of this household with that client_id")
        elif corrected_by := db.session.scalar(
            sa.select(VisitRecord.client_id).where(VisitRecord.supersedes_id == previous.id)
        ):
            if corrected_by == client_id:  # this very record, sent twice at once
                return SyncResult(client_id, "duplicate")
            errors["supersedes"] = _("that record was already corrected; correct the newest one")
        elif actor.role == Role.MEMBER and previous.member_id != actor.id:
            errors["supersedes"] = _("only the member who recorded it, or a leader, can correct it")
    if errors:
        return SyncResult(client_id, "rejected", errors)
    assert household is not None  # a record without errors names a household in the actor's area

    obstacles = values.pop("obstacles")
    values.pop("supersedes")
    if previous is not None and not may(actor, "see_sensitive_facts"):
        # The corrector never saw the sensitive facts of the record (a disability): they stay as they were.
        kept = [code for code in previous.obstacle_codes if code in SENSITIVE_OBSTACLES and code not in obstacles]
        obstacles = [*obstacles, *kept]
        values["sensitive_consent"] = values.get("sensitive_consent") or (bool(kept) and previous.sensitive_consent)
    if previous is not None:
        # A correction changes what was recorded, not when the visit was: it keeps the visit's time
        # (in every count by day or period), and its own time is kept beside it.
        values["corrected_at"], values["device_time"] = values["device_time"], previous.device_time
    visit = VisitRecord(
        **values,
        member_id=actor.id,
        server_time=now,
        supersedes_id=previous.id if previous else None,
        obstacles=[VisitObstacle(code=code) for code in obstacles],
    )
    notes: dict[str, dict[str, str]] = {}
    try:
        with db.session.begin_nested():  # a savepoint: this record alone is undone if it fails
            item = _Sensitive(client_id, household.id, visit.device_time, list(obstacles), visit.sensitive_consent)
            notes = _sensitive_apart(actor, [item], now=now)
            visit.obstacles = [VisitObstacle(code=code) for code in item.codes]
            db.session.add(visit)
            db.session.flush()
            # Told inside the savepoint: what the areas above do (planning's assignments) is undone with it.
            corrects_a_meeting = previous is not None and previous.outcome != Outcome.NOBODY_HOME
            stored = StoredVisit(visit.id, household.id, visit.outcome, visit.device_time, corrects_a_meeting)
            visits_stored.send(actor, visits=[stored], now=now)
    except IntegrityError:
        # Another request stored the same client_id (or corrected the same record) just now.
        if db.session.scalar(sa.select(VisitRecord.id).where(VisitRecord.client_id == client_id)):
            return SyncResult(client_id, "duplicate")
        if db.session.scalar(sa.select(VisitRecord.id).where(VisitRecord.supersedes_id == visit.supersedes_id)):
            return SyncResult(client_id, "rejected", {"supersedes": _("that record was already corrected")})
        return SyncResult(client_id, "rejected", {"": _("the record could not be stored; send it again")})
    return SyncResult(client_id, "created", visit_id=visit.id, notes=notes.get(client_id, {}))


def _unseen(actor: User, household_ids: set[int]) -> dict[int, str]:
    """Why households of the actor's area are refused: the resident restricted or objected to the processing."""
    # A member cannot open a restricted household; only the reason for the refusal is told.
    found = db.session.scalars(
        sa.select(Household.id)
        .join(AdminUnit, Household.village_id == AdminUnit.id)
        .where(
            unit_in_scope(actor),
            Household.erased_at.is_(None),
            any_of(Household.id, household_ids),
            Household.restricted_at.is_not(None),
        )
    )
    message = _("the resident asked that their data not be processed: no new visit can be recorded")
    return dict.fromkeys(found, message)


def sync_visits(actor: User, records: list, *, now: datetime) -> list[SyncResult]:
    """Store a batch from a phone. Each record is answered on its own (a rejected one never stops
    the others) but the work is done for the whole batch: one query for scope, one insert (which
    tells the duplicates), one for their obstacles. Corrections go one by one, in their place in the
    batch, since they depend on what came before them."""
    require_role(actor, Role.LEADER, Role.MEMBER)
    with planned_for_their_arrays():
        return _sync_in_order(actor, records, now=now)


def _sync_in_order(actor: User, records: list, *, now: datetime) -> list[SyncResult]:
    results: list[SyncResult | None] = [None] * len(records)
    plain: list[int] = []

    def flush_plain() -> None:
        for index, result in zip(plain, _store_batch(actor, [records[i] for i in plain], now=now), strict=True):
            results[index] = result
        plain.clear()

    for index, record in enumerate(records):
        if isinstance(record, dict) and record.get("supersedes"):
            flush_plain()
            results[index] = record_visit(actor, record, now=now)
        else:
            plain.append(index)
    flush_plain()
    assert all(result is not None for result in results)  # every record was answered, in its place
    return [result for result in results if result is not None]


def _found_in_scope(actor: User, wanted: set[int]) -> dict[int, _Found]:
    """The batch's households that the actor may record visits of, with what the sensitive facts need."""
    if not wanted:
        return {}
    columns = (Household.id, Household.village_id, _sensitive_consented())
    stmt = households_in_scope(actor).with_only_columns(*columns).where(any_of(Household.id, wanted))
    return {row.id: _Found(row.village_id, row[2]) for row in db.session.execute(stmt)}


def _store_batch(actor: User, records: list, *, now: datetime) -> list[SyncResult]:
    checked = []
    window = Window.at(now)
    for record in records:
        values, errors = check_visit(record, now, window=window)
        client_id = values.get("client_id") or (str(record.get("client_id", "")) if isinstance(record, dict) else "")
        checked.append((client_id, values, errors))
    wanted = {v["household_id"] for _c, v, _e in checked if "household_id" in v}
    found = _found_in_scope(actor, wanted)
    restricted = _unseen(actor, wanted - found.keys()) if wanted - found.keys() else {}
    for _c, values, errors in checked:
        if "household_id" in values and values["household_id"] not in found:
            errors["household_id"] = restricted.get(values["household_id"], _("no such household in your area"))
    # A record stored before is answered "duplicate", whatever it would be refused for now (a household
    # moved out of the area since): looked up here for the refused ones; the insert tells for the others.
    refused = [c for c, v, e in checked if e and "client_id" in v]
    seen = (
        set(db.session.scalars(sa.select(VisitRecord.client_id).where(any_of(VisitRecord.client_id, refused))))
        if refused
        else set()
    )
    member_id = actor.id  # read once: the actor may be the request's current_user proxy
    results: list[SyncResult] = []
    rows, obstacles, batch_ids = [], {}, set()
    for client_id, values, errors in checked:
        if "client_id" in values and (client_id in seen or client_id in batch_ids):
            results.append(SyncResult(client_id, "duplicate"))
            continue
        if errors:
            results.append(SyncResult(client_id, "rejected", errors))
            continue
        obstacles[client_id] = values.pop("obstacles")
        values.pop("supersedes")
        rows.append(values | {"member_id": member_id, "server_time": now, "supersedes_id": None})
        batch_ids.add(client_id)
        results.append(SyncResult(client_id, "created"))
    if not rows:
        return results
    # A request racing this one may store some of the same client_ids first: the database keeps
    # one, and the rows it skipped are answered "duplicate".
    created = _insert_ignoring_duplicates(rows)
    for result in results:
        if result.status == "created":
            if result.client_id in created:
                result.visit_id = created[result.client_id]
            else:
                result.status = "duplicate"
    by_id = {row["client_id"]: row for row in rows}
    sensitive = [
        _Sensitive(c, by_id[c]["household_id"], by_id[c]["device_time"], codes, by_id[c]["sensitive_consent"])
        for c, codes in obstacles.items()
        if c in created
    ]
    notes = _sensitive_apart(actor, sensitive, now=now, known=found)
    for item in sensitive:
        obstacles[item.client_id] = item.codes
    for result in results:
        result.notes = notes.get(result.client_id, {}) if result.status == "created" else {}
    obstacle_rows = [
        {"visit_id": created[client_id], "code": code}
        for client_id, codes in obstacles.items()
        if client_id in created
        for code in codes
    ]
    if obstacle_rows:
        _insert_obstacles(obstacle_rows)
    stored = [row for row in rows if row["client_id"] in created]
    visits_stored.send(
        actor,
        visits=[
            StoredVisit(created[row["client_id"]], row["household_id"], row["outcome"], row["device_time"])
            for row in stored
        ],
        now=now,
    )
    return results


def _insert_ignoring_duplicates(rows: list[dict]) -> dict[str, int]:
    """Insert visit rows, skipping client_ids already stored; returns {client_id: id} of those inserted."""
    then = "ON CONFLICT (client_id) DO NOTHING RETURNING id, client_id"
    result: sa.Result[Any]
    if on_postgresql():
        result = insert_unnest(VisitRecord.__table__, rows, then=then)
    else:
        insert = sqlite.insert(VisitRecord.__table__).on_conflict_do_nothing(index_elements=["client_id"])
        result = db.session.execute(insert.returning(VisitRecord.id, VisitRecord.client_id), rows)
    return {row.client_id: row.id for row in result}


def _insert_obstacles(rows: list[dict]) -> None:
    """The obstacles of the visits just stored: one statement (on PostgreSQL two arrays, as the visits)."""
    if on_postgresql():
        insert_unnest(VisitObstacle.__table__, rows)
    else:
        db.session.execute(sa.insert(VisitObstacle.__table__), rows)


def visit_history(actor: User, household) -> list[tuple[VisitRecord, bool]]:
    """Every record of a household, newest first, each with whether a later record corrected it."""
    get_household(actor, household.id)
    records = list(
        db.session.scalars(
            sa.select(VisitRecord)
            .where(VisitRecord.household_id == household.id)
            .order_by(VisitRecord.device_time.desc(), VisitRecord.id.desc())
        )
    )
    corrected = {r.supersedes_id for r in records if r.supersedes_id}
    return [(r, r.id in corrected) for r in records]


def visit_as_payload(record: VisitRecord, *, sensitive: bool = True) -> dict:
    """A stored record in the form the phone sends, so a correction starts from what was recorded.
    Without ``sensitive`` (a reader who neither recorded it nor needs it), a disability is left out."""
    payload = {
        "client_id": record.client_id,
        "household_id": record.household_id,
        "device_time": record.device_time.isoformat(),
        "outcome": record.outcome,
        "follow_up_on": record.follow_up_on.isoformat() if record.follow_up_on else None,
        "people_helped": record.people_helped,
        "helped_under_30": record.helped_under_30,
        "helped_30_to_59": record.helped_30_to_59,
        "helped_60_plus": record.helped_60_plus,
        **{fact: getattr(record, fact) for fact in HELP_FACTS},
        "procedure": record.procedure,
        "guide_given": record.guide_given,
        "obstacles": record.obstacle_codes if sensitive else record.plain_obstacle_codes,
        "obstacle_other": record.obstacle_other,
        "location_consent": record.location_consent,
        "sensitive_consent": record.sensitive_consent,
        "location": {"lat": record.lat, "lon": record.lon, "accuracy": record.accuracy_m}
        if record.lat is not None
        else None,
        "notes": record.notes,
        "supersedes": None,
    }
    return payload


def get_visit(actor: User, client_id: str) -> VisitRecord:
    """A visit record of a household the actor may see, by its client_id."""
    record = db.session.scalar(sa.select(VisitRecord).where(VisitRecord.client_id == client_id))
    if record is None:
        raise NotFound(client_id)
    get_household(actor, record.household_id)
    return record


def visits_recorded_on(member: User, day: date) -> list[VisitRecord]:
    """The member's current records of a local day, newest first (to check and correct them)."""
    start = day_start(day)
    return list(
        db.session.scalars(
            current_visits()
            .where(
                VisitRecord.member_id == member.id,
                VisitRecord.device_time >= start,
                VisitRecord.device_time < start + timedelta(days=1),
            )
            .order_by(VisitRecord.device_time.desc())
        )
    )
