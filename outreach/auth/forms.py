from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from outreach.auth.services import example_commune


class LoginForm(FlaskForm):
    username = StringField(
        _l("User name"), validators=[DataRequired(message=_l("Enter your user name.")), Length(max=80)]
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("Enter your password."))])
    remember = BooleanField(_l("Stay logged in on this phone"))


def unit_example_hint() -> str:
    """ "A name or a code", with an example that exists where the person works."""
    unit = example_commune(current_user if current_user and current_user.is_authenticated else None)
    if unit is None:
        return _("A name or a code of a province or commune.")
    return _("A name (“%(name)s”) or a code (“%(code)s”).", name=unit.short_name or unit.name, code=unit.code)


ROLE_CHOICES = [
    SelectChoice("member", _l("Team member")),
    SelectChoice("leader", _l("Commune or ward leader")),
    SelectChoice("staff", _l("Staff (maps and reports, read-only)")),
    SelectChoice("admin", _l("Administrator")),
]


class UserCreateForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(message=_l("Enter a user name.")), Length(max=80)])
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=120)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    unit_code = StringField(
        _l("Unit (code or name)"),
        validators=[Optional(), Length(max=40)],
        description=LazyString(lambda: unit_example_hint() + " " + _("Leave empty for an administrator.")),
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(message=_l("Enter a password.")), Length(min=8, message=_l("At least 8 characters."))],
    )


class UserChangeForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    unit_code = StringField(
        _l("Unit (code or name)"),
        validators=[Optional(), Length(max=120)],
        description=LazyString(lambda: unit_example_hint() + " " + _("Leave empty for an administrator.")),
    )
    active = BooleanField(_l("Can log in"))
    new_password = PasswordField(
        _l("New password"),
        validators=[Optional(), Length(min=8, message=_l("At least 8 characters."))],
        description=_l("Leave empty to keep the current password."),
    )


class TokenForm(FlaskForm):
    label = StringField(
        _l("What is this token for?"),
        validators=[DataRequired(message=_l("Say what the token is for, to recognise it later.")), Length(max=80)],
    )


class TeamMemberForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(message=_l("Enter a user name.")), Length(max=80)])
    full_name = StringField(
        _l("Full name"), validators=[DataRequired(message=_l("Enter the member's name.")), Length(max=120)]
    )
    unit_id = SelectField(_l("Works in"), coerce=int)
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(message=_l("Enter a password.")), Length(min=8, message=_l("At least 8 characters."))],
        description=_l("Give it to the member in person; they can keep it or ask you to change it."),
    )
