"""What planning does when the areas below it tell it something (connected in ``routes._subscribe``):
a user's scope changed or a household moved (auth and geo), visits were stored (visits)."""

from datetime import datetime

from outreach.audit.services import record_event
from outreach.auth.models import User
from outreach.geo.models import Household
from outreach.planning.services import close_assignments, keep_for_another_try, release_out_of_scope
from outreach.visits.models import Outcome
from outreach.visits.signals import StoredVisit


def on_scope_changed(user: User, *, actor: User | None, now: datetime) -> None:
    """A user's role or unit changed: the assignments they may no longer see are released (audited)."""
    released = release_out_of_scope(member=user, now=now, actor=actor)
    if released:
        record_event(actor, "assignment.out_of_area", target=user, detail={"households": released}, now=now)


def on_household_moved(household: Household, *, now: datetime) -> None:
    """A household moved: whoever had it checked out may not see it in its new village; the leader reassigns it."""
    release_out_of_scope(household_ids=[household.id], now=now)


def on_visits_stored(actor: User, *, visits: list[StoredVisit], now: datetime) -> None:
    """Visits the member stored answer their assignments. A household where someone was met is done,
    whatever else the batch says of it; where nobody was home at every try, it waits for another try
    (from the latest); a record corrected from a meeting to "nobody home" puts it back on the list."""
    met = {v.household_id for v in visits if v.outcome != Outcome.NOBODY_HOME}
    tried: dict[bool, dict[int, datetime]] = {False: {}, True: {}}
    for v in visits:
        if v.household_id not in met:
            times = tried[v.corrects_a_meeting]
            times[v.household_id] = max(v.device_time, times.get(v.household_id, v.device_time))
    close_assignments(actor, met, now=now)
    keep_for_another_try(actor, tried[False], now=now)
    keep_for_another_try(actor, tried[True], now=now, reopen=True)
