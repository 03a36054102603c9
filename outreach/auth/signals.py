"""What the auth area tells the areas above it (they subscribe; this area imports none of them)."""

from blinker import Namespace

_signals = Namespace()

# A user's role or unit changed: what they may see changed. Sent with the ``user`` as sender, ``actor``
# (or None) and ``now``, inside the transaction that changes them (planning releases the assignments
# the user may no longer see).
scope_changed = _signals.signal("scope-changed")
