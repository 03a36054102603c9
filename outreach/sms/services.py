"""Guides, the SMS outbox and its rules (consent, opt-out, quiet hours, the daily cap), the
dispatcher's steps, delivery receipts and replies. Every read of households goes through
``outreach.auth.scope``; services flush, the request, command or job commits."""

import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import nh3
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from markdown_it import MarkdownIt
from markupsafe import Markup

from outreach.audit.services import record_event
from outreach.auth.models import Role, User
from outreach.auth.scope import get_household, households_in_scope, require_role, unit_in_scope
from outreach.errors import NotFound, ValidationError
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Household, Level
from outreach.geo.phone import PhoneError, normalize_phone
from outreach.planning.models import Assignment
from outreach.sms.gateway import INVALID_NUMBER, OPTED_OUT_CODE, Gateway, GatewayError
from outreach.sms.models import (
    DailySummary,
    FollowUpReminder,
    Guide,
    InboundSms,
    OptOut,
    SmsMessage,
    Status,
)
from outreach.sms.segments import count_segments, without_diacritics
from outreach.text import clean, fold
from outreach.visits.models import VisitRecord, current_visits, latest_visits

DEFAULT_TEMPLATE = "Chào {name}, Tổ công nghệ số gửi hướng dẫn: {link} Nhắn TU CHOI để ngừng nhận tin."
REMINDER_TEMPLATE = (
    "Nhắc lịch: hôm nay {date} Tổ công nghệ số cộng đồng hẹn quay lại hỗ trợ gia đình {name} "
    "dùng dịch vụ công trực tuyến. Trả lời TU CHOI để ngừng nhận tin."
)
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,19}$")


def settings() -> dict:
    return current_app.config


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings()["BABEL_DEFAULT_TIMEZONE"])


# --- guides ----------------------------------------------------------------------------------

_markdown = MarkdownIt("commonmark", {"typographer": False}).enable("table")


def render_markdown(body: str) -> Markup:
    """A guide's Markdown as safe HTML (links and images from editors are allowed, scripts never)."""
    html = _markdown.render(body or "")
    return Markup(nh3.clean(html, link_rel="noopener noreferrer"))  # noqa: S704 - sanitized by nh3


def list_guides() -> list[Guide]:
    return list(db.session.scalars(sa.select(Guide).order_by(Guide.id)))


def get_guide(guide_id: int) -> Guide:
    guide = db.session.get(Guide, guide_id)
    if guide is None:
        raise NotFound(guide_id)
    return guide


def guide_by_code(code: str) -> Guide:
    guide = db.session.scalar(sa.select(Guide).where(Guide.code == code.lower()))
    if guide is None:
        raise NotFound(code)
    return guide


@dataclass
class GuideInput:
    code: str
    title_vi: str
    body_vi: str
    title_en: str = ""
    body_en: str = ""


def save_guide(actor: User | None, data: GuideInput, *, now: datetime, guide: Guide | None = None) -> Guide:
    """Create a guide (or update ``guide``). Leaders and admins edit the library; ``actor=None`` is the seed."""
    if actor is not None:
        require_role(actor, Role.LEADER)
    code = clean(data.code).lower()
    errors: dict[str, list[str]] = {}
    if not CODE_PATTERN.match(code):
        errors["code"] = [_("2 to 20 characters: lower-case letters, digits and hyphens (it goes in the short link).")]
    else:
        same = db.session.scalar(sa.select(Guide).where(Guide.code == code))
        if same is not None and same is not guide:
            errors["code"] = [_("Another guide already has the short link /g/%(code)s.", code=code)]
    title_vi, title_en = clean(data.title_vi), clean(data.title_en)
    body_vi, body_en = _clean_body(data.body_vi), _clean_body(data.body_en)
    if not title_vi:
        errors["title_vi"] = [_("Enter the Vietnamese title.")]
    elif len(title_vi) > 160:
        errors["title_vi"] = [_("The title is too long (at most 160 characters).")]
    if len(title_en) > 160:
        errors["title_en"] = [_("The title is too long (at most 160 characters).")]
    if not body_vi:
        errors["body_vi"] = [_("Write the steps in Vietnamese.")]
    if bool(title_en) != bool(body_en):
        errors["title_en" if not title_en else "body_en"] = [_("An English version needs both a title and steps.")]
    if errors:
        raise ValidationError(errors)
    if guide is None:
        guide = Guide(code=code, created_at=now)
        db.session.add(guide)
    guide.code, guide.title_vi, guide.body_vi, guide.title_en, guide.body_en = (
        code,
        title_vi,
        body_vi,
        title_en,
        body_en,
    )
    guide.updated_at, guide.updated_by_id = now, actor.id if actor else None
    db.session.flush()
    if actor is not None:
        record_event(actor, "guide.save", target=guide, detail={"label": code}, now=now)
    return guide


