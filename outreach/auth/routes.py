import re
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from wtforms import SelectChoice

from outreach.audit.services import record_event
from outreach.audit.signals import naming_targets
from outreach.auth import services
from outreach.auth.forms import LoginForm, TeamMemberForm, TokenForm, UserChangeForm, UserCreateForm
from outreach.auth.login import login_lifetime
from outreach.auth.models import ApiToken, Role, User
from outreach.auth.scope import village_choices
from outreach.errors import ValidationError
from outreach.extensions import db, limiter
from outreach.forms import show_form_errors
from outreach.labels import whole_unit_label
from outreach.types import utcnow

if TYPE_CHECKING:
    from outreach.geo.models import AdminUnit

auth_bp = Blueprint("auth", __name__)
admin_bp = Blueprint("admin", __name__, url_prefix="/admin")


@auth_bp.record_once
def _subscribe(_state) -> None:
    """What the audit page (below) asks of this area: the names of the users its events point at."""
    naming_targets.connect(services.user_names)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def is_local_path(target: str) -> bool:
    """Whether a browser reads ``target`` as a path on this site, whatever it strips or reinterprets
    (tabs and newlines anywhere, leading spaces and control characters, a backslash for a slash),
    and however many times something on the way percent-decodes it: "/x?y" is; "//evil.example",
    "/\\evil.example", "/%09/evil.example", "/%2F/evil.example", "https://evil.example" are not.

    So: every decoding starts with one slash, followed by neither a slash nor a backslash, and holds
    no control character (which browsers drop or which would end the header)."""
    form, seen = target, set()
    while form not in seen:
        seen.add(form)
        if form[:1] != "/" or form[1:2] in ("/", "\\") or _CONTROL.search(form):
            return False
        form = unquote(form)
    return True


def safe_next(target: str | None, default: str | None = None) -> str:
    """Where to go after a form: ``target`` when it is a path on this site, else ``default`` (home)."""
    if target and is_local_path(target):
        return target
    return default or url_for("home.index")


def _login_key() -> str:
    return f"{request.remote_addr}|{request.form.get('username', '').strip().lower()}"


def _failed(response) -> bool:
    return response.status_code != 302  # a successful login redirects


# Only failed attempts count: per user name from one address (guessing one password), and per
# address (trying many names). A training room of twenty people logging in at once is fine.
@auth_bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"], key_func=_login_key, deduct_when=_failed
)
@limiter.limit(
    lambda: current_app.config["LOGIN_ADDRESS_RATE_LIMIT"], methods=["POST"], deduct_when=_failed, scope="login-address"
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        now = utcnow()
        user = services.authenticate(
            form.username.data,
            form.password.data,
            ip=request.remote_addr or "",
            method=current_app.config["PASSWORD_HASH_METHOD"],
            now=now,
        )
        if user is not None:
            services.start_login(user, now=now, lifetime=login_lifetime())
        db.session.commit()
        if user is not None:
            # A new session: nothing from before the login (a CSRF token someone may have planted) carries over.
            session.clear()
            g.pop("csrf_token", None)
            login_user(user, remember=form.remember.data)
            session["lang"] = user.language
            # Members start their day on the walk list; everyone else on the start page.
            default = url_for("planning.today") if user.role == Role.MEMBER else None
            return redirect(safe_next(request.args.get("next"), default))
        flash(_("Wrong user name or password, or the account is deactivated."), "error")
    return render_template("auth/login.html", form=form)


@auth_bp.post("/logout")
@login_required
def logout():
    record_event(current_user, "logout", ip=request.remote_addr or "", now=utcnow())
    services.end_login(session.get("_user_id"))  # a copy of this session or remember cookie opens nothing
    db.session.commit()
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@auth_bp.post("/logout/everywhere")
@login_required
def logout_everywhere():
    """A lost phone: every login of the user ends, on every device, this one included."""
    services.log_out_everywhere(current_user, ip=request.remote_addr or "", now=utcnow())
    db.session.commit()
    logout_user()
    flash(_("You are logged out on every device. Log in again here."), "info")
    return redirect(url_for("auth.login"))


@auth_bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    if current_user.role == Role.MEMBER:
        abort(403)  # members work in the app; programs use the accounts of leaders and staff
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        new_token = services.issue_token(current_user, label=form.label.data, now=utcnow())
        db.session.commit()
        form.label.data = ""
    rows = db.session.scalars(
        db.select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.created_at.desc())
    ).all()
    return render_template("auth/tokens.html", form=form, tokens=rows, new_token=new_token)


