"""Files between the two steps of an import (columns chosen by hand, or a differing total confirmed).

They live in the database, not on the server's disk, so the second step works whichever app server
answers it. A pending file belongs to the person who uploaded it: anyone else is told it does not
exist. It goes when imported (in the import's own transaction) or cancelled, and once expired: the
scheduler removes expired ones every hour, and a look at an expired one removes it and says so."""

import secrets
from datetime import datetime, timedelta
from typing import BinaryIO

import sqlalchemy as sa
from flask_babel import gettext as _

from outreach.auth.models import User
from outreach.errors import NotFound, ValidationError
from outreach.extensions import db, rowcount
from outreach.reports.models import PendingUpload

KEPT_PER_PERSON = 5  # a person's newest pending files; an older one goes when a sixth is kept


class UploadExpired(ValidationError):
    """The pending file's time ran out (it has been removed): upload it again."""


def keep_upload(
    actor: User, stream: BinaryIO, filename: str, *, now: datetime, lifetime: timedelta, limit: int
) -> PendingUpload:
    """Keep the file read from ``stream`` (at most ``limit`` bytes) for ``actor``'s second step."""
    content = stream.read(limit + 1)
    if len(content) > limit:
        raise ValidationError({"file": [_("The file is larger than the limit of %(mb)s MB.", mb=limit // 2**20)]})
    upload = PendingUpload(
        id=secrets.token_urlsafe(32),
        owner_id=actor.id,
        filename=filename[:255],
        content=content,
        size=len(content),
        created_at=now,
        expires_at=now + lifetime,
    )
    db.session.add(upload)
    older = (
        sa.select(PendingUpload.id)
        .where(PendingUpload.owner_id == actor.id)
        .order_by(PendingUpload.created_at.desc(), PendingUpload.id)
        .offset(KEPT_PER_PERSON)  # this one included (flushed before the statement runs)
    )
    db.session.execute(sa.delete(PendingUpload).where(PendingUpload.id.in_(older.scalar_subquery())))
    db.session.flush()
    return upload


def find_upload(actor: User, token: str, *, now: datetime) -> PendingUpload | None:
    """``actor``'s pending file ``token``; ``None`` when there is none (imported, cancelled or removed),
    ``NotFound`` when it is someone else's, ``UploadExpired`` (after removing it) when its time ran out."""
    upload = db.session.get(PendingUpload, token)
    if upload is None:
        return None
    if upload.owner_id != actor.id:
        raise NotFound(token)
    if upload.expires_at <= now:
        db.session.delete(upload)
        db.session.flush()
        raise UploadExpired(_("The uploaded file was kept for a limited time and has expired; upload it again."))
    return upload


def discard_upload(actor: User, upload: PendingUpload) -> None:
    """Remove ``actor``'s pending file (cancelled, or imported in this transaction)."""
    if upload.owner_id != actor.id:
        raise NotFound(upload.id)
    db.session.delete(upload)
    db.session.flush()


def remove_expired(*, now: datetime) -> int:
    """Remove every pending file whose time ran out at ``now``; how many were removed."""
    return rowcount(db.session.execute(sa.delete(PendingUpload).where(PendingUpload.expires_at <= now)))