def _clean_body(body: str | None) -> str:
    import unicodedata

    return unicodedata.normalize("NFC", (body or "").replace("\r\n", "\n")).strip()


def count_open(guide: Guide, token: str | None, *, now: datetime) -> None:
    """One more open of the guide, and of the message whose link carried ``token``. Nothing about
    the reader is kept: no cookie, no address, no time of the open beyond the message's first."""
    db.session.execute(sa.update(Guide).where(Guide.id == guide.id).values(opens=Guide.opens + 1))
    if token and len(token) <= 16:
        db.session.execute(
            sa.update(SmsMessage)
            .where(SmsMessage.token == token, SmsMessage.guide_id == guide.id)
            .values(opens=SmsMessage.opens + 1, opened_at=sa.func.coalesce(SmsMessage.opened_at, now))
            .execution_options(synchronize_session=False)
        )


def guide_url(guide: Guide, token: str | None = None) -> str:
    base = settings()["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/g/{guide.code}" + (f"?t={token}" if token else "")


# --- composing -------------------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(6)  # 8 characters


def compose(template: str, *, name: str, link: str, plain: bool = False) -> str:
    """The message for one household: ``{name}`` and ``{link}`` filled in, NFC, optionally without diacritics."""
    text = clean(template).replace("{name}", clean(name)).replace("{link}", link)
    return without_diacritics(text) if plain else text


def check_template(template: str) -> dict[str, list[str]]:
    errors = {}
    text = clean(template)
    if not text:
        errors["template"] = [_("Write the message.")]
    elif "{link}" not in text:
        errors["template"] = [_("The message must contain {link}, where the guide's short link goes.")]
    elif len(re.findall(r"\{(\w*)\}", text)) != text.count("{name}") + text.count("{link}"):
        errors["template"] = [_("Only {name} and {link} can be filled in.")]
    elif count_segments(compose(text, name="Nguyễn Thị Phương Thảo", link="x" * 40)).segments > 6:
        errors["template"] = [_("The message is too long (more than 6 SMS segments).")]
    return errors


# --- who may receive, and when ---------------------------------------------------------------

BLOCK_REASONS = ("no_phone", "no_consent", "opted_out")


def opted_out_numbers(phones: list[str]) -> set[str]:
    if not phones:
        return set()
    return set(db.session.scalars(sa.select(OptOut.phone).where(OptOut.phone.in_(set(phones)))))


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


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=local_zone()).astimezone(UTC)
    return start, start + timedelta(days=1)


def schedule(commune_id: int, count: int, *, now: datetime) -> list[datetime]:
    """When each of ``count`` new messages of a commune may go: after the quiet hours, and within
    the commune's daily cap (the rest waits for the next days' morning). Nothing is dropped."""
    cap = settings()["SMS_DAILY_CAP_PER_COMMUNE"]
    first = next_send_time(now)
    times: list[datetime] = []
    day = first.astimezone(local_zone()).date()
    while len(times) < count:
        start, end = _day_bounds(day)
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
    unit = household.village
    while unit is not None and unit.level != Level.COMMUNE:
        unit = unit.parent
    return unit


# --- queueing --------------------------------------------------------------------------------


@dataclass
class SendPlan:
    """What a send would do (the preview), or did (after ``queue_guide_sms``)."""

    recipients: int = 0
    skipped: Counter = field(default_factory=Counter)
    segments: int = 0
    plain_segments: int = 0  # the same messages without diacritics
    encoding: str = "GSM-7"
    deferred: int = 0  # wait for the end of the quiet hours, or a later day (daily cap)
    first_due: datetime | None = None
    sample: str = ""
    messages: list[SmsMessage] = field(default_factory=list)

    @property
    def cost(self) -> float:
        return self.segments * settings()["SMS_PRICE_PER_SEGMENT"]

    @property
    def plain_saving(self) -> int:
        return self.segments - self.plain_segments


