"""Words shown for codes stored in the database (roles, levels, datasets, audit actions)."""

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "admin": _l("Administrator"),
    # Neutral: staff are a province's or a commune's (and, before 1/7/2025, a district's). A given
    # user's label names their level: role_label().
    "staff": _l("Staff (maps and reports, read-only)"),
    "leader": _l("Commune or ward leader"),
    "member": _l("Team member"),
}
LEVEL_LABELS = {
    "province": _l("Province"),
    "district": _l("District"),
    "commune": _l("Commune"),
    "village": _l("Village"),
}
# "The whole commune" in the unit's own kind: a ward is not a commune to the people who run it.
WHOLE_UNIT_LABELS = {
    "xã": _l("the whole commune"),
    "phường": _l("the whole ward"),
    "thị trấn": _l("the whole town"),
    "đặc khu": _l("the whole special zone"),
}
# A user's role in the words of their unit: no "district" where there are none (since 1/7/2025 a
# province's communes, wards and special zones sit straight under it).
STAFF_LABELS = {
    "province": _l("Province staff"),
    "district": _l("District staff"),
    "xã": _l("Commune staff"),
    "phường": _l("Ward staff"),
    "thị trấn": _l("Town staff"),
    "đặc khu": _l("Special zone staff"),
}
LEADER_LABELS = {
    "xã": _l("Commune leader"),
    "phường": _l("Ward leader"),
    "thị trấn": _l("Town leader"),
    "đặc khu": _l("Special zone leader"),
}


def role_label(role: str, unit: object | None = None) -> str:
    """The role of a user working in ``unit`` (an AdminUnit, or None): "Province staff", "Ward leader"."""
    level = getattr(unit, "level", "")
    kind = str(getattr(unit, "kind", "") or "").lower()
    if role == "staff":
        label = STAFF_LABELS.get(level) or STAFF_LABELS.get(kind) or (STAFF_LABELS["xã"] if unit else None)
    elif role == "leader":
        label = LEADER_LABELS.get(kind) if level == "commune" else None
    else:
        label = None
    return str(label or ROLE_LABELS.get(role, role))


def whole_unit_label(unit: object) -> str:
    """ "The whole commune" in the unit's own kind: "cả phường" for a ward."""
    kind = str(getattr(unit, "kind", "") or "").lower()
    return str(WHOLE_UNIT_LABELS.get(kind, WHOLE_UNIT_LABELS["xã"]))


