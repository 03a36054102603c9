"""Monthly (and quarterly) activity reports of the community digital technology teams, up the chain."""
