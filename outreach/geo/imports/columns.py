"""The columns of the household and village files, the rows they become, and what an import answers."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import NotRequired, TypedDict

from outreach.audit.models import ImportBatch
from outreach.csvio import Column
from outreach.geo.models import AdminUnit, FormerUnit

COMMUNE = Column("commune_code", ("mã xã", "ma xa", "mã đơn vị", "commune code", "commune", "xã", "xa"), required=True)
DATASET = Column("dataset", ("bộ dữ liệu", "phiên bản", "dataset version"))

HOUSEHOLD_COLUMNS = [
    COMMUNE,
    DATASET,
    Column("village", ("thôn", "thôn/bản", "thôn, bản, tổ dân phố", "thôn bản", "village name"), required=True),
    Column("head_name", ("họ tên chủ hộ", "chủ hộ", "tên chủ hộ", "head of household", "head"), required=True),
    Column("address", ("địa chỉ", "dia chi")),
    Column("phone", ("số điện thoại", "điện thoại", "sđt", "sdt", "phone number", "mobile")),
    Column("members", ("số nhân khẩu", "nhân khẩu", "số thành viên", "số người", "household members")),
    Column("lat", ("vĩ độ", "latitude")),
    Column("lon", ("kinh độ", "longitude", "lng")),
    Column("notes", ("ghi chú", "note")),
    Column("consent_phone", ("đồng ý lưu số điện thoại", "đồng ý lưu sđt", "consent to store phone", "consent phone")),
    Column("consent_sms", ("đồng ý nhận sms", "đồng ý nhận tin nhắn", "consent to sms", "consent sms")),
]

COLUMN_LABELS = {column.name: column.aliases[0] for column in HOUSEHOLD_COLUMNS}

VILLAGE_COLUMNS = [
    COMMUNE,
    DATASET,
    Column("name", ("tên thôn", "thôn", "tên", "village", "village name"), required=True),
    Column("kind", ("loại", "loại thôn", "type")),
    Column("lat", ("vĩ độ", "latitude")),
    Column("lon", ("kinh độ", "longitude", "lng")),
]

CHUNK = 2000


class HouseholdRow(TypedDict):
    """A household as inserted (or copied) in bulk: database-ready values, in the table's terms."""

    id: NotRequired[int]  # reserved from the sequence before a COPY
    village_id: int
    head_name: str
    head_name_folded: str
    address: str
    address_folded: str
    phone: str | None
    members: int
    lat: float | None
    lon: float | None
    notes: str
    created_at: datetime
    updated_at: datetime
    created_by_id: int | None
    import_batch_id: int


class ConsentRow(TypedDict):
    household_id: int
    purpose: str
    text_version: str
    text: str
    method: str
    collected_by_id: int | None
    collected_at: datetime


@dataclass
class MappedCommune:
    """A commune a file wrote as it was before 1/7/2025 (its old code or name), and today's commune
    its rows were put in: said to the person who imported, never done silently."""

    written: str
    former: FormerUnit
    unit: AdminUnit
    rows: int = 0

    @property
    def split(self) -> bool:
        """The former commune was split: its rows went to one successor (the main one, or the one in
        the importer's area), though some may belong to another."""
        return self.former.was_split


@dataclass
class ImportResult:
    batch: ImportBatch | None
    rows: int
    created: int = 0
    updated: int = 0
    mapped: list[MappedCommune] = field(default_factory=list)
