"""Reading one cell: counts, percentages, dates, periods, channels and online levels."""

import calendar
import re
from datetime import date

from flask_babel import gettext as _

from outreach.reports.models import PeriodKind
from outreach.text import fold, fold_key

_CHANNELS = {
    "online": ("truc tuyen", "online", "dvc", "dich vu cong", "qua mang", "internet", "cong dvc", "nop truc tuyen"),
    "in_person": ("truc tiep", "in person", "tai quay", "mot cua", "bo phan mot cua", "nop truc tiep", "tai cho"),
    "post": ("buu chinh", "post", "buu dien", "bcci", "qua buu chinh", "mail"),
}
_CHANNEL_OF = {word: channel for channel, words in _CHANNELS.items() for word in words}


_THOUSANDS = re.compile(r"^\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*$")


def parse_count(text: str) -> int:
    """A count written 170.531, 170,531, 170 531 or 170531; refused if negative or not whole."""
    value = text.replace("\u00a0", "").replace(" ", "")
    if value.startswith("-") and value[1:2].isdigit():
        raise ValueError(_("negative number “%(value)s”", value=text))
    if value.isdigit():
        return int(value)
    if _THOUSANDS.match(value):
        return int(re.sub(r"[.,]", "", value))
    raise ValueError(_("“%(value)s” is not a whole number", value=text))


def parse_percent(text: str) -> float:
    value = text.replace("%", "").replace("\u00a0", "").replace(" ", "")
    if "," in value and "." not in value:
        value = value.replace(",", ".")
    return float(value)


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_MONTH_YEAR = re.compile(r"^(?:thang|t|month)?\s*(\d{1,2})\s*(?:[/\-.]|\s+nam\s+|\s+)\s*(\d{4})$")
_YEAR_MONTH = re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})$")
_QUARTER_YEAR = re.compile(r"^(?:quy|q|quarter)\s*(iv|i{1,3}|[1-4])\s*(?:[/\-.]|\s+nam\s+|\s+)\s*(\d{4})$")
_YEAR_QUARTER = re.compile(r"^(\d{4})\s*[-/\s]?\s*q\s*([1-4])$")
_YEAR = re.compile(r"^(?:nam|year)?\s*(\d{4})$")
_DATE_DMY = re.compile(r"^(\d{1,2})[/\-.](\d{1,2})[/\-.](\d{4})")
_DATE_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})")
_DAY = r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{4}-\d{1,2}-\d{1,2}"
_RANGE = re.compile(rf"^(?:tu\s+)?({_DAY})\s*(?:-|–|den|to)\s*({_DAY})$")


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def parse_date(text: str) -> date:
    """A day written dd/mm/yyyy (the Vietnamese way) or yyyy-mm-dd (a spreadsheet's)."""
    value = text.strip()
    try:
        if match := _DATE_DMY.match(value):
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        if match := _DATE_YMD.match(value):
            return date(*(int(g) for g in match.groups()))
    except ValueError:
        pass  # 31/02/2024: said below in the reader's words
    raise ValueError(_("“%(value)s” is not a date", value=text))


def parse_period(text: str) -> tuple[str, date, date]:
    """A month (09/2023, 2023-09, Tháng 9/2023), a quarter (Q3/2023, Quý III/2023), a year, or a range of days."""
    value = fold(text).strip()
    try:
        if match := _MONTH_YEAR.match(value):
            month, year = int(match[1]), int(match[2])
            return PeriodKind.MONTH, date(year, month, 1), month_end(year, month)
        if match := _YEAR_MONTH.match(value):
            year, month = int(match[1]), int(match[2])
            return PeriodKind.MONTH, date(year, month, 1), month_end(year, month)
        quarter = None
        if match := _QUARTER_YEAR.match(value):
            quarter, year = _ROMAN.get(match[1]) or int(match[1]), int(match[2])
        elif match := _YEAR_QUARTER.match(value):
            year, quarter = int(match[1]), int(match[2])
        if quarter:
            first = 3 * (quarter - 1) + 1
            return PeriodKind.QUARTER, date(year, first, 1), month_end(year, first + 2)
        if match := _YEAR.match(value):
            year = int(match[1])
            return PeriodKind.YEAR, date(year, 1, 1), date(year, 12, 31)
        if (match := _DATE_YMD.fullmatch(value)) or (match := _DATE_DMY.fullmatch(value)):
            day = parse_date(value)
            if day.day == 1:  # a spreadsheet's "month" cell is the first day of the month
                return PeriodKind.MONTH, day, month_end(day.year, day.month)
        if match := _RANGE.match(value):
            return range_period(parse_date(match[1]), parse_date(match[2]))
    except ValueError:
        pass
    raise ValueError(
        _("“%(value)s” is not a period: write a month (09/2023), a quarter (Q3/2023) or dates", value=text)
    )


def range_period(start: date, end: date) -> tuple[str, date, date]:
    if end < start:
        raise ValueError(_("the period ends before it starts"))
    if start.day == 1 and end == month_end(end.year, end.month):
        if (start.year, start.month) == (end.year, end.month):
            return PeriodKind.MONTH, start, end
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        if months == 3 and start.month in (1, 4, 7, 10):
            return PeriodKind.QUARTER, start, end
        if months == 12 and start.month == 1:
            return PeriodKind.YEAR, start, end
    return PeriodKind.RANGE, start, end


def channel_of(text: str) -> str | None:
    key = fold_key(text)
    if key in _CHANNEL_OF:
        return _CHANNEL_OF[key]
    if key.startswith(("khong ", "not ", "non ", "chua ")):  # "Không trực tuyến": received some other way
        return "in_person"
    for word, channel in _CHANNEL_OF.items():
        if f" {word} " in f" {key} ":
            return channel
    return None


def _service_level(text: str) -> str | None:
    """Fully online ("toàn trình", "mức độ 4") or partly ("một phần", "mức độ 3"), else unknown."""
    key = fold_key(text)
    if "toan trinh" in key or key in ("4", "muc do 4", "md4", "muc 4", "dvc muc do 4", "level 4", "fully online"):
        return "full"
    if "mot phan" in key or key in ("3", "muc do 3", "md3", "muc 3", "dvc muc do 3", "level 3", "partly online"):
        return "part"
    return None
