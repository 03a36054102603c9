from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from outreach.auth.models import Role
from outreach.auth.scope import get_household, require_role, village_choices
from outreach.clock import local_today
from outreach.errors import Forbidden, ValidationError
from outreach.extensions import csrf, db, limiter, records_reads
from outreach.forms import show_form_errors
from outreach.geo.signals import household_erased
from outreach.labels import FILTER_LABELS
from outreach.sms import services
from outreach.sms.forms import BulkForm, GuideForm, SendForm
from outreach.sms.models import Status
from outreach.types import utcnow
from outreach.visits.models import VisitRecord

sms_bp = Blueprint("sms", __name__)
# A household's page (geo, below) shows whether its number opted out.
sms_bp.add_app_template_global(services.opt_out_of, "sms_opt_out_of")


@sms_bp.record_once
def _subscribe(_state) -> None:
    """What geo asks of this area: a household's erasure reaches the SMS sent to it and from it."""
    household_erased.connect(services.erase_messages_of)


def _webhook_limit() -> str:
    return current_app.config["SMS_WEBHOOK_RATE_LIMIT"]


# --- the guide library -----------------------------------------------------------------------


@sms_bp.get("/guides")
@login_required
def guides():
    shown = services.guides_for(current_user, replaced=True)
    return render_template("sms/guides.html", guides=shown, editable=services.editable_guide_ids(current_user))


@sms_bp.route("/guides/new", methods=["GET", "POST"])
@sms_bp.route("/guides/<int:guide_id>/edit", methods=["GET", "POST"])
@login_required
def edit_guide(guide_id: int | None = None):
    require_role(current_user, Role.LEADER)
    guide = services.guide_to_edit(current_user, guide_id) if guide_id else None
    form = GuideForm(obj=guide if request.method == "GET" else None)
    form.replaced_by_id.choices = [(0, _("— not replaced —"))] + [
        (g.id, f"{g.title_vi} (/g/{g.code})")
        for g in services.guides_for(current_user)
        if guide is None or g.id != guide.id
    ]
    if form.validate_on_submit():
        data = services.GuideInput(
            code=form.code.data, title_vi=form.title_vi.data, body_vi=form.body_vi.data,
            title_en=form.title_en.data or "", body_en=form.body_en.data or "",
            replaced_by_id=form.replaced_by_id.data or None,
        )  # fmt: skip
        try:
            guide = services.save_guide(current_user, data, now=utcnow(), guide=guide)
        except ValidationError as exc:
            show_form_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Guide saved."), "success")
            return redirect(url_for("sms.guides"))
    fixed = guide is not None and services.link_went_out(guide)
    return render_template("sms/guide_form.html", form=form, guide=guide, fixed=fixed)


@sms_bp.get("/guides/<int:guide_id>/print")
@records_reads
@login_required
def print_guide(guide_id: int):
    import segno

    guide = services.get_guide(guide_id, current_user)
    # From now on a leaflet may carry this short link: it must never change.
    services.mark_printed(guide, now=utcnow())
    db.session.commit()
    link = services.guide_url(guide)
    qr = segno.make(link, error="m").svg_inline(scale=4, dark="#000", light="#fff", border=2)
    # "I need someone to come and help": the form, for the printer's commune or village (a short list).
    unit = services.help_unit_of(current_user)
    query: dict[str, Any] = {"unit": unit} if unit else {}
    query["from"] = "leaflet"
    help_link = services.settings()["PUBLIC_BASE_URL"].rstrip("/") + url_for("requests.ask", **query)
    help_qr = segno.make(help_link, error="m").svg_inline(scale=3, dark="#000", light="#fff", border=2)
    # "Yêu cầu về dữ liệu cá nhân của tôi": the residents' form of the privacy area, for the same unit.
    base = services.settings()["PUBLIC_BASE_URL"].rstrip("/")
    data_link = base + url_for("privacy_public.ask", unit=query.get("unit"))
    return render_template(
        "sms/guide_print.html", guide=guide, link=link, qr=qr, body=services.render_markdown(guide.body_vi),
        help_link=help_link, help_qr=help_qr, data_link=data_link,
    )  # fmt: skip


