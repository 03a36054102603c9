"""The processing register and impact assessment, filled from the app's own configuration: what personal data
it holds per purpose, the legal basis, who can see it by role and area, where it is kept, for how long, and
the safeguards. Shown as a page in the reader's language, and as a DOCX and PDF in Vietnamese (an official
document, drawn by the same tools as the monthly report: ``outreach.activity.exports``)."""

from datetime import date

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from outreach.activity.document import DocSection, DocTable, ReportDocument, _place_date, _upper
from outreach.auth.models import Role, User
from outreach.auth.permissions import PERMISSIONS
from outreach.clock import local_today
from outreach.geo.models import AdminUnit, Level
from outreach.labels import ROLE_LABELS
from outreach.privacy.models import Right
from outreach.privacy.retention import KINDS, retention_days

RIGHT_LABELS = {
    Right.KNOW: _l("to be informed"),
    Right.ACCESS: _l("to access"),
    Right.CORRECT: _l("to correct"),
    Right.DELETE: _l("to delete"),
    Right.RESTRICT: _l("to restrict processing"),
    Right.OBJECT: _l("to object"),
}


def _days(n: int) -> str:
    return _("%(n)s days", n=n) if n > 0 else _("until the resident asks for deletion")


def _roles_with(action: str) -> str:
    roles = [str(ROLE_LABELS[role]) for role in (Role.ADMIN, Role.STAFF, Role.LEADER, Role.MEMBER)]
    allowed = PERMISSIONS[action]
    return ", ".join(r for role, r in zip((Role.ADMIN, Role.STAFF, Role.LEADER, Role.MEMBER), roles, strict=True)
                     if role in allowed)  # fmt: skip


def _data_rows(days: dict[str, int]) -> list[list[str]]:
    where = current_app.config.get("DATA_LOCATION") or _("the commune's or province's server running this app")
    area = _("their own commune or village")
    rows = [
        [
            _("Head of household's name, address, number of members"),
            _("Guiding households to online public services; planning visits"),
            _("Consent of the resident, asked at the door"),
            _("%(roles)s, of %(area)s", roles=_roles_with("see_households"), area=area),
            _("until the resident asks for deletion"),
        ],
        [
            _("Phone number"),
            _("Contacting the household about the guidance"),
            _("Separate consent “store the phone number”, recorded with its text"),
            _("%(roles)s, of %(area)s", roles=_roles_with("see_households"), area=area),
            _(
                "until consent is withdrawn; in messages already sent: %(days)s after",
                days=_days(days["withdrawn_phones"]),
            ),
        ],
        [
            _("SMS with a link to a guide, and the resident's replies"),
            _("Sending step-by-step guides"),
            _("Separate consent “receive SMS guides”; STOP / TU CHOI ends it"),
            _("%(roles)s, of %(area)s", roles=_roles_with("manage_sms"), area=area),
            _("replies: %(days)s", days=_days(days["resident_replies"])),
        ],
        [
            _("Visit records: what was done, obstacles, notes"),
            _("Following up the help given; counting the team's work"),
            _("Consent of the resident; counts only in reports"),
            _("%(roles)s, of %(area)s; staff see counts only", roles=_roles_with("see_households"), area=area),
            _("notes: %(days)s; counts are kept", days=_days(days["visit_notes"])),
        ],
        [
            _("Position of the house"),
            _("Planning the walk between houses"),
            _("Separate consent at the visit"),
            _("%(roles)s, of %(area)s", roles=_roles_with("see_households"), area=area),
            _days(days["visit_notes"]),
        ],
        [
            _("Disability (sensitive personal data: health)"),
            _("Adapting the help to the person"),
            _("Explicit consent for this purpose only, never pre-ticked; without it only an anonymous count"),
            _("%(roles)s, of their commune", roles=_roles_with("see_sensitive_facts")),
            _days(days["sensitive_facts"]),
        ],
        [
            _("Who opened whose data (reads on record), the audit log"),
            _("Accountability; answering the resident who asks who saw their data"),
            _("Legal obligation of the controller"),
            _("%(roles)s", roles=_roles_with("handle_data_requests")),
            _days(days["reads"]),
        ],
    ]
    return [[str(i), *row[:3], row[3], row[4], where] for i, row in enumerate(rows, start=1)]


SAFEGUARDS = (
    _l("Every user sees only the households of their own area (one scope filter for every page, list and API call)."),
    _l("Province and district staff see counts, never individual households."),  # replaced by _safeguards
    _l(
        "Passwords are stored only as salted hashes; logins end after a password or role change, "
        "and can be ended one by one."
    ),
    _l("ID card numbers, passwords, OTP codes and VNeID credentials are refused wherever text is entered."),
    _l("Phone numbers and SMS texts never appear in the server's logs."),
    _l("Opening a household's page, exporting it and reading it through the API are recorded (who, what, when)."),
    _l("A disability is recorded with the household only with explicit consent; otherwise it is counted anonymously."),
    _l(
        "A resident who restricts or objects is hidden from lists, receives no SMS and is not visited, their data kept."
    ),
    _l("Data past its retention period is anonymised by a daily job; each run is recorded in the audit log."),
    _l("Connections are encrypted (HTTPS) in production; backups are kept on the same servers as the data."),
)


