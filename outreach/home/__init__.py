"""The landing page of each role, language switch, the installable app (service worker, manifest)."""
