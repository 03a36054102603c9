"""Who is logged in: the session's user, or the owner of a bearer token (the phone's API calls)."""

from datetime import timedelta

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from outreach.auth.models import User
from outreach.auth.services import user_for_login, user_for_token
from outreach.clock import utcnow
from outreach.extensions import db, login_manager


def login_lifetime() -> timedelta:
    """The longest a login lasts: as long as the longest cookie that could carry it."""
    config = current_app.config
    return max(config["REMEMBER_COOKIE_DURATION"], config["PERMANENT_SESSION_LIFETIME"])


def load_user(session_id: str) -> User | None:
    """The user of the login a session or remember cookie names, while that login lasts."""
    return user_for_login(session_id, now=utcnow(), lifetime=login_lifetime())


def load_user_from_token(req) -> User | None:
    header = req.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        user = user_for_token(header[7:].strip(), now=utcnow())
        if db.session.dirty:
            db.session.commit()  # the token's last use, even when the request itself only reads
        return user
    return None


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.request_loader(load_user_from_token)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = app.config["SESSION_PROTECTION"]
