from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from outreach.extensions import Model
from outreach.types import UTCDateTime

HEARTBEAT = "heartbeat"


class SchedulerBeat(Model):
    """What the active scheduler last said, one row per name. ``heartbeat``: its last sign of life
    (``started_at`` is when it became the active one). A job's id: its last run, when it started and
    finished, and whether it succeeded."""

    __tablename__ = "scheduler_beat"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(255), default="")  # host:pid of the scheduler
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool | None]
