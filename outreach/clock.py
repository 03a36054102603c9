"""The one clock: "now" in UTC, and the local zone and day where the teams are (``TIMEZONE``).

Services, the demo and the benchmarks take ``now`` as an argument; only the boundary (a request,
a command, a scheduled job) asks this module for it.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


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
    """The UTC moment a local day begins."""
    return datetime.combine(day, time.min, local_zone()).astimezone(UTC)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC moments a local day begins and the next one begins."""
    return day_start(day), day_start(day + timedelta(days=1))
