"""Residents asking for help, and help at the desk. Scope only through ``outreach.auth.scope``;
services take ``actor`` and ``now`` and flush, the request or command commits.

The loop: a resident asks (the public form, a leaflet's QR code, or an SMS reply "GIUP"); the
commune's leader matches the request to a household (or makes one, the resident's consent carried),
assigns it to a member for a day like any household, and the resident gets an SMS saying who will
come; the member's visit closes the request (``visits_stored``).

One module per concern; callers import the names from here: ``texts`` (what residents agree to and
the SMS they get), ``asking`` (the form, SMS replies, the SMS a request leads to), ``leaders`` (the
leaders' list and its actions, closing by visits), ``figures`` (counts), ``desk`` (help at the desk)."""

from outreach.requests.services.asking import (
    AskInput,
    ask,
    ask_by_sms,
    commune_and_villages,
    find_communes,
    new_form_token,
    queue_sms,
    unit_by_code,
)
from outreach.requests.services.desk import (
    DeskInput,
    desk_commune,
    desk_recent,
    record_desk_help,
    sensitive_counted_apart,
)
from outreach.requests.services.figures import (
    HelpFigures,
    help_figures,
    help_figures_between,
)
from outreach.requests.services.leaders import (
    asked_for_help,
    assign_request,
    close_by_visits,
    erase_help_requests,
    erase_request,
    export_help_requests,
    first_visit_day,
    get_request,
    household_from_request,
    link_household,
    matching_households,
    members_for,
    new_requests,
    notice_text,
    on_assignments_released,
    request_list,
    requests_in_scope,
    requests_of_household,
    set_status,
)
from outreach.requests.services.texts import (
    ACK_TEXT,
    CONSENT_VERSION,
    FORM_CONSENT_TEXT,
    NOTICE_TEMPLATE,
    QUIET_ASK,
    SAME_REQUEST_DAYS,
    SMS_CONSENT_PREFIX,
    TIME_WORDS,
)

__all__ = [
    "ACK_TEXT",
    "AskInput",
    "CONSENT_VERSION",
    "DeskInput",
    "FORM_CONSENT_TEXT",
    "HelpFigures",
    "NOTICE_TEMPLATE",
    "QUIET_ASK",
    "SAME_REQUEST_DAYS",
    "SMS_CONSENT_PREFIX",
    "TIME_WORDS",
    "ask",
    "ask_by_sms",
    "asked_for_help",
    "assign_request",
    "first_visit_day",
    "close_by_visits",
    "commune_and_villages",
    "desk_commune",
    "desk_recent",
    "erase_help_requests",
    "erase_request",
    "export_help_requests",
    "find_communes",
    "get_request",
    "help_figures",
    "help_figures_between",
    "household_from_request",
    "link_household",
    "matching_households",
    "members_for",
    "new_form_token",
    "new_requests",
    "notice_text",
    "on_assignments_released",
    "queue_sms",
    "record_desk_help",
    "sensitive_counted_apart",
    "request_list",
    "requests_in_scope",
    "requests_of_household",
    "set_status",
    "unit_by_code",
]
