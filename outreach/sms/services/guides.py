"""The guide library: who owns and edits a guide, its Markdown, open counts and short links.

A guide belongs to the unit that made it (``owner_unit``; none: the country's, the shipped guides,
which only administrators edit). Everyone sees and sends the country's guides and those of the units
on their own branch of the tree; leaders edit their own area's. A short link that went out (in an
SMS, or on a leaflet: the print page was opened) never changes; a guide replaced by another sends
its readers on."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit

import nh3
import sqlalchemy as sa
from flask_babel import gettext as _
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markupsafe import Markup

from outreach.audit.services import record_event
from outreach.auth.models import Role, User
from outreach.auth.scope import require_role, unit_in_scope
from outreach.errors import Forbidden, NotFound, ValidationError
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Level
from outreach.sms.models import Guide, SmsMessage
from outreach.sms.services.config import settings
from outreach.text import clean

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,19}$")
# Links that open something on the phone rather than another site.
LINK_SCHEMES = ("tel", "mailto", "sms")
MAX_REDIRECTS = 10  # a chain of replaced guides longer than this is a mistake, not a path

# --- Markdown: nothing on a public guide page comes from another site --------------------------


def _stays_here(url: str) -> bool:
    """Whether an address is on this site: a path (``/static/…``, ``#step-2``) or our own address.
    Spaces and control characters are dropped and backslashes read as slashes, as browsers do."""
    url = re.sub(r"[\x00-\x20\x7f]", "", url or "").replace("\\", "/")
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        return True
    own = urlsplit(settings()["PUBLIC_BASE_URL"])
    return parts.scheme in ("http", "https") and (parts.scheme, parts.netloc) == (own.scheme, own.netloc)


def _link_allowed(url: str) -> bool:
    return _stays_here(url) or urlsplit(url.strip()).scheme.lower() in LINK_SCHEMES


def _outside_as_text(state: StateCore) -> None:
    """A link to another site becomes its text followed by its address; an image from another site
    (saved before they were refused) becomes its description."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        open_links: list[tuple[Token, bool]] = []
        for token in block.children:
            if token.type == "link_open":
                outside = not _link_allowed(str(token.attrGet("href") or ""))
                open_links.append((token, outside))
                if outside:
                    continue
            elif token.type == "link_close" and open_links:
                link, outside = open_links.pop()
                if outside:
                    if link.markup != "autolink":  # an autolink's text is already its address
                        address = state.md.normalizeLinkText(str(link.attrGet("href") or ""))
                        children.append(Token("text", "", 0, content=f" ({address})"))
                    continue
            elif token.type == "image" and not _stays_here(str(token.attrGet("src") or "")):
                token = Token("text", "", 0, content=token.content)
            children.append(token)
        block.children = children


_as_written = MarkdownIt("commonmark", {"typographer": False}).enable("table")  # to check what an editor wrote
_markdown = MarkdownIt("commonmark", {"typographer": False}).enable("table")
_markdown.core.ruler.push("outside_as_text", _outside_as_text)


def _attribute_filter(element: str, attribute: str, value: str) -> str | None:
    # Raw HTML in a guide goes through here too: no image from elsewhere, no link to elsewhere.
    if element == "img" and attribute == "src":
        return value if _stays_here(value) else None
    if element == "a" and attribute == "href":
        return value if _link_allowed(value) else None
    return value


def render_markdown(body: str) -> Markup:
    """A guide's Markdown as safe HTML: scripts never; links to other sites shown as text with their
    address, images only from this site, so a resident's phone contacts nobody else."""
    html = _markdown.render(body or "")
    cleaned = nh3.clean(html, link_rel="noopener noreferrer", attribute_filter=_attribute_filter)
    return Markup(cleaned)  # noqa: S704 - sanitized by nh3


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources += [value or "" for name, value in attrs if name == "src"]


def outside_images(body: str) -> list[str]:
    """The addresses of the images in a guide's Markdown (or its HTML) that are not on this site."""
    parser = _Images()
    parser.feed(_as_written.render(body or ""))
    return [src for src in dict.fromkeys(parser.sources) if not _stays_here(src)]


# --- who sees and edits which guide ----------------------------------------------------------


def _visible(actor: User):
    """A condition on ``Guide``: the country's guides, and those of units above or below the actor's."""
    if actor.role == Role.ADMIN:
        return sa.true()
    if actor.scope_unit is None:
        return Guide.owner_unit_id.is_(None)
    above = [unit.id for unit in actor.scope_unit.ancestors()]  # a village member sends their commune's
    own_or_below = sa.select(AdminUnit.id).where(unit_in_scope(actor))
    return sa.or_(Guide.owner_unit_id.is_(None), Guide.owner_unit_id.in_(above), Guide.owner_unit_id.in_(own_or_below))


def list_guides() -> list[Guide]:
    """Every guide still in use (not replaced): the public pages a phone keeps for offline reading."""
    return list(db.session.scalars(sa.select(Guide).where(Guide.replaced_by_id.is_(None)).order_by(Guide.id)))


def guides_for(actor: User, *, replaced: bool = False) -> list[Guide]:
    """The guides ``actor`` sees in the library and may send: the country's and their own area's
    (and, with ``replaced``, the replaced ones, for the library)."""
    stmt = sa.select(Guide).where(_visible(actor)).order_by(Guide.owner_unit_id.is_not(None), Guide.id)
    if not replaced:
        stmt = stmt.where(Guide.replaced_by_id.is_(None))
    return list(db.session.scalars(stmt))


def _editable(actor: User):
    """A condition on ``Guide``: administrators edit every guide; leaders those of their own area,
    never the country's."""
    if actor.role == Role.ADMIN:
        return sa.true()
    if actor.role != Role.LEADER:
        return sa.false()
    return Guide.owner_unit_id.in_(sa.select(AdminUnit.id).where(unit_in_scope(actor)))


def may_edit_guide(actor: User, guide: Guide) -> bool:
    return bool(db.session.scalar(sa.select(sa.exists().where(Guide.id == guide.id, _editable(actor)))))


def editable_guide_ids(actor: User) -> set[int]:
    """The ids of the guides ``actor`` may edit (for the library's "Edit" buttons)."""
    return set(db.session.scalars(sa.select(Guide.id).where(_editable(actor))))


def get_guide(guide_id: int, actor: User | None = None) -> Guide:
    """A guide by id; with ``actor``, only one they may see (else ``NotFound``)."""
    stmt = sa.select(Guide).where(Guide.id == guide_id)
    if actor is not None:
        stmt = stmt.where(_visible(actor))
    guide = db.session.scalar(stmt)
    if guide is None:
        raise NotFound(guide_id)
    return guide


def guide_to_edit(actor: User, guide_id: int) -> Guide:
    """The guide if ``actor`` may change it: ``NotFound`` outside their view, ``Forbidden`` for one
    they may only send (the country's)."""
    require_role(actor, Role.LEADER)
    guide = get_guide(guide_id, actor)
    if not may_edit_guide(actor, guide):
        raise Forbidden(guide_id)
    return guide


def guide_by_code(code: str) -> Guide:
    guide = db.session.scalar(sa.select(Guide).where(Guide.code == code.lower()))
    if guide is None:
        raise NotFound(code)
    return guide


def _chain(guide: Guide) -> list[int]:
    """The ids of ``guide`` and of the guides that replace it in turn."""
    ids = [guide.id]
    while guide.replaced_by is not None and guide.replaced_by.id not in ids and len(ids) <= MAX_REDIRECTS:
        guide = guide.replaced_by
        ids.append(guide.id)
    return ids


def current_version(guide: Guide) -> Guide:
    """The guide that replaces ``guide`` (following replacements), or ``guide`` itself."""
    return db.session.get(Guide, _chain(guide)[-1]) or guide


def link_went_out(guide: Guide) -> bool:
    """Whether the short link may be in residents' hands: an SMS carried it or its leaflet was printed."""
    if guide.id is None:
        return False
    if guide.printed_at is not None:
        return True
    return bool(db.session.scalar(sa.select(sa.exists().where(SmsMessage.guide_id == guide.id))))


def mark_printed(guide: Guide, *, now: datetime) -> None:
    """The print page was opened: a leaflet may carry the short link from now on."""
    if guide.printed_at is None:
        guide.printed_at = now
        db.session.flush()


# --- saving ----------------------------------------------------------------------------------


@dataclass
class GuideInput:
    code: str
    title_vi: str
    body_vi: str
    title_en: str = ""
    body_en: str = ""
    replaced_by_id: int | None = None


def save_guide(actor: User | None, data: GuideInput, *, now: datetime, guide: Guide | None = None) -> Guide:
    """Create a guide (or update ``guide``). A leader's new guide belongs to their area; an
    administrator's, and the seed's (``actor=None``), to the country."""
    if actor is not None:
        require_role(actor, Role.LEADER)
        if guide is not None and not may_edit_guide(actor, guide):
            raise Forbidden(guide.id)
    code = clean(data.code).lower()
    errors: dict[str, list[str]] = {}
    if guide is not None and code != guide.code and link_went_out(guide):
        errors["code"] = [
            _(
                "The short link /g/%(code)s has already gone out (by SMS or on a printed leaflet), so it "
                "cannot change: residents still open it. For a new link, create a new guide and choose it "
                "under “Replaced by” here.",
                code=guide.code,
            )
        ]
    elif not CODE_PATTERN.match(code):
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
    for name, body in (("body_vi", body_vi), ("body_en", body_en)):
        for src in outside_images(body):
            errors.setdefault(name, []).append(
                _(
                    "The image “%(src)s” is on another site, and guide pages load nothing from other sites. "
                    "Remove it and say in words what the screen shows.",
                    src=src,
                )
            )
    replacement = _replacement(actor, guide, data.replaced_by_id, errors)
    if errors:
        raise ValidationError(errors)
    if guide is None:
        owner = actor.scope_unit if actor is not None and actor.role != Role.ADMIN else None
        guide = Guide(code=code, created_at=now, owner_unit=owner)
        db.session.add(guide)
    guide.code, guide.title_vi, guide.body_vi, guide.title_en, guide.body_en = (
        code,
        title_vi,
        body_vi,
        title_en,
        body_en,
    )
    guide.replaced_by = replacement
    guide.updated_at, guide.updated_by_id = now, actor.id if actor else None
    db.session.flush()
    if actor is not None:
        record_event(actor, "guide.save", target=guide, detail={"label": code}, now=now)
    return guide


def _replacement(
    actor: User | None, guide: Guide | None, replaced_by_id: int | None, errors: dict[str, list[str]]
) -> Guide | None:
    """The guide that replaces ``guide``: one the actor may send, and not one leading back to it."""
    if not replaced_by_id or guide is None:  # a new guide replaces nothing yet
        return None
    replacement = db.session.get(Guide, replaced_by_id) if actor is None else None
    if actor is not None:
        try:
            replacement = get_guide(replaced_by_id, actor)
        except NotFound:
            replacement = None
    if replacement is None:
        errors["replaced_by_id"] = [_("Choose one of the guides you may send.")]
        return None
    if guide is not None and guide.id in _chain(replacement):
        errors["replaced_by_id"] = [_("A guide cannot replace itself, even through another guide.")]
        return None
    return replacement


def _clean_body(body: str | None) -> str:
    return unicodedata.normalize("NFC", (body or "").replace("\r\n", "\n")).strip()


# --- opens and links -------------------------------------------------------------------------


def count_open(guide: Guide, token: str | None, *, now: datetime) -> None:
    """One more open of the guide, and of the message whose link carried ``token`` (its link may name
    a guide this one replaced). Nothing about the reader is kept: no cookie, no address, no time of
    the open beyond the message's first."""
    db.session.execute(sa.update(Guide).where(Guide.id == guide.id).values(opens=Guide.opens + 1))
    if token and len(token) <= 16:
        db.session.execute(
            sa.update(SmsMessage)
            .where(SmsMessage.token == token, SmsMessage.guide_id.in_(_leading_to(guide)))
            .values(opens=SmsMessage.opens + 1, opened_at=sa.func.coalesce(SmsMessage.opened_at, now))
            .execution_options(synchronize_session=False)
        )


def _leading_to(guide: Guide) -> list[int]:
    """``guide`` and every guide whose replacements lead to it."""
    replaced = {
        row.id: row.replaced_by_id
        for row in db.session.execute(
            sa.select(Guide.id, Guide.replaced_by_id).where(Guide.replaced_by_id.is_not(None))
        )
    }
    ids = {guide.id}
    for start in replaced:
        step, hops = start, 0
        while step in replaced and hops <= MAX_REDIRECTS:
            step, hops = replaced[step], hops + 1
            if step == guide.id:
                ids.add(start)
                break
    return sorted(ids)


def guide_url(guide: Guide, token: str | None = None) -> str:
    base = settings()["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/g/{guide.code}" + (f"?t={token}" if token else "")


def help_unit_code(guide: Guide, token: str | None) -> str:
    """The unit a guide page's "I need someone to come and help" link names, so the resident's list
    of villages is short: the commune of the message that carried the link, else the guide's own
    commune or village; "" when neither is known (the resident finds their commune)."""
    unit = None
    if token and len(token) <= 16:
        unit = db.session.scalar(
            sa.select(AdminUnit)
            .join(SmsMessage, SmsMessage.commune_id == AdminUnit.id)
            .where(SmsMessage.token == token)
        )
    if unit is None and guide.owner_unit is not None and guide.owner_unit.level in (Level.COMMUNE, Level.VILLAGE):
        unit = guide.owner_unit
    return f"{unit.dataset}:{unit.code}" if unit is not None else ""


def help_unit_of(user: User) -> str:
    """The unit a printed leaflet's link names: the commune or village of whoever prints it."""
    unit = getattr(user, "scope_unit", None)
    if unit is None or unit.level not in (Level.COMMUNE, Level.VILLAGE):
        return ""
    return f"{unit.dataset}:{unit.code}"
