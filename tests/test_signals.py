"""A lower area asks the areas above through signals (geo: a household's export, its erasure, a
withdrawn consent, a move; auth: a user's changed scope; visits: stored visits; audit: the names of
its events' targets); the app connects their receivers whenever it is created (the web, the CLI, the
scheduler), so nothing is left behind."""

from outreach.audit.signals import naming_targets
from outreach.auth.signals import scope_changed
from outreach.geo.signals import consent_withdrawn, household_erased, household_exported, household_moved
from outreach.visits.signals import visits_stored


def _receivers(signal) -> set[str]:
    return {f"{r.__module__}.{r.__name__}" for r in signal.receivers_for(None)}


def test_the_areas_above_answer_for_a_household(app):
    assert _receivers(household_exported) == {
        "outreach.visits.sensitive.export_sensitive_facts",
        "outreach.requests.services.leaders.export_help_requests",
    }
    assert _receivers(household_erased) == {
        "outreach.visits.sensitive.erase_visits_of",
        "outreach.requests.services.leaders.erase_help_requests",
        "outreach.sms.services.policy.erase_messages_of",
    }
    assert _receivers(consent_withdrawn) == {"outreach.visits.sensitive.on_consent_withdrawn"}


def test_auth_names_the_users_the_audit_page_shows(app):
    assert _receivers(naming_targets) == {"outreach.auth.services.user_names"}


def test_planning_releases_the_assignments_a_changed_scope_hides(app):
    assert _receivers(scope_changed) == {"outreach.planning.receivers.on_scope_changed"}
    assert _receivers(household_moved) == {"outreach.planning.receivers.on_household_moved"}


def test_stored_visits_answer_the_assignments_and_the_requests(app):
    assert _receivers(visits_stored) == {
        "outreach.planning.receivers.on_visits_stored",
        "outreach.requests.routes._on_visits_stored",
    }


def test_released_assignments_answer_the_requests_assigned_through_them(app):
    from outreach.planning.signals import assignments_released

    assert _receivers(assignments_released) == {"outreach.requests.services.leaders.on_assignments_released"}
