"""The guides shipped with the app (Markdown files in ``outreach/sms/guides/``; the first line is the title)."""

from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from outreach.extensions import db
from outreach.sms.models import Guide
from outreach.sms.services import GuideInput, save_guide

GUIDES_DIR = Path(__file__).parent / "guides"
CODES = ("vneid1", "vneid2", "dvc", "lephi")  # the order residents need them in


def shipped_guides() -> list[GuideInput]:
    guides = []
    for code in CODES:
        text = (GUIDES_DIR / f"{code}.md").read_text(encoding="utf-8")
        title, _, body = text.partition("\n")
        guides.append(GuideInput(code=code, title_vi=title.removeprefix("# ").strip(), body_vi=body.strip()))
    return guides


def install_guides(*, now: datetime) -> list[Guide]:
    """Add the shipped guides (those whose short link is not taken yet). They belong to the country
    (no owner unit): everyone may send them, only administrators edit them."""
    taken = set(db.session.scalars(sa.select(Guide.code)))
    return [save_guide(None, data, now=now) for data in shipped_guides() if data.code not in taken]
