import re
from pathlib import Path

import pytest
from flask_login import AnonymousUserMixin

from outreach.auth.models import Role, User
from outreach.auth.permissions import PERMISSIONS, may

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_an_unknown_action_fails_loudly():
    with pytest.raises(KeyError):
        may(User(role=Role.ADMIN), "adminster")


def test_the_admin_is_not_offered_the_field_work():
    admin = User(role=Role.ADMIN)
    assert may(admin, "administer") and may(admin, "assign")
    assert not may(admin, "record_visits") and not may(admin, "see_walk_list")


def test_a_role_read_from_the_database_as_text_counts_like_the_enum():
    assert may(User(role="leader"), "manage_team")
    assert not may(User(role="member"), "manage_team")


def test_nobody_logged_out_may_anything():
    assert not any(may(AnonymousUserMixin(), action) for action in PERMISSIONS)


def test_every_action_the_templates_ask_about_is_in_the_table():
    asked = {
        action
        for template in TEMPLATES.rglob("*.html")
        for action in re.findall(r"""\bcan\(\s*['"]([^'"]+)['"]\s*\)""", template.read_text(encoding="utf-8"))
    }
    assert asked, "no template asks can(...)"
    assert asked - PERMISSIONS.keys() == set()