# What a person asks for about their personal data (outreach/privacy's requests; shown in the audit log too).
RIGHT_CHOICES = (
    ("know", _l("To be informed: what is held and why")),
    ("access", _l("Access: a copy of everything held")),
    ("correct", _l("Correct a mistake")),
    ("delete", _l("Delete their data")),
    ("restrict", _l("Restrict: stop using the data for now")),
    ("object", _l("Object to the processing")),
)
RIGHT_LABELS = dict(RIGHT_CHOICES)
PURPOSE_LABELS = {
    "store_phone": _l("Store the phone number"),
    "receive_sms": _l("Receive SMS guides"),
    "sensitive_health": _l("Record a disability (sensitive data)"),
}
# How someone read a household's data (the reads on record: outreach/privacy).
READ_LABELS = {
    "read.household": _l("opened its page"),
    "read.api": _l("fetched it through the API"),
    "household.export": _l("exported everything held"),
}
DATASET_LABELS = {
    "2025": _l("units since 1/7/2025"),
    "legacy": _l("units before 1/7/2025"),
}
DETAIL_LABELS = {
    "role": _l("role"),
    "unit": _l("unit"),
    "active": _l("can log in"),
    "purpose": _l("purpose"),
    "label": _l("label"),
    "file": _l("file"),
    "rows": _l("rows"),
    "created": _l("created"),
    "updated": _l("updated"),
    "tokens": _l("tokens"),
    "village_id": _l("village"),
    "village": _l("village"),
    "commune": _l("commune"),
    "replaced": _l("replaced"),
    "restored": _l("restored"),
    "ids": _l("households"),
    "via": _l("through"),
    "kind": _l("kind"),
    "status": _l("status"),
    "late": _l("late"),
    "people": _l("people"),
    "counts": _l("anonymised"),
    "days": _l("days kept"),
    "previous": _l("before"),
    "why": _l("because"),
    "member": _l("member"),
    "day": _l("day"),
    "household": _l("household"),
    "visit": _l("visit"),
}
# Why an assignment ended without a visit (``assignment.released_reason``).
RELEASE_LABELS = {
    "cancelled": _l("taken back by the leader"),
    "reassigned": _l("given to another member"),
    "out_of_area": _l("no longer in the member's area"),
}
ACTION_LABELS = {
    "login": _l("Logged in"),
    "login.failed": _l("Failed login"),
    "logout": _l("Logged out"),
    "sessions.end": _l("Logged out on every device"),
    "user.create": _l("User created"),
    "user.change": _l("User changed"),
    "user.role_change": _l("Role or area changed"),
    "user.password": _l("Password changed"),
    "token.create": _l("API token created"),
    "token.revoke": _l("API token revoked"),
    "consent.grant": _l("Consent recorded"),
    "household.export": _l("Household data exported"),
    "household.erase": _l("Household data erased"),
    "households.import": _l("Households imported"),
    "villages.import": _l("Villages imported"),
    "village.delete": _l("Village deleted"),
    "consent.withdraw": _l("Consent withdrawn"),
    "stats_imported": _l("Submission statistics imported"),
    "stats_undone": _l("Statistics import undone"),
    "agency_resolved": _l("Agency matched to a unit"),
    "guide.save": _l("Guide saved"),
    "sms.resolve": _l("SMS checked by a person"),
    "activity.submit": _l("Activity report submitted"),
    "activity.return": _l("Activity report returned"),
    "activity.approve": _l("Activity report approved"),
    "activity.reminders_on": _l("Agreed to SMS reminders of reports"),
    "activity.reminders_off": _l("Stopped SMS reminders of reports"),
    "target.set": _l("Online rate target set"),
    "read.household": _l("Household page opened"),
    "read.api": _l("Household read through the API"),
    "read.list": _l("List of households shown"),
    "privacy.case_open": _l("Request about personal data recorded"),
    "privacy.case_close": _l("Request about personal data answered"),
    "privacy.case_stop": _l("Request about personal data: identity confirmed, processing stopped"),
    "privacy.case_household": _l("Request about personal data linked to its household"),
    "privacy.breach": _l("Personal data breach recorded"),
    "privacy.breach_notified": _l("Personal data breach notified"),
    "privacy.retention": _l("Personal data past its time anonymised"),
    "privacy.retention_dry_run": _l("Retention dry run"),
    "request.status": _l("Request for help: status changed"),
    "request.assign": _l("Request for help assigned"),
    "request.household": _l("Request for help linked to a household"),
    "request.erase": _l("Request for help erased"),
}
OUTCOME_LABELS = {
    "helped": _l("Helped"),
    "nobody_home": _l("Nobody home"),
    "refused": _l("Refused"),
    "moved_away": _l("Moved away"),
    "follow_up": _l("Needs a follow-up"),
}
HELP_LABELS = {
    "vneid_installed": _l("VNeID app installed"),
    "vneid_level1": _l("VNeID level 1 registered"),
    "referred_level2": _l("Referred to the police for level 2"),
    "portal_login": _l("Logged in to the National Public Service Portal"),
    "procedure_submitted": _l("A procedure submitted online"),
    "fee_payment_setup": _l("Online fee payment set up"),
}
GUIDE_LABELS = {"": _l("No guide"), "printed": _l("Printed guide"), "sms": _l("Guide by SMS")}
OBSTACLE_LABELS = {
    "no_smartphone": _l("No smartphone"),
    "phone_not_own_name": _l("Phone number not in their own name"),
    "elderly": _l("Elderly or needs help"),
    "no_internet": _l("No internet"),
    "no_chip_id": _l("No chip-based ID card"),
    "language": _l("Language"),
    "disability": _l("Disability"),
    "other": _l("Other"),
}
FILTER_LABELS = {
    "all": _l("All households"),
    "not_visited": _l("Not visited yet"),
    "no_account": _l("No VNeID account yet"),
    "follow_up_due": _l("Follow-up due"),
    "unassigned": _l("Not assigned"),
    "to_reassign": _l("To reassign (the member or the household moved)"),
}

