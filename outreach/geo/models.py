from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from outreach.extensions import Model
from outreach.text import fold, sort_key
from outreach.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from outreach.auth.models import User


class Level(StrEnum):
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"
    VILLAGE = "village"


DATASETS = ("2025", "legacy")
# From this day communes sit directly under 34 provinces (the 2025 dataset); names and codes of
# figures and files from before it mean the units of the legacy structure.
REFORM_DATE = date(2025, 7, 1)
VILLAGE_KINDS = ("Thôn", "Bản", "Tổ dân phố", "Xóm", "Khu phố", "Làng", "Ấp", "Buôn")


def unit_names(full: str, short: str) -> dict[str, str]:
    """A unit's name columns: the full and short names, the folded pair "full | short" that search
    matches either way (find_village relies on it), and the key that sorts "Tổ 2" before "Tổ 10"."""
    short = short or full
    return {
        "name": full,
        "short_name": short,
        "name_folded": f"{fold(full)} | {fold(short)}",
        "sort_key": sort_key(short),
    }


class Bounds(NamedTuple):
    south: float
    west: float
    north: float
    east: float


class AdminUnit(Model):
    """A node of the administrative tree. A code is unique only together with its dataset.

    ``path`` lists the codes from the province down ("legacy/08/070/02216/"), so a
    subtree is one indexed prefix match on every database.
    """

    __tablename__ = "admin_unit"
    __table_args__ = (
        sa.UniqueConstraint("dataset", "code"),
        sa.CheckConstraint("dataset in ('2025', 'legacy')", name="dataset"),
        sa.CheckConstraint("level in ('province', 'district', 'commune', 'village')", name="level"),
        sa.CheckConstraint("(level = 'province') = (parent_id is null)", name="root_is_province"),
        sa.Index("ix_admin_unit_path", "path", postgresql_ops={"path": "text_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset: Mapped[str] = mapped_column(sa.String(8))
    code: Mapped[str] = mapped_column(sa.String(20))
    level: Mapped[str] = mapped_column(sa.String(10))
    kind: Mapped[str] = mapped_column(sa.String(20), default="")
    name: Mapped[str] = mapped_column(sa.String(120))
    short_name: Mapped[str] = mapped_column(sa.String(120), default="")
    name_folded: Mapped[str] = mapped_column(sa.String(250), index=True)
    sort_key: Mapped[str] = mapped_column(sa.String(120), default="")
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("admin_unit.id"), index=True)
    path: Mapped[str] = mapped_column(sa.String(160))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    south: Mapped[float | None]
    west: Mapped[float | None]
    north: Mapped[float | None]
    east: Mapped[float | None]
    boundary_geojson: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    parent: Mapped["AdminUnit | None"] = relationship(remote_side=[id], lazy="joined", join_depth=3)
    households: WriteOnlyMapped["Household"] = relationship(back_populates="village", passive_deletes=True)

    @property
    def bounds(self) -> Bounds | None:
        if self.south is None or self.west is None or self.north is None or self.east is None:
            return None
        return Bounds(self.south, self.west, self.north, self.east)

    @property
    def has_bounds(self) -> bool:
        return self.bounds is not None

    def contains(self, lat: float, lon: float) -> bool:
        box = self.bounds
        return box is not None and box.south <= lat <= box.north and box.west <= lon <= box.east

    @property
    def parent_unit(self) -> "AdminUnit":
        """The parent of a unit below a province: it always has one (the ``root_is_province`` check)."""
        if self.parent is None:
            raise ValueError(f"{self!r} is a province: it has no parent")
        return self.parent

    def ancestors(self) -> list["AdminUnit"]:
        chain, unit = [], self.parent
        while unit is not None:
            chain.append(unit)
            unit = unit.parent
        return list(reversed(chain))

    def __repr__(self) -> str:
        return f"<AdminUnit {self.dataset}:{self.code} {self.name}>"


class FormerUnit(Model):
    """A commune of the structure before 1 July 2025 whose land is now in a 2025 province, as the
    ``vietnamadminunits`` package lists it: old names and codes in files and statistics still find
    today's communes through it, whether or not the legacy units themselves are loaded.

    Most former communes went whole into one new commune (merged with others); a few were split,
    and then one successor is the main one (the package's default).
    """

    __tablename__ = "former_unit"
    __table_args__ = (sa.UniqueConstraint("code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    province_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(20))  # the legacy commune code
    kind: Mapped[str] = mapped_column(sa.String(20), default="")
    name: Mapped[str] = mapped_column(sa.String(120))
    short_name: Mapped[str] = mapped_column(sa.String(120), default="")
    name_folded: Mapped[str] = mapped_column(sa.String(250), index=True)
    sort_key: Mapped[str] = mapped_column(sa.String(120), default="")
    district_code: Mapped[str] = mapped_column(sa.String(20), default="")
    district_name: Mapped[str] = mapped_column(sa.String(120), default="")
    old_province_code: Mapped[str] = mapped_column(sa.String(20), default="")
    old_province_name: Mapped[str] = mapped_column(sa.String(120), default="")
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    south: Mapped[float | None]
    west: Mapped[float | None]
    north: Mapped[float | None]
    east: Mapped[float | None]

    province: Mapped[AdminUnit] = relationship()
    successions: Mapped[list["Succession"]] = relationship(
        back_populates="former",
        cascade="all, delete-orphan",
        order_by="[Succession.is_main.desc(), Succession.id]",
        lazy="selectin",
    )

    @property
    def successors(self) -> list[AdminUnit]:
        """Today's communes with land of this one, the main one first."""
        return [s.unit for s in sorted(self.successions, key=lambda s: not s.is_main)]

    @property
    def main_successor(self) -> AdminUnit | None:
        return next((s.unit for s in self.successions if s.is_main), None)

    @property
    def was_split(self) -> bool:
        return len(self.successions) > 1

    @property
    def bounds(self) -> Bounds | None:
        if self.south is None or self.west is None or self.north is None or self.east is None:
            return None
        return Bounds(self.south, self.west, self.north, self.east)

    def __repr__(self) -> str:
        return f"<FormerUnit {self.code} {self.name}, {self.district_name}>"


class Succession(Model):
    """One line of the crosswalk: land of a former commune went to a 2025 commune."""

    __tablename__ = "unit_succession"
    __table_args__ = (sa.UniqueConstraint("former_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    former_id: Mapped[int] = mapped_column(sa.ForeignKey("former_unit.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id", ondelete="CASCADE"), index=True)
    # The successor that takes the former commune's figures and records unless a person chooses
    # another (the package's default where a commune was split; the only one otherwise).
    is_main: Mapped[bool] = mapped_column(default=True)

    former: Mapped[FormerUnit] = relationship(back_populates="successions")
    unit: Mapped[AdminUnit] = relationship(lazy="joined")


class Household(Model):
    """A household of a village. After erasure only the row (for anonymous counts) remains."""

    __tablename__ = "household"
    __table_args__ = (
        sa.CheckConstraint("members >= 0", name="members_not_negative"),
        # The live households of a village, read without the table (index-only on PostgreSQL): what the
        # coverage counts and joins to the visits per area.
        sa.Index(
            "ix_household_village_live",
            "village_id",
            "id",
            postgresql_where=sa.text("erased_at IS NULL"),
            sqlite_where=sa.text("erased_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id"), index=True)
    head_name: Mapped[str] = mapped_column(sa.String(120))
    head_name_folded: Mapped[str] = mapped_column(sa.String(120), index=True)
    address: Mapped[str] = mapped_column(sa.String(255), default="")
    address_folded: Mapped[str] = mapped_column(sa.String(255), default="")
    phone: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    members: Mapped[int] = mapped_column(default=1)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    import_batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("import_batch.id", ondelete="SET NULL"))
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # The resident asked to restrict or objected to the processing (outreach/privacy): the data is kept
    # but hidden from lists, no SMS goes out and no new visit or assignment is made, until lifted.
    restricted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    village: Mapped[AdminUnit] = relationship(back_populates="households", lazy="joined")
    consents: Mapped[list["Consent"]] = relationship(
        back_populates="household", order_by="Consent.collected_at", cascade="all, delete-orphan"
    )

    @property
    def location(self) -> tuple[float, float] | None:
        """(lat, lon), or None for a household with no location."""
        return (self.lat, self.lon) if self.lat is not None and self.lon is not None else None

    def active_consent(self, purpose: str) -> "Consent | None":
        for consent in reversed(self.consents):
            if consent.purpose == purpose and consent.withdrawn_at is None:
                return consent
        return None

    @property
    def may_receive_sms(self) -> bool:
        return (
            self.erased_at is None
            and self.restricted_at is None
            and self.phone is not None
            and self.active_consent(Purpose.STORE_PHONE) is not None
            and self.active_consent(Purpose.RECEIVE_SMS) is not None
        )


class Purpose(StrEnum):
    STORE_PHONE = "store_phone"
    RECEIVE_SMS = "receive_sms"
    # Sensitive personal data (health: a disability): recorded only with this explicit consent.
    SENSITIVE = "sensitive_health"


PURPOSE_VALUES = tuple(p.value for p in Purpose)


class Consent(Model):
    """Consent for one purpose: who collected it, when, and the exact text the resident agreed to."""

    __tablename__ = "consent"
    __table_args__ = (
        sa.CheckConstraint("purpose in ('store_phone', 'receive_sms', 'sensitive_health')", name="purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("household.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(20))
    text_version: Mapped[str] = mapped_column(sa.String(20))
    text: Mapped[str] = mapped_column(sa.Text)
    method: Mapped[str] = mapped_column(sa.String(20), default="in_person")
    collected_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    household: Mapped[Household] = relationship(back_populates="consents")
    collected_by: Mapped["User | None"] = relationship(foreign_keys=[collected_by_id])
