"""The one clock: "now" in UTC, and the local zone and day where the teams are (``TIMEZONE``).

Services, the demo and the benchmarks take ``now`` as an argument; only the boundary (a request,
a command, a scheduled job) asks this module for it.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"

# No team recorded anything before this day: an earlier date is a typo or a phone's reset clock.
EARLIEST_DAY = date(2015, 1, 1)
TOMORROW = timedelta(days=1)  # a phone's clock may run a little ahead
YEAR_AHEAD = timedelta(days=366)  # how far ahead a follow-up, a campaign or an assignment is planned


def utcnow() -> datetime:
    """The current moment, aware, in UTC."""
    return datetime.now(UTC)


def local_zone() -> ZoneInfo:
    """The configured time zone (``TIMEZONE``; Asia/Ho_Chi_Minh when no app is running)."""
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or DEFAULT_TIMEZONE)


def local_today(now: datetime | None = None) -> date:
    """The local date at ``now`` (by default the current moment): the server runs in UTC."""
    return (now or utcnow()).astimezone(local_zone()).date()


def day_start(day: date) -> datetime:
    """The UTC moment a local day begins. At the ends of the calendar (a date stored before dates
    were checked), the first or last moment there is, so a query over such a day still runs."""
    try:
        return datetime.combine(day, time.min, local_zone()).astimezone(UTC)
    except OverflowError:
        return (datetime.min if day.year == date.min.year else datetime.max).replace(tzinfo=UTC)


def day_end(day: date) -> datetime:
    """The UTC moment the next local day begins (the last moment there is after 31/12/9999)."""
    return day_start(day + timedelta(days=1)) if day < date.max else datetime.max.replace(tzinfo=UTC)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC moments a local day begins and the next one begins."""
    return day_start(day), day_end(day)


def day_range(now: datetime, ahead: timedelta = TOMORROW) -> tuple[date, date]:
    """The first and last day a person or a phone may send: from ``EARLIEST_DAY`` to the local day at
    ``now`` plus ``ahead``. Anything outside is refused where it comes in, so no page ever has to
    show year 1 or year 9999 (dates near the ends of the calendar fail to convert between zones)."""
    return EARLIEST_DAY, local_today(now) + ahead


def in_day_range(day: date, now: datetime, ahead: timedelta = TOMORROW) -> bool:
    first, last = day_range(now, ahead)
    return first <= day <= last


def in_moment_range(moment: datetime, now: datetime, ahead: timedelta = TOMORROW) -> bool:
    """Whether an aware moment falls on a local day of ``day_range`` (compared without converting it,
    which could overflow at the ends of the calendar)."""
    first, last = day_range(now, ahead)
    return day_start(first) <= moment < day_end(last)
