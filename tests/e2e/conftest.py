"""Browser tests: the live server and headless Chromium fixtures are in tests/conftest.py (tests/maps
uses them too; one browser per run)."""

from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: F401 - where they were
