"""Words shown for the states of an activity report and what happened to it."""

from flask_babel import lazy_gettext as _l

STATUS_LABELS = {
    "none": _l("Not submitted"),
    "draft": _l("Not submitted (draft)"),
    "submitted": _l("Submitted, waiting for approval"),
    "returned": _l("Returned for correction"),
    "approved": _l("Approved"),
}
EVENT_LABELS = {
    "submitted": _l("Submitted"),
    "returned": _l("Returned"),
    "approved": _l("Approved"),
}
