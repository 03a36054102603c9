"""What the planning area tells the areas above it (they subscribe; this area imports none of them)."""

from blinker import Namespace

_signals = Namespace()

# Open assignments ended without a visit: taken back by a leader ("cancelled"), given to another member
# ("reassigned", sent once the new ones exist), or no longer in the member's area ("out_of_area"). Sent
# with the ``actor`` (or None) as sender, ``assignment_ids``, ``reason`` and ``now``, inside the
# transaction (requests puts a request assigned through one of them back on the leader's list, or lets
# it follow the new member).
assignments_released = _signals.signal("assignments-released")
