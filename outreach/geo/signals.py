"""What the geo area tells the areas above it (they subscribe; this area imports none of them).

A household's data reaches into the areas above (its visits, its SMS, its requests for help): geo
keeps what is its own (the household, its consents) and asks them for the rest through these
signals. They are sent inside the caller's transaction; the receivers flush, they never commit.
Each area connects its receivers when its blueprint is registered (``create_app``, which the CLI
and the scheduler use too)."""

from blinker import Namespace

_signals = Namespace()

# A resident asked for everything held about their household. Sent with the ``household`` as sender
# and ``now``; a receiver returns a dict of its sections of the export (name: JSON-ready value).
household_exported = _signals.signal("household-exported")

# A resident's data is erased on request. Sent with the ``household`` as sender, ``actor`` and ``now``,
# before geo empties the household's own row (a receiver may still read its phone and village);
# each receiver erases or anonymises its rows about the household and returns nothing.
household_erased = _signals.signal("household-erased")

# A consent was withdrawn (geo has already marked it). Sent with the ``household`` as sender,
# ``purpose`` (the ``Purpose`` withdrawn), ``actor`` (or None) and ``now``.
consent_withdrawn = _signals.signal("consent-withdrawn")

# A household moved to another village (its row is flushed). Sent with the ``household`` as sender and
# ``now`` (planning releases its assignment if its member may not see the new village).
household_moved = _signals.signal("household-moved")
