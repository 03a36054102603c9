"""The period of a report: a month ("2026-11") or a quarter ("2026-Q4"), whole local days."""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _

from outreach.clock import day_start
from outreach.errors import ValidationError

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


def _month_end(year: int, month: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)


@dataclass(frozen=True)
class ReportPeriod:
    kind: str  # month | quarter
    start: date

    @property
    def months(self) -> int:
        return 1 if self.kind == "month" else 3

    @property
    def end(self) -> date:
        last = self.start.month + self.months - 1
        return _month_end(self.start.year, last)

    @property
    def key(self) -> str:
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"

    @property
    def label(self) -> str:
        """11/2026, or Quý IV/2026 (Q4/2026 in English)."""
        if self.kind == "month":
            return f"{self.start:%m/%Y}"
        return _("Quarter %(q)s/%(year)s", q=ROMAN[(self.start.month - 1) // 3 + 1], year=self.start.year)

    @property
    def title_words(self) -> str:
        """How the document's title names the period: "tháng 11/2026", "quý IV/2026"."""
        if self.kind == "month":
            return _("month %(month)s", month=self.label)
        return _("quarter %(q)s/%(year)s", q=ROMAN[(self.start.month - 1) // 3 + 1], year=self.start.year)

    def bounds(self) -> tuple[datetime, datetime]:
        """The UTC moments the period's first local day begins and the day after its last begins."""
        return day_start(self.start), day_start(self.end + timedelta(days=1))

    def previous(self) -> "ReportPeriod":
        month = self.start.month - self.months
        year = self.start.year
        if month < 1:
            month += 12
            year -= 1
        return ReportPeriod(self.kind, date(year, month, 1))

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def month_of(day: date) -> ReportPeriod:
    return ReportPeriod("month", day.replace(day=1))


def quarter_of(day: date) -> ReportPeriod:
    return ReportPeriod("quarter", date(day.year, 3 * ((day.month - 1) // 3) + 1, 1))


def default_period(today: date, reminder_day: int = 25) -> ReportPeriod:
    """The month whose report is being written: this month from the reminder day on, else the last one."""
    this = month_of(today)
    return this if today.day >= reminder_day else this.previous()


def parse_period(text: str) -> ReportPeriod:
    """A period from "2026-11" or "2026-Q4"; a ``ValidationError`` for anything else."""
    text = (text or "").strip()
    if match := _MONTH.match(text):
        year, month = int(match[1]), int(match[2])
        if 1 <= month <= 12 and 2000 <= year <= 2100:
            return ReportPeriod("month", date(year, month, 1))
    if match := _QUARTER.match(text):
        year, quarter = int(match[1]), int(match[2])
        if 2000 <= year <= 2100:
            return ReportPeriod("quarter", date(year, 3 * quarter - 2, 1))
    raise ValidationError({"period": [_("Write the period as a month (2026-11) or a quarter (2026-Q4).")]})
