"""Importing online-submission statistics: a file lands whole or not at all.

Two shapes of export are read, CSV or XLSX, whatever the vendor of the province's case-handling
system: a *summary* (one row per agency and period with counts) and a *dossier list* (one row per
dossier with its received date and channel), which is streamed and aggregated into the same
monthly figures. Columns are recognised by their Vietnamese or English headers, wherever the header
row is (exports often start with a title), and can be chosen by hand.

A file's own total rows ("Tổng cộng", "Cộng", subtotals) are not imported but checked against the
rows that are: a difference refuses the file unless a person confirms it.

Importing an agency and period again replaces its figures (the old row is kept, marked replaced,
so undoing the newer import brings it back).
"""

from outreach.reports.imports.cells import (
    channel_of,
    month_end,
    parse_count,
    parse_date,
    parse_percent,
    parse_period,
    range_period,
)
from outreach.reports.imports.columns import (
    DOSSIER_REQUIRED,
    FIELDS,
    HEADER_SCAN_ROWS,
    IMPORT_KINDS,
    KIND_DOSSIERS,
    KIND_SUMMARY,
    MAPPING_ORDER,
    SUMMARY_REQUIRED,
    Field,
    Layout,
    file_kind,
    read_layout,
    recognise,
)
from outreach.reports.imports.history import get_import, import_history, import_history_page, undo_import
from outreach.reports.imports.importing import ImportResult, import_province, import_statistics, may_import
from outreach.reports.imports.pending import (
    KEPT_PER_PERSON,
    UploadExpired,
    discard_upload,
    find_upload,
    keep_upload,
    remove_expired,
)
from outreach.reports.imports.rows import StatRow
from outreach.reports.imports.storing import slot
from outreach.reports.imports.totals import FileTotal, TotalCheck, TotalKind, TotalsMismatch, check_totals, total_label

__all__ = [
    "DOSSIER_REQUIRED",
    "FIELDS",
    "HEADER_SCAN_ROWS",
    "KEPT_PER_PERSON",
    "IMPORT_KINDS",
    "KIND_DOSSIERS",
    "KIND_SUMMARY",
    "MAPPING_ORDER",
    "SUMMARY_REQUIRED",
    "Field",
    "FileTotal",
    "ImportResult",
    "Layout",
    "StatRow",
    "TotalCheck",
    "TotalKind",
    "TotalsMismatch",
    "UploadExpired",
    "channel_of",
    "check_totals",
    "discard_upload",
    "file_kind",
    "find_upload",
    "get_import",
    "import_history",
    "import_history_page",
    "import_province",
    "import_statistics",
    "keep_upload",
    "may_import",
    "month_end",
    "parse_count",
    "parse_date",
    "parse_percent",
    "parse_period",
    "range_period",
    "read_layout",
    "recognise",
    "remove_expired",
    "slot",
    "total_label",
    "undo_import",
]
