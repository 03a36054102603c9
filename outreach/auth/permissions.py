"""What each role is offered in the interface, in one table: templates ask ``can('record_visits')``
instead of naming roles.

This decides which links and buttons a page shows. The services still check every request
(``require_role``, the scope filters); where the interface is narrower than what a service would
accept (the admin records no visits and has no "Today"), the table follows the interface.
"""

from flask_login import AnonymousUserMixin

from outreach.auth.models import Role, User

ADMIN, STAFF, LEADER, MEMBER = Role.ADMIN, Role.STAFF, Role.LEADER, Role.MEMBER

PERMISSIONS: dict[str, frozenset[Role]] = {
    # The field work of a commune's team.
    "see_walk_list": frozenset({LEADER, MEMBER}),  # "Today": one's own assignments
    "record_visits": frozenset({LEADER, MEMBER}),
    "correct_team_visits": frozenset({LEADER}),  # anyone's visit; a member corrects only their own
    "send_guide_sms": frozenset({LEADER, MEMBER}),  # a guide by SMS to the household in front of you
    # Households and villages.
    "see_households": frozenset({ADMIN, LEADER, MEMBER}),
    "edit_households": frozenset({ADMIN, LEADER, MEMBER}),  # add, edit, record or withdraw consent
    "handle_data_requests": frozenset({ADMIN, LEADER}),  # a resident's export and erasure, rights cases
    "see_sensitive_facts": frozenset({LEADER}),  # a disability recorded with consent (outreach/privacy)
    # Personal data: rights cases (overdue ones up the chain), the processing register, breaches.
    "see_privacy": frozenset({ADMIN, STAFF, LEADER}),
    "edit_villages": frozenset({ADMIN, LEADER}),
    "import_households": frozenset({ADMIN, LEADER}),  # the CSV import of households and villages
    # Planning a commune's outreach.
    "see_campaigns": frozenset({ADMIN, STAFF, LEADER}),
    "assign": frozenset({ADMIN, LEADER}),
    "plan_any_commune": frozenset({ADMIN}),  # so the commune is chosen, not implied by the user's own
    "manage_team": frozenset({LEADER}),
    # Residents asking for help, and walk-in help at the commune's one-stop desk.
    "handle_help_requests": frozenset({ADMIN, LEADER}),
    "record_desk_help": frozenset({LEADER, MEMBER}),
    # Guides and SMS.
    "edit_guides": frozenset({ADMIN, LEADER}),
    "manage_sms": frozenset({ADMIN, LEADER}),  # the outbox and sending to many households
    # Reports. Importing statistics is also limited by scope (``may_import_statistics``: province staff).
    "see_reports": frozenset({ADMIN, STAFF, LEADER}),
    "import_statistics": frozenset({ADMIN, STAFF}),
    # Monthly activity reports: leaders write their commune's, staff add up and approve; members see their own figures.
    "see_activity_reports": frozenset({ADMIN, STAFF, LEADER}),
    "see_own_figures": frozenset({MEMBER, LEADER}),
    # The whole system.
    "administer": frozenset({ADMIN}),  # users, the audit log, boundaries
    "use_api_tokens": frozenset({ADMIN, STAFF, LEADER}),
}


def may(user: User | AnonymousUserMixin, action: str) -> bool:
    """Whether the interface offers ``action`` to ``user``; nobody who is not logged in may do anything.
    An action not in the table is a ``KeyError``, so a misspelt name fails instead of hiding a button."""
    allowed = PERMISSIONS[action]
    return getattr(user, "role", None) in allowed
