"""The guide library: saving guides, their Markdown, open counts and short links."""

import re
from dataclasses import dataclass
from datetime import datetime

import nh3
import sqlalchemy as sa
from flask_babel import gettext as _
from markdown_it import MarkdownIt
from markupsafe import Markup

from outreach.audit.services import record_event
from outreach.auth.models import Role, User
from outreach.auth.scope import require_role
from outreach.errors import NotFound, ValidationError
from outreach.extensions import db
from outreach.sms.models import Guide, SmsMessage
from outreach.sms.services.config import settings
from outreach.text import clean

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,19}$")

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