def _safeguards(unit: AdminUnit | None) -> list[str]:
    """The safeguards in the words of the unit's structure: no districts since 1/7/2025."""
    texts = [str(text) for text in SAFEGUARDS]
    if unit is None or unit.dataset == "2025":
        texts[1] = _("Province and commune staff see counts, never individual households.")
    return texts


def build_sections(unit: AdminUnit | None = None) -> list[DocSection]:
    """The register's sections in the current language, in the words of ``unit``'s structure (the
    reader's; today's structure when none)."""
    days = retention_days()
    sections = [
        DocSection(
            _("I. THE PROCESSING"),
            [
                _(
                    "The community digital technology teams guide households, door to door, to use online public "
                    "services. This register lists the personal data the Outreach app holds for that work, as "
                    "the Law on Personal Data Protection (Law 91/2025/QH15) requires."
                ),
                _(
                    "Legal basis: the consent of the data subject, per purpose, explicit and recorded "
                    "(what, who, when, which text)."
                ),
            ],
        ),
        DocSection(
            _("II. PERSONAL DATA PER PURPOSE"),
            table=DocTable(
                [_("No."), _("Data"), _("Purpose"), _("Legal basis"), _("Who may see it"), _("Kept for"), _("Where")],
                _data_rows(days),
                text=True,
            ),
            landscape=True,
        ),
        DocSection(
            _("III. RETENTION"),
            table=DocTable(
                [_("No."), _("Kind of data"), _("Kept for"), _("Then")],
                [
                    [str(i), str(kind.label), _days(days[kind.name]), str(kind.kept)]
                    for i, kind in enumerate(KINDS, start=1)
                ],
                text=True,
            ),
        ),
        DocSection(
            _("IV. PEOPLE'S RIGHTS AND DEADLINES"),
            [
                _(
                    "Requests are recorded as cases with a deadline; overdue cases are shown to the commune leader "
                    "and the province."
                ),
                *[
                    _(
                        "Right %(right)s: answered within %(hours)s hours.",
                        right=RIGHT_LABELS[right],
                        hours=current_app.config["RIGHTS_DEADLINE_HOURS"].get(right.value, 72),
                    )
                    for right in Right
                ],  # fmt: skip
                _(
                    "A breach is notified to %(authority)s within %(hours)s hours of being found.",
                    authority=current_app.config["PRIVACY_AUTHORITY"],
                    hours=current_app.config["BREACH_NOTIFY_HOURS"],
                ),
            ],
        ),
        DocSection(_("V. SAFEGUARDS"), [f"{i}. {text}" for i, text in enumerate(_safeguards(unit), start=1)]),
        DocSection(
            _("VI. IMPACT ASSESSMENT"),
            [
                _(
                    "Risks: a list of households shown to someone outside their area; a phone number used for "
                    "another purpose; a disability becoming known in the village; a lost phone."
                ),
                _(
                    "Measures: the scope filter and roles above; consent per purpose; sensitive facts apart; "
                    "retention; reads on record; the field app keeps on the phone only the day's walk list and "
                    "unsent visits, and the login ends when the phone is reported lost."
                ),
                _("Assessment: the remaining risk is low when the measures above are applied."),
            ],
        ),
    ]
    return sections


def _issuer(unit: AdminUnit | None) -> tuple[str, str]:
    if unit is None:
        return "", _upper(_("PEOPLE'S COMMITTEE"))
    if unit.level == Level.VILLAGE and unit.parent is not None:
        unit = unit.parent
    above = unit.parent.name if unit.parent is not None else ""
    return (_upper(_("PC %(unit)s", unit=above)) if above else ""), _upper(_("PC %(unit)s", unit=unit.name))


def build_register(actor: User, *, today: date | None = None) -> ReportDocument:
    """The register as an administrative document, in Vietnamese, for the actor's unit to sign."""
    with force_locale("vi"):
        unit = actor.scope_unit
        superior, issuer = _issuer(unit)
        day = today or local_today()
        subject = _("Register of personal data processing and impact assessment")
        return ReportDocument(
            superior=superior,
            issuer=issuer,
            number=_("No.: …/BC-UBND"),
            place_date=_place_date((unit.short_name or unit.name) if unit else "…", day),
            title=_("REGISTER"),
            subject=subject,
            full_title=subject,
            draft=False,
            sections=build_sections(unit),
            recipients=[_("- The provincial police (personal data protection);"), _("- Filed: office.")],
            signer_title=_("ON BEHALF OF THE PEOPLE'S COMMITTEE"),
            signer_name="",
        )
