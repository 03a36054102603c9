"""What the visits area tells the areas above it (they subscribe; this area imports none of them)."""

from datetime import datetime
from typing import NamedTuple

from blinker import Namespace

_signals = Namespace()

# Visits were stored (the web form's sync, the API): sent with ``actor`` (the member), ``visits``
# (a list of ``StoredVisit``) and ``now``, inside the transaction that stores them (for a single
# record, inside its savepoint: if it is undone, so is what the receivers did). Planning closes or
# keeps open the member's assignments, requests closes the help requests a meeting answers; the
# receivers do not depend on each other's order.
visits_stored = _signals.signal("visits-stored")


class StoredVisit(NamedTuple):
    visit_id: int
    household_id: int
    outcome: str
    device_time: datetime
    # The record corrects one where someone was met (a correction to "nobody home" puts the
    # household back on the member's list).
    corrects_a_meeting: bool = False
