"""What the audit area asks the areas above it (they subscribe; this area imports none of them)."""

from blinker import Namespace

_signals = Namespace()

# The audit page shows the records its events point at. Sent with the ``events`` (a list of
# ``AuditEvent``) as sender; a receiver returns readable names of the targets it owns,
# ``{(target_type, target_id): name}`` (auth: users by name; households stay a number).
naming_targets = _signals.signal("naming-targets")
