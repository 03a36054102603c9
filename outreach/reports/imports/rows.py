"""One agency's figures for one period, as read from a file, before they are stored."""

from dataclasses import dataclass
from datetime import date

from outreach.reports.models import Agency


@dataclass
class StatRow:
    agency: Agency
    kind: str
    start: date
    end: date
    total: int
    online: int
    fully_online: int | None = None
    partly_online: int | None = None
    paid_online: int | None = None
    line: int = 0