def queue_guide_sms(
    actor: User,
    household_ids: list[int],
    guide_id: int,
    template: str,
    *,
    now: datetime,
    plain: bool = False,
    visit_id: int | None = None,
    dry_run: bool = False,
    again: bool = False,
) -> SendPlan:
    """Queue one SMS with the guide's link per household that consented and did not opt out. Written
    in the caller's transaction (the outbox); the dispatcher sends them. ``dry_run``: the preview only."""
    require_role(actor, Role.LEADER, Role.MEMBER)
    guide = get_guide(guide_id) if guide_id else None
    errors = check_template(template)
    if guide is None:
        errors["guide_id"] = [_("Choose a guide.")]
    if not household_ids:
        errors[""] = [_("No household chosen.")]
    if errors:
        raise ValidationError(errors)
    households = list(db.session.scalars(households_in_scope(actor).where(Household.id.in_(household_ids))))
    if len(households) != len(set(household_ids)):
        raise NotFound(sorted(set(household_ids) - {h.id for h in households})[0])
    if visit_id is not None:
        visit = db.session.get(VisitRecord, visit_id)
        if visit is None or visit.household_id not in set(household_ids):
            raise NotFound(visit_id)
    opted_out = opted_out_numbers([h.phone for h in households if h.phone])
    # Not twice: households that have this guide (waiting, sent or delivered) unless asked again, and
    # numbers the network already refused as invalid.
    had_it = (
        set()
        if again
        else set(
            db.session.scalars(
                sa.select(SmsMessage.household_id).where(
                    SmsMessage.household_id.in_([h.id for h in households]),
                    SmsMessage.guide_id == guide.id,
                    SmsMessage.status.in_(
                        [Status.QUEUED, Status.SENDING, Status.SENT, Status.DELIVERED, Status.NEEDS_CHECK]
                    ),
                )
            )
        )
    )
    invalid = set(
        db.session.scalars(
            sa.select(SmsMessage.to_phone).where(
                SmsMessage.to_phone.in_([h.phone for h in households if h.phone]),
                SmsMessage.error_code == INVALID_NUMBER,
            )
        )
    )
    plan = SendPlan()
    by_commune: dict[int, list[tuple[Household, str, str]]] = {}
    for household in households:
        reason = sms_blocker(household, opted_out)
        if reason is None and household.phone in invalid:
            reason = "invalid_number"
        if reason is None and household.id in had_it:
            reason = "already_sent"
        if reason:
            plan.skipped[reason] += 1
            continue
        token = new_token()
        body = compose(template, name=household.head_name, link=guide_url(guide, token), plain=plain)
        plain_count = count_segments(without_diacritics(body))
        counted = count_segments(body)
        plan.recipients += 1
        plan.segments += counted.segments
        plan.plain_segments += plain_count.segments
        if counted.encoding == "UCS-2":
            plan.encoding = "UCS-2"
        plan.sample = plan.sample or body
        by_commune.setdefault(commune_of(household).id, []).append((household, token, body))
    for commune_id, rows in by_commune.items():
        times = schedule(commune_id, len(rows), now=now)
        for (household, token, body), due in zip(rows, times, strict=True):
            if due > now:
                plan.deferred += 1
            plan.first_due = min(plan.first_due or due, due)
            if dry_run:
                continue
            counted = count_segments(body)
            message = SmsMessage(
                kind="guide", commune_id=commune_id, household_id=household.id, visit_id=visit_id,
                guide_id=guide.id, to_phone=household.phone, body=body, encoding=counted.encoding,
                segments=counted.segments, token=token, status=Status.QUEUED, due_at=due,
                created_at=now, updated_at=now, created_by_id=actor.id,
            )  # fmt: skip
            db.session.add(message)
            plan.messages.append(message)
    if not dry_run:
        db.session.flush()
    return plan


def household_messages(actor: User, household_id: int) -> list[SmsMessage]:
    household = get_household(actor, household_id)
    return list(
        db.session.scalars(
            sa.select(SmsMessage).where(SmsMessage.household_id == household.id).order_by(SmsMessage.id.desc())
        )
    )