# --- public guide pages ----------------------------------------------------------------------


@sms_bp.get("/g/<code>")
@records_reads
def public_guide(code: str):
    """No login, no cookie, no script needed: a plain page an elderly resident can read on a small phone."""
    guide = services.guide_by_code(code)
    replacement = services.current_version(guide)
    if replacement.id != guide.id:
        # A link that went out keeps working: it leads to the guide that replaced this one.
        query: dict[str, Any] = {k: v for k, v in request.args.items() if k in ("t", "lang")}
        return redirect(url_for("sms.public_guide", code=replacement.code, **query))
    english = request.args.get("lang") == "en" and bool(guide.body_en)
    # A person opening the page, not the service worker filling its cache ("empty": a fetch, not a page).
    if request.headers.get("Sec-Fetch-Dest", "document") != "empty":
        services.count_open(guide, request.args.get("t"), now=utcnow())
        db.session.commit()
    body = services.render_markdown(guide.body_en if english else guide.body_vi)
    unit = services.help_unit_code(guide, request.args.get("t"))
    help_link = url_for("requests.ask", unit=unit or None)
    data_link = url_for("privacy_public.ask", unit=unit or None)
    response = current_app.response_class(
        render_template(
            "sms/guide_public.html", guide=guide, body=body, english=english, help_link=help_link, data_link=data_link
        ),
        mimetype="text/html",
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


# --- sending ---------------------------------------------------------------------------------


def _guide_choices(form: SendForm) -> None:
    """The guides one may send: the country's and one's own area's (the form refuses any other)."""
    form.guide_id.choices = [(0, _("— choose a guide —"))] + [
        (g.id, g.title_vi) for g in services.guides_for(current_user)
    ]


def _count_context(households: list) -> dict:
    """What the live counter needs: the longest name among the recipients and a link of the real length."""
    names = [h.head_name for h in households if h.head_name] or ["Nguyễn Văn An"]
    return {
        "sample_name": max(names, key=len),
        "sample_link": services.settings()["PUBLIC_BASE_URL"].rstrip("/") + "/g/xxxxxxxxxxxxxxxxxxxx?t=xxxxxxxx",
        # Each guide's link at its real length (a message token is always 8 characters), for the live count.
        "guide_links": {str(g.id): services.guide_url(g, "x" * 8) for g in services.guides_for(current_user)},
        "price": services.settings()["SMS_PRICE_PER_SEGMENT"],
        "currency": services.settings()["SMS_CURRENCY"],
    }


@sms_bp.route("/households/<int:household_id>/sms", methods=["GET", "POST"])
@login_required
def send_to_household(household_id: int):
    household = get_household(current_user, household_id)
    require_role(current_user, Role.LEADER, Role.MEMBER)
    visit = None
    if request.values.get("visit", type=int):
        visit = db.session.get(VisitRecord, request.values.get("visit", type=int))
        if visit is None or visit.household_id != household.id:
            visit = None
    form = SendForm()
    _guide_choices(form)
    plan = None
    if form.validate_on_submit():
        preview = request.form.get("action") == "preview"
        try:
            plan = services.queue_guide_sms(
                current_user, [household.id], form.guide_id.data, form.template.data, now=utcnow(),
                plain=form.plain.data, visit_id=visit.id if visit else None, dry_run=preview,
                again=form.again.data,
            )  # fmt: skip
        except ValidationError as exc:
            show_form_errors(form, exc, fields={"": "template"})
        else:
            if not preview:
                db.session.commit()
                _flash_plan(plan)
                return redirect(url_for("sms.send_to_household", household_id=household.id))
    blocker = services.sms_blocker(household, services.opted_out_numbers([household.phone] if household.phone else []))
    messages = services.household_messages(current_user, household.id)
    return render_template(
        "sms/send.html", form=form, household=household, visit=visit, plan=plan, blocker=blocker,
        opt_out=services.opt_out_of(household.phone), show_again=bool(messages), messages=messages,
        **_count_context([household]),
    )  # fmt: skip


def _flash_plan(plan: services.SendPlan) -> None:
    if plan.recipients:
        flash(_("%(n)s SMS queued.", n=plan.recipients), "success")
        if plan.deferred:
            flash(
                _(
                    "%(n)s of them wait for the end of the quiet hours or for a later day (daily limit).",
                    n=plan.deferred,
                ),
                "info",
            )
    else:
        flash(_("No SMS queued: no chosen household may receive one."), "error")


@sms_bp.route("/sms/bulk", methods=["GET", "POST"])
@login_required
def bulk():
    require_role(current_user, Role.LEADER)
    form = BulkForm(formdata=request.form if request.method == "POST" else request.args or None)
    _guide_choices(form)
    form.village_id.choices = [(0, _("All villages of my area"))] + [
        (v.id, f"{v.name} · {v.parent_unit.name}") for v in village_choices(current_user)
    ]
    # "To reassign" is for the assign page: a resident does not need an SMS because a member moved.
    form.which.choices = [(k, str(v)) for k, v in FILTER_LABELS.items() if k != "to_reassign"]
    households, plan = [], None
    if form.village_id.data is not None and form.which.data:
        try:
            households = services.bulk_households(
                current_user, village_id=form.village_id.data or None, which=form.which.data, today=local_today()
            )
        except ValidationError as exc:
            show_form_errors(form, exc)
    # "Show the households" only lists them: the guide and message are checked on preview and send.
    if request.method == "POST" and request.form.get("action") in ("preview", "send") and form.validate():
        preview = request.form.get("action") != "send"
        try:
            plan = services.queue_guide_sms(
                current_user, [h.id for h in households], form.guide_id.data, form.template.data,
                now=utcnow(), plain=form.plain.data, dry_run=preview,
            )  # fmt: skip
        except ValidationError as exc:
            show_form_errors(form, exc, fields={"": "village_id"})
        else:
            if not preview:
                db.session.commit()
                _flash_plan(plan)
                return redirect(url_for("sms.outbox"))
    return render_template("sms/bulk.html", form=form, households=households, plan=plan, **_count_context(households))


# --- the outbox ------------------------------------------------------------------------------


@sms_bp.get("/sms")
@login_required
def outbox():
    status = request.args.get("status")
    status = status if status in {s.value for s in Status} else None
    page = services.outbox_page(current_user, status=status, page=request.args.get("page", 1, type=int))
    return render_template("sms/outbox.html", status=status, **page)


@sms_bp.post("/sms/messages/<int:message_id>/resolve")
@login_required
def resolve(message_id: int):
    action = request.form.get("action", "")
    try:
        services.resolve_check(current_user, message_id, action=action, now=utcnow())
    except ValidationError as exc:
        flash(" ".join(str(m) for ms in exc.errors.values() for m in ms), "error")
    else:
        db.session.commit()
        done = {
            "went_out": _("Marked as sent."),
            "again": _("Queued again: it will be sent."),
            "dismiss": _("Taken off the list."),
        }
        flash(done[action], "success")
    return redirect(url_for("sms.outbox"))


# --- webhooks (Twilio) -----------------------------------------------------------------------


def _signed() -> bool:
    """The request carries a valid ``X-Twilio-Signature`` for the public URL (we may sit behind a TLS proxy)."""
    signature = request.headers.get("X-Twilio-Signature", "")
    token = current_app.config["TWILIO_AUTH_TOKEN"]
    if not signature or not token:
        return False
    url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return RequestValidator(token).validate(url, request.form.to_dict(), signature)


@sms_bp.post("/sms/status")
@csrf.exempt
@limiter.limit(_webhook_limit)
def status_callback():
    if not _signed():
        raise Forbidden("bad signature")
    services.record_delivery(request.form.to_dict(), now=utcnow())
    db.session.commit()
    return "", 204


@sms_bp.post("/sms/inbound")
@csrf.exempt
@limiter.limit(_webhook_limit)
def inbound():
    if not _signed():
        raise Forbidden("bad signature")
    _stored, answer = services.receive_reply(request.form.to_dict(), now=utcnow())
    db.session.commit()
    twiml = MessagingResponse()
    if answer:
        twiml.message(answer)
    return Response(str(twiml), mimetype="application/xml")
