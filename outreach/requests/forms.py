from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from outreach.labels import HELP_LABELS, NEED_LABELS, OBSTACLE_LABELS, TIME_LABELS
from outreach.requests.models import NEEDS, TIMES


class AskForm(FlaskForm):
    """The resident's form: no login, no cookie, no script. Nothing is chosen or ticked beforehand."""

    class Meta:
        csrf = False  # nobody is logged in: the form token makes a second send change nothing

    name = StringField(_l("Your name"))
    phone = StringField(_l("Your phone number"), render_kw={"inputmode": "tel", "autocomplete": "tel"})
    village_id = RadioField(_l("Your village"), coerce=int, validate_choice=False)
    need = RadioField(
        _l("What do you need help with?"),
        choices=[SelectChoice(n, NEED_LABELS[n]) for n in NEEDS],
        validate_choice=False,
    )
    preferred_time = RadioField(
        _l("When suits you best?"), choices=[SelectChoice(t, TIME_LABELS[t]) for t in TIMES], validate_choice=False
    )
    note = TextAreaField(_l("Anything else the team should know (optional)"))
    consent = BooleanField(_l("I agree"), default=False)
    token = HiddenField()
    # Left empty by people; filled in by robots that fill in every field.
    website = StringField(_l("Leave this field empty"))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AssignRequestForm(FlaskForm):
    member_id = SelectField(_l("Team member"), coerce=int, validators=[InputRequired()])
    due_on = DateField(_l("Day of the visit"), validators=[InputRequired(message=_l("Choose the day."))])


class DeskForm(FlaskForm):
    client_id = HiddenField()
    done = MultiCheckboxField(_l("What was done"), choices=[SelectChoice(k, v) for k, v in HELP_LABELS.items()])
    people = IntegerField(_l("How many people"), default=1, validators=[Optional()])
    obstacles = MultiCheckboxField(
        _l("What blocked them (optional)"), choices=[SelectChoice(k, v) for k, v in OBSTACLE_LABELS.items()]
    )
    household_id = IntegerField(
        _l("Household code (the number on the household's page; optional, with the resident's consent)"),
        validators=[Optional()],
    )
    note = StringField(_l("Note (optional)"))
