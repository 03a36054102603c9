from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.audit.models import ImportBatch
from outreach.extensions import Model
from outreach.geo.models import AdminUnit, FormerUnit
from outreach.types import UTCDateTime, utcnow


class AgencyKind(StrEnum):
    COMMUNE = "commune"  # UBND xã, phường, thị trấn
    DISTRICT = "district"  # UBND huyện, quận, thị xã, thành phố thuộc tỉnh
    PROVINCE = "province"  # UBND tỉnh
    DEPARTMENT = "department"  # Sở, ban, ngành, and other offices that are not a unit's committee


class AgencyStatus(StrEnum):
    LINKED = "linked"  # its administrative unit is known
    UNRESOLVED = "unresolved"  # unknown or ambiguous name: a person must choose
    NOT_A_UNIT = "not_a_unit"  # a department: counted in the province, never linked to a unit


class Agency(Model):
    """A receiving agency as the case-handling system names it, in the province whose system exported it.

    ``name_key`` is the folded name with prefixes removed plus its kind ("commune:tan ha"), so the
    same committee written "UBND xã Tân Hà" or "Ủy ban nhân dân xã Tân Hà" is one agency, and the
    choice a person makes for an ambiguous name holds for every later import.
    """

    __tablename__ = "agency"
    __table_args__ = (
        sa.UniqueConstraint("province_id", "name_key"),
        sa.CheckConstraint("kind in ('commune', 'district', 'province', 'department')", name="kind"),
        sa.CheckConstraint("status in ('linked', 'unresolved', 'not_a_unit')", name="status"),
        sa.CheckConstraint("(status = 'linked') = (unit_id is not null)", name="linked_has_unit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    province_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    name_key: Mapped[str] = mapped_column(sa.String(255))
    code: Mapped[str] = mapped_column(sa.String(40), default="", index=True)
    kind: Mapped[str] = mapped_column(sa.String(12))
    status: Mapped[str] = mapped_column(sa.String(12))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("admin_unit.id"), index=True)
    # The file named a commune as it was before 1/7/2025 (a row of a province on the 2025 structure
    # for months before the reform): ``former_unit`` is that commune, ``unit`` the 2025 commune its
    # figures count in. Its name key starts with "before:", so the same name after the reform (a
    # new commune that kept it) is another agency.
    before_reform: Mapped[bool] = mapped_column(default=False)
    former_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("former_unit.id", ondelete="SET NULL"))
    # Units whose names fit an ambiguous agency name, offered to the person who resolves it (for an
    # agency named before the reform: former units).
    candidate_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    province: Mapped[AdminUnit] = relationship(foreign_keys=[province_id])
    unit: Mapped[AdminUnit | None] = relationship(foreign_keys=[unit_id])
    former_unit: Mapped[FormerUnit | None] = relationship()

    @property
    def counts_as(self) -> tuple[str, int | None]:
        return figures_owner(self.status, self.unit_id, self.former_unit_id, self.id)

    def __repr__(self) -> str:
        return f"<Agency {self.name} {self.status}>"


def figures_owner(
    status: str, unit_id: int | None, former_unit_id: int | None, agency_id: int | None
) -> tuple[str, int | None]:
    """Whose figures an agency's rows are: a unit's (its committee, however a file spells it), a former
    commune's (several add up in the commune they merged into, each counted once), or, while the
    agency is not linked, its own. Two rows of one owner must never both count for the same period."""
    if status == AgencyStatus.LINKED:
        return ("former", former_unit_id) if former_unit_id is not None else ("unit", unit_id)
    return ("agency", agency_id)


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    RANGE = "range"


class SubmissionStat(Model):
    """Dossiers an agency received in a period, as one row of an imported file.

    A later import of the same agency and period replaces the row (``replaced_by_batch_id`` is set,
    the row is kept), so undoing that import brings the earlier figures back. Only rows with no
    replacement count: the partial unique index makes double counting impossible.
    """

    __tablename__ = "submission_stat"
    __table_args__ = (
        sa.CheckConstraint("total >= 0 and online >= 0 and online <= total", name="counts"),
        sa.CheckConstraint("period_start <= period_end", name="period"),
        sa.Index(
            "uq_submission_stat_current",
            "agency_id",
            "period_start",
            "period_end",
            unique=True,
            sqlite_where=sa.text("replaced_by_batch_id IS NULL"),
            postgresql_where=sa.text("replaced_by_batch_id IS NULL"),
        ),
        sa.Index("ix_submission_stat_period", "period_start", "period_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id", ondelete="CASCADE"))
    period_kind: Mapped[str] = mapped_column(sa.String(8))
    period_start: Mapped[date]
    period_end: Mapped[date]  # inclusive
    total: Mapped[int]
    online: Mapped[int]
    fully_online: Mapped[int | None]
    partly_online: Mapped[int | None]
    paid_online: Mapped[int | None]
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("import_batch.id", ondelete="CASCADE"), index=True)
    source_line: Mapped[int] = mapped_column(default=0)  # the file's line (CSV) or row (XLSX); 0 for dossier files
    replaced_by_batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("import_batch.id"), index=True)

    agency: Mapped[Agency] = relationship()
    batch: Mapped[ImportBatch] = relationship(foreign_keys=[batch_id])


class OnlineTarget(Model):
    """A province's goal for the online-submission rate (the national one is 80%) and the day it is due.

    One row per province; a province without a row follows ``ONLINE_TARGET_PCT`` (80 by default)."""

    __tablename__ = "online_target"
    __table_args__ = (sa.CheckConstraint("target_pct > 0 and target_pct <= 100", name="target_pct"),)

    province_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id", ondelete="CASCADE"), primary_key=True)
    target_pct: Mapped[float]
    due_on: Mapped[date | None]
    set_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    province: Mapped[AdminUnit] = relationship()


class PendingUpload(Model):
    """A statistics file between its upload and the second step (columns chosen by hand, or a total that
    differs confirmed), kept in the database so the second step works on whichever app server answers.

    Only its owner reads it (anyone else gets 404); it goes when imported or cancelled, and at
    ``expires_at`` (the scheduler's job, or the next look at it). Its size is at most the upload limit."""

    __tablename__ = "pending_upload"
    __table_args__ = (sa.CheckConstraint("size >= 0", name="size"),)

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # a random token, never a row number
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)  # read only for the second step
    size: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
