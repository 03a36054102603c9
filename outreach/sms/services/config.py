"""The settings the SMS services read, and the local time zone."""

from zoneinfo import ZoneInfo

from flask import current_app


def settings() -> dict:
    return current_app.config


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings()["BABEL_DEFAULT_TIMEZONE"])
