"""Audit log and import history: who did what, when."""
