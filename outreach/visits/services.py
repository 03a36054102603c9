"""Recording visits. A record is checked whole, stored whole or not at all, and a client_id seen
before changes nothing: phones resend, networks drop answers, two requests may race."""

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from outreach.auth.models import Role, User
from outreach.auth.scope import get_household, households_in_scope, require_role
from outreach.clock import day_start
from outreach.errors import NotFound
from outreach.extensions import db
from outreach.geo.models import Household
from outreach.planning.services import close_assignments
from outreach.visits.models import GUIDES, HELP_FACTS, Obstacle, Outcome, VisitObstacle, VisitRecord, current_visits

MAX_BATCH = 500
_OUTCOMES = frozenset(Outcome)
_OBSTACLES = frozenset(Obstacle)
_FIELDS = {
    "client_id", "household_id", "device_time", "outcome", "follow_up_on", "people_helped",
    "helped_under_30", "helped_30_to_59", "helped_60_plus", *HELP_FACTS, "procedure", "guide_given",
    "obstacles", "obstacle_other", "location_consent", "location", "notes", "supersedes",
}  # fmt: skip
# An ID card number (CCCD 12 digits, old CMND 9) or an OTP must never be written down. Digits may be
# grouped with spaces, dots or dashes ("001-099-012-345"); amounts ("100.000đ") and phones (10) pass.
_DIGIT_RUN = re.compile(r"\d(?:[ .\-]?\d)*")
_MONEY_AFTER = re.compile(r"\s*(đ|đồng|d\b|vnd|vnđ|k\b|nghìn|ngàn|triệu)", re.IGNORECASE)
_OTP_BEFORE = re.compile(r"(otp|mã|ma xac|xác nhận|xac nhan)\W*$", re.IGNORECASE)


def looks_secret(text: str) -> bool:
    """An ID card number, or an OTP code named as such, in free text."""
    for match in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if _MONEY_AFTER.match(text, match.end()):
            continue
        if len(digits) in (9, 12):
            return True
        if len(digits) in (4, 6) and _OTP_BEFORE.search(text[max(0, match.start() - 16) : match.start()]):
            return True
    return False


@dataclass
class SyncResult:
    client_id: str
    status: str  # created | duplicate | rejected
    errors: dict[str, str] = field(default_factory=dict)
    visit_id: int | None = None

    def as_json(self) -> dict:
        return {"client_id": self.client_id, "status": self.status, "errors": self.errors}


def _int(payload: dict, name: str, errors: dict, *, low: int = 0, high: int = 50) -> int:
    value = payload.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[name] = _("a whole number from %(low)s to %(high)s", low=low, high=high)
        return 0
    return value


def _bool(payload: dict, name: str, errors: dict) -> bool:
    value = payload.get(name, False)
    if not isinstance(value, bool):
        errors[name] = _("true or false")
        return False
    return value


def _text(payload: dict, name: str, errors: dict, *, limit: int) -> str:
    value = payload.get(name, "")
    if not isinstance(value, str):
        errors[name] = _("text")
        return ""
    value = value.strip()
    if len(value) > limit:
        errors[name] = _("at most %(n)s characters", n=limit)
    elif looks_secret(value):
        errors[name] = _("looks like an ID card number or an OTP code: never write those down")
    return value


def _moment(value, errors: dict, now: datetime) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        errors["device_time"] = _("a date and time like 2026-11-26T09:30:00+07:00")
        return None
    if moment.tzinfo is None:
        errors["device_time"] = _("the time zone is missing")
        return None
    if moment > now + timedelta(days=1):
        errors["device_time"] = _("in the future: check the phone's clock")
        return None
    return moment


