"""The settings the SMS services read; the local zone comes from the one clock."""

from flask import current_app

from outreach.clock import local_zone

__all__ = ["local_zone", "settings"]


def settings() -> dict:
    return current_app.config