def bulk_households(actor: User, *, village_id: int | None, which: str, today: date) -> list[Household]:
    """The households a leader's filter picks (the same filters as assignment)."""
    from outreach.planning.services import FILTERS, pick_households

    require_role(actor, Role.LEADER)
    if which not in FILTERS:
        raise ValidationError({"which": [_("Choose a filter.")]})
    return [h for h, _a, _v in pick_households(actor, village_id=village_id, which=which, today=today, limit=5000)]


# --- opt-out ---------------------------------------------------------------------------------


def opt_out(phone: str, *, source: str, keyword: str = "", now: datetime) -> bool:
    """Stop every SMS to ``phone``: recorded once, and messages still waiting are cancelled."""
    new = db.session.get(OptOut, phone) is None
    if new:
        db.session.add(OptOut(phone=phone, source=source, keyword=keyword[:20], created_at=now))
    db.session.execute(
        sa.update(SmsMessage)
        .where(SmsMessage.to_phone == phone, SmsMessage.status == Status.QUEUED)
        .values(status=Status.CANCELLED, error_message="opted_out", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return new


def opt_in(phone: str) -> bool:
    """The number may receive SMS again (consent still decides)."""
    row = db.session.get(OptOut, phone)
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    return True


def opt_out_of(phone: str | None) -> OptOut | None:
    return db.session.get(OptOut, phone) if phone else None


# --- the dispatcher's steps ------------------------------------------------------------------


def claim_due(*, now: datetime, limit: int) -> list[int]:
    """Mark up to ``limit`` due messages as being sent, atomically: on PostgreSQL rows another
    dispatcher holds are skipped (``FOR UPDATE SKIP LOCKED``); on SQLite the one writer serializes.
    Nothing is claimed during the quiet hours."""
    if in_quiet_hours(now):
        return []
    due = (
        sa.select(SmsMessage.id)
        .where(SmsMessage.status == Status.QUEUED, SmsMessage.due_at <= now)
        .order_by(SmsMessage.due_at, SmsMessage.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = db.session.scalars(
        sa.update(SmsMessage)
        .where(SmsMessage.id.in_(due.scalar_subquery()), SmsMessage.status == Status.QUEUED)
        .values(status=Status.SENDING, claimed_at=now, attempts=SmsMessage.attempts + 1, updated_at=now)
        .returning(SmsMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(claimed)


def mark_interrupted(*, now: datetime) -> int:
    """Messages claimed long ago and still "sending": the dispatcher stopped between claim and
    result, so they may or may not have gone out. A person checks them; none is resent."""
    stale = now - timedelta(seconds=settings()["SMS_STALE_CLAIM_S"])
    result = db.session.execute(
        sa.update(SmsMessage)
        .where(SmsMessage.status == Status.SENDING, SmsMessage.claimed_at < stale)
        .values(status=Status.NEEDS_CHECK, error_message="interrupted", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min ... at most an hour (``SMS_RETRY_BASE_S`` sets the first)."""
    return timedelta(seconds=min(settings()["SMS_RETRY_BASE_S"] * 2 ** max(attempts - 1, 0), 3600))


def send_claimed(message: SmsMessage, gateway: Gateway, *, now: datetime) -> str:
    """Send one claimed message and record what happened; returns its new status."""
    if message.status != Status.SENDING:
        return message.status
    household = message.household
    blocked = opt_out_of(message.to_phone) is not None
    if household is not None and (not household.may_receive_sms or household.phone != message.to_phone):
        blocked = True  # consent withdrawn, number changed or erased since it was queued
    if blocked:
        message.status, message.error_message = Status.CANCELLED, "no_consent_or_opted_out"
    else:
        try:
            result = gateway.send(message.to_phone, message.body)
        except GatewayError as exc:
            message.error_code, message.error_message = exc.code, exc.reason[:300]
            if exc.uncertain:
                message.status = Status.NEEDS_CHECK
            elif exc.retry and message.attempts < settings()["SMS_MAX_ATTEMPTS"]:
                message.status, message.due_at = Status.QUEUED, now + backoff(message.attempts)
            else:
                message.status = Status.FAILED
                if exc.code == OPTED_OUT_CODE:
                    opt_out(message.to_phone, source="carrier", keyword=str(exc.code), now=now)
        else:
            message.status, message.sent_at = Status.SENT, now
            message.provider_sid, message.provider_status = result.provider_sid, result.provider_status
            message.error_code, message.error_message = None, ""
    message.updated_at = now
    db.session.flush()
    return message.status


# --- webhooks --------------------------------------------------------------------------------

RANK = {
    Status.QUEUED: 0, Status.SENDING: 1, Status.NEEDS_CHECK: 1, Status.SENT: 2,
    Status.DELIVERED: 3, Status.UNDELIVERED: 3, Status.FAILED: 3, Status.CANCELLED: 3,
}  # fmt: skip
PROVIDER_STATUS = {
    "accepted": Status.SENT, "scheduled": Status.SENT, "queued": Status.SENT, "sending": Status.SENT,
    "sent": Status.SENT, "delivered": Status.DELIVERED, "read": Status.DELIVERED,
    "undelivered": Status.UNDELIVERED, "failed": Status.FAILED, "canceled": Status.FAILED,
}  # fmt: skip


def record_delivery(params: dict, *, now: datetime) -> SmsMessage | None:
    """A delivery receipt: the message moves forward (a late "sent" never undoes "delivered")."""
    message = db.session.scalar(sa.select(SmsMessage).where(SmsMessage.provider_sid == params.get("MessageSid", "")))
    provider_status = str(params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
    status = PROVIDER_STATUS.get(provider_status)
    if message is None or status is None:
        return None
    code = params.get("ErrorCode")
    code = int(code) if code and str(code).isdigit() else None
    if RANK[status] > RANK[Status(message.status)] or message.status in (Status.SENDING, Status.NEEDS_CHECK):
        message.status, message.provider_status = status, provider_status
        if status == Status.DELIVERED:
            message.delivered_at = now
        if message.sent_at is None:
            message.sent_at = now
        if code:
            message.error_code, message.error_message = code, ""
        message.updated_at = now
    if code == OPTED_OUT_CODE:
        opt_out(message.to_phone, source="carrier", keyword=str(code), now=now)
    db.session.flush()
    return message


STOP_WORDS = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "huy", "tu choi", "tuchoi", "ngung"}
START_WORDS = {"start", "unstop", "bat dau", "batdau", "dang ky lai"}
HELP_WORDS = {"help", "info", "giup", "tro giup", "huong dan"}
TWILIO_HANDLES = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "start", "unstop"}
REPLIES = {
    "stop": "Ban da ngung nhan tin nhan huong dan cua To cong nghe so cong dong. Nhan BAT DAU de nhan lai.",
    "start": "Ban se nhan lai tin nhan huong dan cua To cong nghe so cong dong. Nhan TU CHOI de ngung nhan.",
    "help": (
        "To cong nghe so cong dong gui huong dan dung dich vu cong truc tuyen. Nhan TU CHOI de ngung nhan tin. "
        "Can giup, hay hoi to truong thon hoac UBND xa."
    ),
}


def keyword_of(body: str) -> str:
    """ "stop", "start", "help" or "": the whole reply, any case, with or without diacritics."""
    words = " ".join(re.findall(r"[a-z0-9]+", fold(body)))
    if words in STOP_WORDS:
        return "stop"
    if words in START_WORDS:
        return "start"
    if words in HELP_WORDS:
        return "help"
    return ""


def receive_reply(params: dict, *, now: datetime) -> tuple[InboundSms, str]:
    """Store a resident's reply for the commune's leader; STOP/HUY/TU CHOI opt the number out, START
    opts it back in. Returns the stored reply and the answer to send back ("" for none)."""
    sid = params.get("MessageSid") or None
    if sid:
        seen = db.session.scalar(sa.select(InboundSms).where(InboundSms.provider_sid == sid))
        if seen is not None:
            return seen, ""  # Twilio retried the webhook
    raw_from = str(params.get("From", ""))[:20]
    try:
        phone = normalize_phone(raw_from) or raw_from
    except PhoneError:
        phone = raw_from
    body = clean(params.get("Body", ""))[:1600]
    keyword = keyword_of(body)
    household = db.session.scalar(
        sa.select(Household)
        .where(Household.phone == phone, Household.erased_at.is_(None))
        .order_by(Household.id.desc())
        .limit(1)
    )
    inbound = InboundSms(
        provider_sid=sid, from_phone=phone, body=body, keyword=keyword, received_at=now,
        household_id=household.id if household else None,
        commune_id=commune_of(household).id if household else None,
    )  # fmt: skip
    db.session.add(inbound)
    if keyword == "stop":
        opt_out(phone, source="reply", keyword=fold(body)[:20], now=now)
    elif keyword == "start":
        opt_in(phone)
    db.session.flush()
    answer = "" if not keyword or fold(body).strip() in TWILIO_HANDLES else REPLIES[keyword]
    return inbound, answer


# --- what leaders see ------------------------------------------------------------------------


def messages_in_scope(actor: User) -> sa.Select:
    require_role(actor, Role.LEADER)
    return sa.select(SmsMessage).join(AdminUnit, SmsMessage.commune_id == AdminUnit.id).where(unit_in_scope(actor))


ATTENTION = (Status.FAILED, Status.NEEDS_CHECK, Status.UNDELIVERED)


def outbox_page(actor: User, *, status: str | None, limit: int = 100) -> dict:
    """Counts by status, the rows needing a person, recent rows and replies, for the leader's area."""
    base = messages_in_scope(actor)
    counts = dict(
        db.session.execute(
            base.with_only_columns(SmsMessage.status, sa.func.count(SmsMessage.id)).group_by(SmsMessage.status)
        ).all()
    )
    rows = base.order_by(SmsMessage.id.desc()).limit(limit)
    if status:
        rows = rows.where(SmsMessage.status == status)
    attention = list(
        db.session.scalars(
            base.where(SmsMessage.status.in_(ATTENTION), SmsMessage.dismissed_at.is_(None))
            .order_by(SmsMessage.id.desc())
            .limit(limit)
        )
    )
    replies = list(
        db.session.scalars(
            sa.select(InboundSms)
            .outerjoin(AdminUnit, InboundSms.commune_id == AdminUnit.id)
            .where(unit_in_scope(actor) if actor.role != Role.ADMIN else sa.true())
            .order_by(InboundSms.received_at.desc())
            .limit(50)
        )
    )
    if actor.role != Role.ADMIN:
        replies = [r for r in replies if r.commune_id is not None]
    summaries = list(
        db.session.scalars(
            sa.select(DailySummary)
            .join(AdminUnit, DailySummary.commune_id == AdminUnit.id)
            .where(unit_in_scope(actor))
            .order_by(DailySummary.day.desc(), AdminUnit.sort_key)
            .limit(7 if actor.role == Role.LEADER else 20)
        )
    )
    return {"counts": counts, "messages": list(db.session.scalars(rows)), "attention": attention,
            "replies": replies, "summaries": summaries}  # fmt: skip


def resolve_check(actor: User, message_id: int, *, action: str, now: datetime) -> SmsMessage:
    """A person's decision about a message on the attention list: it went out after all ("went_out",
    for one found mid-send), send it again ("again": not for a number that is invalid or opted out), or
    nothing more to do ("dismiss")."""
    message = db.session.scalar(messages_in_scope(actor).where(SmsMessage.id == message_id))
    if message is None:
        raise NotFound(message_id)
    if message.status not in ATTENTION or message.dismissed_at is not None:
        raise ValidationError({"": [_("This message no longer needs a decision.")]})
    if action == "went_out" and message.status == Status.NEEDS_CHECK:
        message.status, message.sent_at = Status.SENT, message.sent_at or now
    elif action == "again" and message.error_code not in (INVALID_NUMBER, OPTED_OUT_CODE):
        if opted_out_numbers([message.to_phone]):
            raise ValidationError({"": [_("This number opted out: it gets no more SMS.")]})
        message.status, message.due_at, message.error_message = Status.QUEUED, next_send_time(now), ""
        message.error_code = None
    elif action == "dismiss":
        message.dismissed_at = now
    else:
        raise ValidationError({"": [_("This message no longer needs a decision.")]})
    message.updated_at = now
    record_event(actor, "sms.resolve", target=message, detail={"label": action}, now=now)
    db.session.flush()
    return message


# --- scheduled jobs --------------------------------------------------------------------------


def follow_up_reminders(*, today: date, now: datetime) -> tuple[int, int]:
    """For each visit whose follow-up date has come (and nothing newer was recorded for the household):
    an SMS reminder to the resident when they may receive one, and the household on the member's
    Today list. Each visit once, however often the job runs. Returns (messages, tasks)."""
    latest = latest_visits()
    visits = db.session.scalars(
        sa.select(VisitRecord)
        .join(latest, latest.c.visit_id == VisitRecord.id)
        .outerjoin(FollowUpReminder, FollowUpReminder.visit_id == VisitRecord.id)
        .where(
            VisitRecord.follow_up_on <= today,
            VisitRecord.follow_up_on >= today - timedelta(days=3),
            FollowUpReminder.visit_id.is_(None),
        )
        .order_by(VisitRecord.id)
    ).all()
    sent = tasks = 0
    for visit in visits:
        household = visit.household
        reminder = FollowUpReminder(visit_id=visit.id, created_at=now)
        if household.erased_at is None:
            if sms_blocker(household, opted_out_numbers([household.phone] if household.phone else [])) is None:
                commune = commune_of(household)
                body = REMINDER_TEMPLATE.format(
                    date=visit.follow_up_on.strftime("%d/%m"), name=clean(household.head_name)
                )
                counted = count_segments(body)
                message = SmsMessage(
                    kind="reminder", commune_id=commune.id, household_id=household.id, visit_id=visit.id,
                    to_phone=household.phone, body=body, encoding=counted.encoding, segments=counted.segments,
                    token=new_token(), status=Status.QUEUED, due_at=schedule(commune.id, 1, now=now)[0],
                    created_at=now, updated_at=now,
                )  # fmt: skip
                db.session.add(message)
                db.session.flush()
                reminder.message_id = message.id
                sent += 1
            open_assignment = db.session.scalar(
                sa.select(Assignment).where(Assignment.household_id == household.id, Assignment.released_at.is_(None))
            )
            if open_assignment is None and visit.member.active:
                task = Assignment(household_id=household.id, member_id=visit.member_id, due_on=today, created_at=now)
                db.session.add(task)
                db.session.flush()
                reminder.assignment_id = task.id
                tasks += 1
        db.session.add(reminder)
    db.session.flush()
    return sent, tasks


def daily_summaries(*, day: date, now: datetime) -> int:
    """Yesterday in numbers for every commune that has a leader, written once per commune and day."""
    start, end = _day_bounds(day)
    communes = db.session.scalars(
        sa.select(AdminUnit)
        .join(User, User.scope_unit_id == AdminUnit.id)
        .where(User.role == Role.LEADER, User.active.is_(True), AdminUnit.level == Level.COMMUNE)
        .distinct()
    ).all()
    written = 0
    for commune in communes:
        if db.session.scalar(
            sa.select(DailySummary.id).where(DailySummary.commune_id == commune.id, DailySummary.day == day)
        ):
            continue
        village_ids = sa.select(AdminUnit.id).where(AdminUnit.parent_id == commune.id)
        visits = current_visits().where(
            VisitRecord.device_time >= start, VisitRecord.device_time < end,
            VisitRecord.household_id.in_(sa.select(Household.id).where(Household.village_id.in_(village_ids))),
        ).subquery()  # fmt: skip
        visited, helped = db.session.execute(
            sa.select(sa.func.count(visits.c.id), sa.func.count(visits.c.id).filter(visits.c.outcome == "helped"))
        ).one()
        sms = dict(
            db.session.execute(
                sa.select(SmsMessage.status, sa.func.count(SmsMessage.id))
                .where(SmsMessage.commune_id == commune.id, SmsMessage.updated_at >= start, SmsMessage.updated_at < end)
                .group_by(SmsMessage.status)
            ).all()
        )
        replies = db.session.scalar(
            sa.select(sa.func.count(InboundSms.id)).where(
                InboundSms.commune_id == commune.id, InboundSms.received_at >= start, InboundSms.received_at < end
            )
        )
        follow_ups = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(current_visits().where(
                VisitRecord.follow_up_on == day + timedelta(days=1),
                VisitRecord.household_id.in_(sa.select(Household.id).where(Household.village_id.in_(village_ids))),
            ).subquery())
        )  # fmt: skip
        figures = {
            "visits": visited, "helped": helped,
            "sms_sent": sum(sms.get(s, 0) for s in (Status.SENT, Status.DELIVERED, Status.UNDELIVERED)),
            "sms_delivered": sms.get(Status.DELIVERED, 0),
            "sms_problems": sum(sms.get(s, 0) for s in ATTENTION),
            "replies": replies, "follow_ups_today": follow_ups,
        }  # fmt: skip
        db.session.add(DailySummary(commune_id=commune.id, day=day, figures=figures, created_at=now))
        written += 1
    db.session.flush()
    return written