def check_visit(payload: dict, now: datetime) -> tuple[dict, dict[str, str]]:
    """Validate one record from a phone: the values to store, and errors by field."""
    errors: dict[str, str] = {}
    if not isinstance(payload, dict):
        return {}, {"": _("a visit must be a JSON object")}
    for name in sorted(set(payload) - _FIELDS):
        errors[name] = _("unknown field (passwords, OTP codes and ID numbers are never stored)")
    values: dict = {}
    try:
        values["client_id"] = str(uuid.UUID(str(payload.get("client_id"))))
    except ValueError:
        errors["client_id"] = _("a UUID made on the phone")
    household_id = payload.get("household_id")
    if isinstance(household_id, bool) or not isinstance(household_id, int):
        errors["household_id"] = _("the number of a household")
    values["household_id"] = household_id
    values["device_time"] = _moment(payload.get("device_time"), errors, now)
    outcome = payload.get("outcome")
    if outcome not in _OUTCOMES:
        errors["outcome"] = _("one of: %(values)s", values=", ".join(Outcome))
    values["outcome"] = outcome
    values["follow_up_on"] = None
    if payload.get("follow_up_on"):
        try:
            values["follow_up_on"] = date.fromisoformat(str(payload["follow_up_on"]))
        except ValueError:
            errors["follow_up_on"] = _("a date like 2026-12-01")
    if outcome == Outcome.FOLLOW_UP and values["follow_up_on"] is None and "follow_up_on" not in errors:
        errors["follow_up_on"] = _("a follow-up needs a date")
    if values["follow_up_on"] and values["device_time"] and values["follow_up_on"] < values["device_time"].date():
        errors["follow_up_on"] = _("the follow-up date is before the visit")

    values["people_helped"] = _int(payload, "people_helped", errors)
    bands = ("helped_under_30", "helped_30_to_59", "helped_60_plus")
    for band in bands:
        values[band] = _int(payload, band, errors)
    if any(values[b] for b in bands) and sum(values[b] for b in bands) != values["people_helped"]:
        errors["people_helped"] = _("the age bands must add up to the number of people helped")
    for fact in HELP_FACTS:
        values[fact] = _bool(payload, fact, errors)
    # Nobody helped at a closed door: facts that would inflate the progress figures are refused.
    if outcome in (Outcome.NOBODY_HOME, Outcome.REFUSED, Outcome.MOVED_AWAY):
        if values["people_helped"] or any(values[f] for f in HELP_FACTS):
            errors["outcome"] = _("nobody was helped with this outcome: clear the people helped and what was done")
    elif outcome == Outcome.HELPED and values["people_helped"] == 0 and "people_helped" not in errors:
        errors["people_helped"] = _("how many people were helped (at least 1)")
    values["procedure"] = _text(payload, "procedure", errors, limit=200)
    if values["procedure_submitted"] and not values["procedure"] and "procedure" not in errors:
        errors["procedure"] = _("which procedure was submitted (its name or code)")
    guide = payload.get("guide_given", "")
    if guide not in GUIDES:
        errors["guide_given"] = _("empty, printed or sms")
    values["guide_given"] = guide

    obstacles = payload.get("obstacles", [])
    if not isinstance(obstacles, list) or any(o not in _OBSTACLES for o in obstacles):
        errors["obstacles"] = _("a list of: %(values)s", values=", ".join(Obstacle))
        obstacles = []
    values["obstacles"] = sorted(set(obstacles))
    values["obstacle_other"] = _text(payload, "obstacle_other", errors, limit=200)
    if Obstacle.OTHER in values["obstacles"] and not values["obstacle_other"] and "obstacle_other" not in errors:
        errors["obstacle_other"] = _("say what the other obstacle was")

    values["location_consent"] = _bool(payload, "location_consent", errors)
    values["lat"] = values["lon"] = values["accuracy_m"] = None
    location = payload.get("location")
    if location is not None:
        if not values["location_consent"]:
            errors["location"] = _("a location is kept only with the resident's consent")
        elif not isinstance(location, dict) or not all(
            isinstance(location.get(k), int | float) and not isinstance(location.get(k), bool) for k in ("lat", "lon")
        ):
            errors["location"] = _("an object with lat, lon and accuracy (metres)")
        elif not (-90 <= location["lat"] <= 90 and -180 <= location["lon"] <= 180):
            errors["location"] = _("latitude or longitude out of range")
        else:
            values["lat"], values["lon"] = float(location["lat"]), float(location["lon"])
            accuracy = location.get("accuracy")
            values["accuracy_m"] = float(accuracy) if isinstance(accuracy, int | float) else None
    values["notes"] = _text(payload, "notes", errors, limit=1000)
    supersedes = payload.get("supersedes")
    values["supersedes"] = None
    if supersedes is not None:
        try:
            values["supersedes"] = str(uuid.UUID(str(supersedes)))
        except ValueError:
            errors["supersedes"] = _("the client_id of the record being corrected")
    return values, errors


