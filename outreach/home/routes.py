from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from outreach.extensions import db
from outreach.home.services import area_summary

home_bp = Blueprint("home", __name__)


@home_bp.get("/")
@login_required
def index():
    return render_template("home/index.html", summary=area_summary(current_user))


@home_bp.post("/language")
def language():
    chosen = request.form.get("lang")
    if chosen in ("vi", "en"):
        session["lang"] = chosen
        if current_user.is_authenticated:
            current_user.language = chosen
            db.session.commit()
    target = request.form.get("next", "")
    return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("home.index"))


@home_bp.get("/healthz")
def health():
    db.session.execute(db.text("select 1"))
    return {"status": "ok"}
