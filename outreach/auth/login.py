"""Who is logged in: the session's user, or the owner of a bearer token (the phone's API calls)."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from outreach.auth.models import User
from outreach.auth.services import user_for_token
from outreach.clock import utcnow
from outreach.extensions import db, login_manager


def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


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