def record_visit(actor: User, payload: dict, *, now: datetime) -> SyncResult:
    """Store one visit from a device; a client_id seen before changes nothing."""
    require_role(actor, Role.LEADER, Role.MEMBER)
    client_id = str(payload.get("client_id", "")) if isinstance(payload, dict) else ""
    values, errors = check_visit(payload, now)
    if "client_id" not in errors:
        client_id = values["client_id"]
        if db.session.scalar(sa.select(VisitRecord.id).where(VisitRecord.client_id == client_id)):
            return SyncResult(client_id, "duplicate")
    household = None
    if "household_id" not in errors:
        try:
            household = get_household(actor, values["household_id"])
        except NotFound:
            errors["household_id"] = _("no such household in your area")
    previous = None
    if values.get("supersedes") and not errors:
        previous = db.session.scalar(sa.select(VisitRecord).where(VisitRecord.client_id == values["supersedes"]))
        if previous is None or previous.household_id != household.id:
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

    obstacles = values.pop("obstacles")
    values.pop("supersedes")
    visit = VisitRecord(
        **values,
        member_id=actor.id,
        server_time=now,
        supersedes_id=previous.id if previous else None,
        obstacles=[VisitObstacle(code=code) for code in obstacles],
    )
    try:
        with db.session.begin_nested():  # a savepoint: this record alone is undone if it fails
            db.session.add(visit)
            db.session.flush()
            close_assignments(actor, [household.id], now=now)
    except IntegrityError:
        # Another request stored the same client_id (or corrected the same record) just now.
        if db.session.scalar(sa.select(VisitRecord.id).where(VisitRecord.client_id == client_id)):
            return SyncResult(client_id, "duplicate")
        if db.session.scalar(sa.select(VisitRecord.id).where(VisitRecord.supersedes_id == visit.supersedes_id)):
            return SyncResult(client_id, "rejected", {"supersedes": _("that record was already corrected")})
        return SyncResult(client_id, "rejected", {"": _("the record could not be stored; send it again")})
    return SyncResult(client_id, "created", visit_id=visit.id)


def sync_visits(actor: User, records: list, *, now: datetime) -> list[SyncResult]:
    """Store a batch from a phone. Each record is answered on its own (a rejected one never stops
    the others) but the work is done for the whole batch: one query for duplicates, one for scope,
    one insert. Corrections go one by one, in their place in the batch, since they depend on
    what came before them."""
    require_role(actor, Role.LEADER, Role.MEMBER)
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
    return results


def _store_batch(actor: User, records: list, *, now: datetime) -> list[SyncResult]:
    checked = []
    for record in records:
        values, errors = check_visit(record, now)
        client_id = values.get("client_id") or (str(record.get("client_id", "")) if isinstance(record, dict) else "")
        checked.append((client_id, values, errors))
    ids = [c for c, _v, e in checked if "client_id" not in e]
    seen = (
        set(db.session.scalars(sa.select(VisitRecord.client_id).where(VisitRecord.client_id.in_(ids))))
        if ids
        else set()
    )
    wanted = {v["household_id"] for _c, v, e in checked if "household_id" not in e}
    visible = (
        set(
            db.session.scalars(
                households_in_scope(actor).with_only_columns(Household.id).where(Household.id.in_(wanted))
            )
        )
        if wanted
        else set()
    )
    results: list[SyncResult] = []
    rows, obstacles, batch_ids = [], {}, set()
    for client_id, values, errors in checked:
        if "client_id" not in errors and (client_id in seen or client_id in batch_ids):
            results.append(SyncResult(client_id, "duplicate"))
            continue
        if "household_id" not in errors and values["household_id"] not in visible:
            errors["household_id"] = _("no such household in your area")
        if errors:
            results.append(SyncResult(client_id, "rejected", errors))
            continue
        obstacles[client_id] = values.pop("obstacles")
        values.pop("supersedes")
        rows.append(values | {"member_id": actor.id, "server_time": now, "supersedes_id": None})
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
    obstacle_rows = [
        {"visit_id": created[client_id], "code": code}
        for client_id, codes in obstacles.items()
        if client_id in created
        for code in codes
    ]
    if obstacle_rows:
        db.session.execute(sa.insert(VisitObstacle.__table__), obstacle_rows)
    visited = {row["household_id"] for row in rows if row["client_id"] in created}
    close_assignments(actor, visited, now=now)
    return results


def _insert_ignoring_duplicates(rows: list[dict]) -> dict[str, int]:
    """Insert visit rows, skipping client_ids already stored; returns {client_id: id} of those inserted."""
    table = VisitRecord.__table__
    columns = list(rows[0])
    if db.session.get_bind().dialect.name == "postgresql":
        # One array per column and unnest(): a few parameters instead of thousands, which the
        # driver would otherwise rewrite one by one.
        dialect = postgresql.dialect()
        casts = ", ".join(f"CAST(:{c} AS {table.c[c].type.compile(dialect=dialect)}[])" for c in columns)
        statement = sa.text(
            f"INSERT INTO visit_record ({', '.join(columns)}) SELECT * FROM unnest({casts}) "  # noqa: S608 - our column names
            "ON CONFLICT (client_id) DO NOTHING RETURNING id, client_id"
        )
        result = db.session.execute(statement, {c: [row[c] for row in rows] for c in columns})
    else:
        statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=["client_id"])
        result = db.session.execute(statement.returning(table.c.id, table.c.client_id), rows)
    return {client_id: visit_id for visit_id, client_id in result}


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


def visit_as_payload(record: VisitRecord) -> dict:
    """A stored record in the form the phone sends, so a correction starts from what was recorded."""
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
        "obstacles": record.obstacle_codes,
        "obstacle_other": record.obstacle_other,
        "location_consent": record.location_consent,
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
