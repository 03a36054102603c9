"""Impact reports: how online submission rates changed where the teams went out, and where they did not."""
