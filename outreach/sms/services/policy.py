"""Who may receive an SMS and when: consent, opt-outs, numbers refused as invalid, quiet hours,
the daily cap per commune."""

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa

from outreach.auth.models import User
from outreach.clock import day_bounds, local_zone
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Household, Level
from outreach.sms.gateway import INVALID_NUMBER
from outreach.sms.models import InboundSms, OptOut, SmsMessage, Status
from outreach.sms.services.config import settings

# --- who may receive, and when ---------------------------------------------------------------

BLOCK_REASONS = ("no_phone", "no_consent", "opted_out")


def opted_out_numbers(phones: list[str]) -> set[str]:
    if not phones:
        return set()
    return set(db.session.scalars(sa.select(OptOut.phone).where(OptOut.phone.in_(set(phones)))))


def invalid_numbers(phones: list[str]) -> set[str]:
    """The numbers among ``phones`` that the network already refused as invalid: sending again cannot
    help until the household's number is corrected (a corrected number is another number)."""
    if not phones:
        return set()
    return set(
        db.session.scalars(
            sa.select(SmsMessage.to_phone).where(
                SmsMessage.to_phone.in_(set(phones)), SmsMessage.error_code == INVALID_NUMBER
            )
        )
    )


def cancel_waiting(phone: str, *, reason: str, now: datetime) -> None:
    """Cancel what still waits to go to ``phone`` (it opted out, or the network refused it)."""
    db.session.execute(
        sa.update(SmsMessage)
        .where(SmsMessage.to_phone == phone, SmsMessage.status == Status.QUEUED)
        .values(status=Status.CANCELLED, error_message=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def sms_blocker(household: Household, opted_out: set[str]) -> str | None:
    """Why no SMS may go to this household now (``BLOCK_REASONS``), or None."""
    if household.erased_at is not None or not household.phone:
        return "no_phone"
    if not household.may_receive_sms:
        return "no_consent"
    if household.phone in opted_out:
        return "opted_out"
    return None


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def in_quiet_hours(moment: datetime) -> bool:
    start, end = _clock(settings()["SMS_QUIET_START"]), _clock(settings()["SMS_QUIET_END"])
    now = moment.astimezone(local_zone()).time()
    if start == end:
        return False
    if start < end:
        return start <= now < end
    return now >= start or now < end


def next_send_time(moment: datetime) -> datetime:
    """``moment`` itself, or the end of the quiet hours it falls in (UTC)."""
    if not in_quiet_hours(moment):
        return moment
    local = moment.astimezone(local_zone())
    end = _clock(settings()["SMS_QUIET_END"])
    day = local.date() if local.time() < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=local_zone()).astimezone(UTC)


CAP_LOCK = 0x5C4CA  # the class of the advisory locks that guard the communes' daily caps


def hold_daily_caps(commune_ids: Iterable[int]) -> None:
    """Hold the daily-cap lock of these communes until the transaction ends, so that two sends at
    once count each other's messages instead of both filling the same day. On PostgreSQL an advisory
    lock per commune, taken in one order so two senders never wait for each other in a circle; on
    SQLite a sending request holds the database's one write lock from its start."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for commune_id in sorted(set(commune_ids)):
        db.session.execute(
            sa.text("SELECT pg_advisory_xact_lock(CAST(:lock AS integer), CAST(:commune AS integer))"),
            {"lock": CAP_LOCK, "commune": commune_id},
        )


def schedule(commune_id: int, count: int, *, now: datetime) -> list[datetime]:
    """When each of ``count`` new messages of a commune may go: after the quiet hours, and within
    the commune's daily cap (the rest waits for the next days' morning). Nothing is dropped. Holds
    the commune's cap until the transaction ends: the caller inserts the messages and commits."""
    hold_daily_caps([commune_id])
    cap = settings()["SMS_DAILY_CAP_PER_COMMUNE"]
    first = next_send_time(now)
    times: list[datetime] = []
    day = first.astimezone(local_zone()).date()
    while len(times) < count:
        start, end = day_bounds(day)
        used = db.session.scalar(
            sa.select(sa.func.count(SmsMessage.id)).where(
                SmsMessage.commune_id == commune_id,
                SmsMessage.due_at >= start,
                SmsMessage.due_at < end,
                SmsMessage.status != Status.CANCELLED,
            )
        )
        free = max(cap - used, 0)
        at = first if day == first.astimezone(local_zone()).date() else next_send_time(start)
        times.extend([at] * min(free, count - len(times)))
        day += timedelta(days=1)
    return times


def commune_of(household: Household) -> AdminUnit:
    """The commune of a household's village (every village sits under one)."""
    unit: AdminUnit | None = household.village
    while unit is not None and unit.level != Level.COMMUNE:
        unit = unit.parent
    assert unit is not None, f"household {household.id} is not under a commune"
    return unit


# --- opt-out ---------------------------------------------------------------------------------


def opt_out(phone: str, *, source: str, keyword: str = "", now: datetime) -> bool:
    """Stop every SMS to ``phone``: recorded once, and messages still waiting are cancelled."""
    new = db.session.get(OptOut, phone) is None
    if new:
        db.session.add(OptOut(phone=phone, source=source, keyword=keyword[:20], created_at=now))
    cancel_waiting(phone, reason="opted_out", now=now)
    db.session.flush()
    return new


def opt_out_of(phone: str | None) -> OptOut | None:
    """The number's opt-out (it asked for no more SMS), or None."""
    return db.session.get(OptOut, phone) if phone else None


def opt_in(phone: str) -> bool:
    """The number may receive SMS again (consent still decides)."""
    row = db.session.get(OptOut, phone)
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    return True


# --- a resident's erasure (geo asks through outreach.geo.signals) ----------------------------


def erase_messages_of(household: Household, *, actor: User, now: datetime) -> None:
    """SMS sent to and received from the household name them and hold the number: only the rows stay."""
    db.session.execute(
        sa.update(SmsMessage)
        .where(SmsMessage.household_id == household.id)
        .values(to_phone="", body="", household_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(InboundSms)
        .where(InboundSms.household_id == household.id)
        .values(from_phone="", body="", household_id=None)
        .execution_options(synchronize_session=False)
    )
