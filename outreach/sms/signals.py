"""What the SMS area tells the areas above it (they subscribe; this area imports none of them)."""

from blinker import Namespace

_signals = Namespace()

# A resident replied GIUP / CAN GIUP / HO TRO to a message: they ask for someone to come and help.
# Sent with ``inbound`` (the stored InboundSms), ``household`` (the number's household, or None) and
# ``now``; a receiver returns the answer to send back at once ("" for none: it queued its own).
help_asked = _signals.signal("help-asked")

# A resident replied XOA (delete my data): the privacy area records a deletion request with its legal
# deadline. Sent with ``inbound``, ``household`` and ``now``.
deletion_asked = _signals.signal("deletion-asked")
