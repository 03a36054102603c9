"""The landing page of each role, language switch and health check."""
