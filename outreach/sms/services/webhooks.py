"""Twilio's webhooks: delivery receipts, and residents' replies with their keywords."""

import re
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from outreach.extensions import db
from outreach.geo.models import Household
from outreach.geo.phone import PhoneError, normalize_phone
from outreach.sms.gateway import OPTED_OUT_CODE
from outreach.sms.models import InboundSms, SmsMessage, Status
from outreach.sms.services.policy import commune_of, opt_in, opt_out
from outreach.sms.signals import deletion_asked, help_asked
from outreach.text import clean, fold

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
HELP_WORDS = {"help", "info", "tro giup", "huong dan"}
# "Someone, come and help me": a request for a member's visit (the requests area takes it).
ASK_WORDS = {"giup", "can giup", "giup toi", "giup do", "ho tro", "can ho tro", "ho tro toi"}
# "Delete my data": outreach/privacy records it as a request with its legal deadline (this area only tells).
DELETE_WORDS = {"xoa", "xoa du lieu", "xoa thong tin", "xoa so", "xoa so dien thoai"}
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
    """ "stop", "start", "help", "ask", "delete" or "": the whole reply, any case, with or without diacritics."""
    words = " ".join(re.findall(r"[a-z0-9]+", fold(body)))
    if words in STOP_WORDS:
        return "stop"
    if words in START_WORDS:
        return "start"
    if words in HELP_WORDS:
        return "help"
    if words in DELETE_WORDS:
        return "delete"
    if words in ASK_WORDS:
        return "ask"
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
    if keyword == "delete":
        if household is None:
            return inbound, "Khong tim thay du lieu nao gan voi so dien thoai nay."
        deletion_asked.send(inbound, household=household, now=now)
        hours = current_app.config["RIGHTS_DEADLINE_HOURS"].get("delete", 72)
        return inbound, f"Da nhan yeu cau xoa du lieu cua ho. UBND xa se tra loi trong {hours} gio."
    if keyword == "ask":
        # The requests area records it and queues its own answer through the outbox ("" from it),
        # or answers at once for a number it cannot place (the same words either way).
        answers = [answer for _receiver, answer in help_asked.send(inbound, household=household, now=now)]
        return inbound, next((a for a in answers if a), "")
    answer = "" if not keyword or fold(body).strip() in TWILIO_HANDLES else REPLIES[keyword]
    return inbound, answer
