"""What the visits area tells the areas above it (they subscribe; this area imports none of them)."""

from datetime import datetime
from typing import NamedTuple

from blinker import Namespace

_signals = Namespace()

# Visits were stored (the web form's sync, the API): sent with ``actor`` (the member), ``visits``
# (a list of ``StoredVisit``) and ``now``, inside the transaction that stores them.
visits_stored = _signals.signal("visits-stored")


class StoredVisit(NamedTuple):
    visit_id: int
    household_id: int
    outcome: str
    device_time: datetime