AGENCY_STATUS_LABELS = {
    "linked": _l("Matched to a unit"),
    "unresolved": _l("To be matched"),
    "not_a_unit": _l("Department or other agency"),
}
PERIOD_KIND_LABELS = {
    "month": _l("Month"),
    "quarter": _l("Quarter"),
    "year": _l("Year"),
    "range": _l("Dates"),
}
EXCLUSION_LABELS = {
    "no_pre_dossiers": _l("no dossiers before outreach began"),
    "no_post_dossiers": _l("no dossiers since outreach began"),
    "no_dossiers": _l("no dossiers in either period"),
}
SMS_STATUS_LABELS = {
    "queued": _l("Waiting to be sent"),
    "sending": _l("Being sent"),
    "sent": _l("Sent"),
    "delivered": _l("Delivered"),
    "undelivered": _l("Not delivered"),
    "failed": _l("Failed"),
    "needs_check": _l("Needs checking"),
    "cancelled": _l("Cancelled"),
}
# How a message is written, which sets how many characters one SMS holds and so what it costs.
SMS_ENCODING_LABELS = {
    "UCS-2": _l("with diacritics"),  # 70 characters per SMS, 67 per part of a longer one
    "GSM-7": _l("without diacritics"),  # 160, and 153
}
SMS_BLOCK_LABELS = {
    "no_phone": _l("no phone number"),
    "no_consent": _l("no consent to receive SMS"),
    "opted_out": _l("the number opted out of SMS (a reply such as STOP or TU CHOI, or the network's opt-out list)"),
    "invalid_number": _l("the network refused the number as invalid: correct it on the household's page"),
    "already_sent": _l("already received this guide (or it is waiting to be sent)"),
}
# Why a message failed, in words (Twilio's error codes; anything else shows the gateway's own message).
SMS_ERROR_LABELS = {
    21211: _l("Invalid phone number"),
    21408: _l("Sending to this region is not enabled"),
    # The network's own list: the number unsubscribed from our sender (a STOP the app may never have seen).
    21610: _l("The network refused it: this number unsubscribed from our messages, so no more SMS to it"),
    21612: _l("This number cannot be reached from our sender"),
    21614: _l("Not a mobile number"),
    30003: _l("Phone unreachable (switched off or out of coverage)"),
    30004: _l("Message blocked by the recipient or the carrier"),
    30005: _l("Unknown number, or no longer in use"),
    30006: _l("Landline or unreachable carrier"),
    30007: _l("Filtered by the carrier"),
    30008: _l("Unknown delivery error"),
}
SMS_NOTE_LABELS = {
    "interrupted": _l("The dispatcher stopped while sending: check with the resident before sending again."),
    "opted_out": _l("Cancelled: the number opted out."),
    "no_consent_or_opted_out": _l("Cancelled: consent withdrawn, number changed or opted out before sending."),
    "invalid_number": _l("Cancelled: the network refused this number as invalid; correct it on the household's page."),
    "too_late": _l(
        "Cancelled: the follow-up day is more than a day past; the household is on the member's Today list."
    ),
}

# Residents asking for help (the requests area).
NEED_LABELS = {
    "vneid1": _l("VNeID level 1 (install the app, register)"),
    "vneid2": _l("VNeID level 2 (at the police)"),
    "online": _l("Submitting a procedure online"),
    "fee": _l("Paying a fee online"),
    "other": _l("Something else"),
}
TIME_LABELS = {
    "morning": _l("morning"),
    "afternoon": _l("afternoon"),
    "evening": _l("evening"),
    "weekend": _l("weekend"),
    "": _l("any time"),
}
REQUEST_STATUS_LABELS = {
    "new": _l("New"),
    "assigned": _l("Assigned"),
    "done": _l("Done"),
    "cannot_help": _l("Cannot help"),
    "spam": _l("Spam"),
}
REQUEST_SOURCE_LABELS = {
    "form": _l("Guide page"),
    "qr": _l("Leaflet QR code"),
    "sms": _l("SMS reply"),
}
