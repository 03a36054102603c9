import hashlib
from pathlib import Path

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from outreach.activity.reminders import notices_for
from outreach.auth.models import Role
from outreach.auth.routes import safe_next
from outreach.clock import local_today
from outreach.extensions import db
from outreach.home.services import area_summary, team_day
from outreach.privacy.services import overdue_count
from outreach.requests.services import new_requests
from outreach.sms.services import list_guides
from outreach.types import utcnow

home_bp = Blueprint("home", __name__)


@home_bp.get("/")
@login_required
def index():
    today = local_today()
    # A leader's own walk list is always empty (households are assigned to members): their today is the team's.
    team = team_day(current_user, today=today) if current_user.role == Role.LEADER else None
    # Residents who asked for a visit and wait for someone to be given them.
    asking = new_requests(current_user) if team is not None else 0
    return render_template(
        "home/index.html", summary=area_summary(current_user), team=team, today=today,
        notices=notices_for(current_user), asking=asking, overdue_requests=overdue_count(current_user, now=utcnow()),
    )  # fmt: skip


@home_bp.post("/language")
def language():
    chosen = request.form.get("lang")
    if chosen in ("vi", "en"):
        session["lang"] = chosen
        if current_user.is_authenticated:
            current_user.language = chosen
            db.session.commit()
    target = request.form.get("next", "")
    return redirect(safe_next(target))


# --- the installable field app ---------------------------------------------------------------

SHELL_FILES = (
    "css/app.css", "js/outbox.js", "js/field.js", "js/record.js", "js/today.js", "js/install.js", "js/position.js",
    "js/tables.js",
    "img/icon.svg", "img/icon-192.png",
)  # fmt: skip
OFFLINE_PAGES = ("/today", "/record", "/api/v1/assignments")


def _shell_version() -> str:
    """Changes whenever a cached file changes, so phones drop the old cache."""
    if "pwa_version" not in current_app.extensions:
        static, templates = current_app.static_folder, current_app.template_folder
        assert static is not None and templates is not None  # create_app names both
        digest = hashlib.sha256()
        for name in SHELL_FILES:
            digest.update((Path(static) / name).read_bytes())
        digest.update(Path(templates, "pwa", "sw.js").read_bytes())
        lock = Path(current_app.root_path).parent / "package-lock.json"  # the vendored map libraries
        if lock.exists():
            digest.update(lock.read_bytes())
        current_app.extensions["pwa_version"] = digest.hexdigest()[:12]
    return current_app.extensions["pwa_version"]


@home_bp.get("/sw.js")
def service_worker():
    shell = [url_for("static", filename=name) for name in SHELL_FILES] + ["/manifest.webmanifest"]
    # The guides for everyone (a member shows one at a door with no signal; a resident rereads it).
    public = ["/offline", url_for("static", filename="css/app.css"), url_for("static", filename="img/icon.svg")] + [
        url_for("sms.public_guide", code=g.code) for g in list_guides()
    ]
    body = render_template("pwa/sw.js", version=_shell_version(), shell=shell, pages=list(OFFLINE_PAGES), public=public)
    response = current_app.response_class(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@home_bp.get("/favicon.ico")
def favicon():
    """Browsers ask for it on every page, even ones that name their icon; answered without a session."""
    return current_app.send_static_file("img/icon-192.png")


@home_bp.get("/manifest.webmanifest")
def manifest():
    body = render_template(
        "pwa/manifest.webmanifest",
        name=_("Outreach: community digital technology team"),
        description=_("Every lane, every door, every person: record the households you helped, even offline."),
    )
    return current_app.response_class(body, mimetype="application/manifest+json")


@home_bp.get("/offline")
def offline():
    return render_template("pwa/offline.html")