@auth_bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    if services.revoke_tokens(current_user, now=utcnow(), token_id=token_id):
        flash(_("The token is revoked."), "info")
    db.session.commit()
    return redirect(url_for("auth.tokens"))


# --- administration of users (admins only) ---------------------------------------------------


@admin_bp.before_request
@login_required
def only_admins():
    if current_user.role != Role.ADMIN:
        abort(403)


def _unit_or_error(form: UserCreateForm | UserChangeForm) -> "AdminUnit | None | Literal[False]":
    """The unit the form names, None when it names none, or False when the name was refused (the
    form says why)."""
    code = (form.unit_code.data or "").strip()
    if not code:
        return None
    try:
        return services.find_unit(code)
    except ValidationError as exc:
        form.unit_code.errors = list(form.unit_code.errors) + exc.errors["unit"]
        return False


@admin_bp.route("/users", methods=["GET", "POST"])
def users():
    form = UserCreateForm()
    if form.validate_on_submit():
        unit = _unit_or_error(form)
        if unit is not False:
            try:
                user = services.create_user(
                    current_user,
                    form.username.data,
                    role=form.role.data,
                    unit=unit,
                    password=form.password.data,
                    full_name=form.full_name.data or "",
                    now=utcnow(),
                )
            except ValidationError as exc:
                show_form_errors(form, exc, fields={"unit": "unit_code"})
            else:
                db.session.commit()
                flash(_("User %(name)s created.", name=user.username), "success")
                return redirect(url_for("admin.users"))
    query = request.args.get("q", "")
    return render_template("admin/users.html", form=form, users=services.list_users(query=query), q=query)


@admin_bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_detail(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserChangeForm(obj=None if request.method == "POST" else user)
    if request.method == "GET":
        form.unit_code.data = services.unit_reference(user.scope_unit) if user.scope_unit else ""
    if form.validate_on_submit():
        unit = _unit_or_error(form)
        if unit is not False:
            try:
                services.change_user(
                    current_user, user.id, role=form.role.data, unit=unit, active=form.active.data, now=utcnow()
                )
                if form.new_password.data:
                    services.set_password(current_user, user, form.new_password.data, now=utcnow())
            except ValidationError as exc:
                show_form_errors(form, exc, fields={"unit": "unit_code"})
            else:
                db.session.commit()
                flash(_("Saved."), "success")
                return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template("admin/user.html", form=form, user=user)


# --- the commune's team (leaders) ------------------------------------------------------------


def _team_places() -> list[SelectChoice]:
    commune = current_user.scope_unit
    return [SelectChoice(commune.id, whole_unit_label(commune))] + [
        SelectChoice(v.id, v.name) for v in village_choices(current_user) if v.parent_id == commune.id
    ]


@auth_bp.route("/team", methods=["GET", "POST"])
@login_required
def team():
    if current_user.role != Role.LEADER:
        abort(403)
    form = TeamMemberForm()
    form.unit_id.choices = _team_places()
    if form.validate_on_submit():
        try:
            member = services.add_team_member(
                current_user, form.username.data, full_name=form.full_name.data, unit_id=form.unit_id.data,
                password=form.password.data, now=utcnow(),
            )  # fmt: skip
        except ValidationError as exc:
            show_form_errors(form, exc, fields={"unit": "unit_id"})
        else:
            db.session.commit()
            flash(_("%(name)s can now log in as “%(user)s”.", name=member.full_name, user=member.username), "success")
            return redirect(url_for("auth.team"))
    return render_template(
        "auth/team.html", form=form, members=services.team_members(current_user), places=_team_places()
    )


@auth_bp.post("/team/<int:user_id>")
@login_required
def team_member(user_id: int):
    if current_user.role != Role.LEADER:
        abort(403)
    try:
        # "Lock"/"Unlock" say what to set; "Move" keeps the account as it is.
        active = request.form.get("set_active", request.form.get("active")) == "1"
        unit_id = request.form.get("unit_id", type=int)
        services.change_team_member(current_user, user_id, unit_id=unit_id, active=active, now=utcnow())
    except ValidationError as exc:
        for messages in exc.errors.values():
            for message in messages:
                flash(str(message), "error")
    else:
        db.session.commit()
        flash(_("Saved."), "success")
    return redirect(url_for("auth.team"))
