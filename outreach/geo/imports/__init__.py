"""CSV imports of villages and households: a file lands whole or not at all.

Rows are streamed and checked one by one; good rows are inserted in chunks inside the
caller's transaction. At the end, if any row was bad, every error is raised together and
the caller rolls back, so nothing of the file stays.

One module per concern; callers import the names from here: ``columns`` (the files' columns, the rows
they become, the result), ``places`` (the commune and village a row names, former units included),
``cells`` (numbers and yes/no), ``households`` and ``villages`` (the two imports).
"""

from outreach.geo.imports.columns import COLUMN_LABELS, HOUSEHOLD_COLUMNS, VILLAGE_COLUMNS, ImportResult, MappedCommune
from outreach.geo.imports.households import import_households
from outreach.geo.imports.villages import import_villages

__all__ = [
    "COLUMN_LABELS",
    "HOUSEHOLD_COLUMNS",
    "VILLAGE_COLUMNS",
    "ImportResult",
    "MappedCommune",
    "import_households",
    "import_villages",
]
