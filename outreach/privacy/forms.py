from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from outreach.labels import RIGHT_CHOICES
from outreach.privacy.models import CHANNELS

CHANNEL_LABELS = {
    "in_person": _l("In person"),
    "phone": _l("By phone"),
    "sms": _l("By SMS reply"),
    "letter": _l("By letter"),
    "guide_page": _l("From a guide page"),
}
assert set(CHANNEL_LABELS) == set(CHANNELS)
STATUS_LABELS = {"open": _l("Open"), "done": _l("Done"), "refused": _l("Refused")}
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class CaseForm(FlaskForm):
    kind = SelectField(_l("What the person asks for"), choices=[SelectChoice(k, v) for k, v in RIGHT_CHOICES])
    requester = StringField(
        _l("Who asked"),
        validators=[DataRequired(message=_l("Enter who made the request.")), Length(max=120)],
        description=_l("The resident, or who asked for them (e.g. “his daughter, Lê Thị Hoa”)"),
    )
    channel = SelectField(
        _l("How the request came in"), choices=[SelectChoice(k, v) for k, v in CHANNEL_LABELS.items()]
    )
    received_at = DateTimeLocalField(
        _l("Received at"), format=DATETIME_FORMAT, validators=[Optional()], description=_l("Empty: now")
    )
    details = TextAreaField(
        _l("What exactly"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Never write ID card numbers, passwords or OTP codes."),
    )


class CloseCaseForm(FlaskForm):
    status = SelectField(
        _l("Outcome"), choices=[SelectChoice("done", _l("Done")), SelectChoice("refused", _l("Refused"))]
    )
    action_taken = TextAreaField(_l("What was done"), validators=[Optional(), Length(max=2000)])
    answer = TextAreaField(
        _l("The answer sent to the person"),
        validators=[DataRequired(message=_l("Write the answer sent to the person.")), Length(max=2000)],
    )


class BreachForm(FlaskForm):
    what = TextAreaField(
        _l("What happened"), validators=[DataRequired(message=_l("Say what happened.")), Length(max=2000)]
    )
    found_at = DateTimeLocalField(
        _l("When it was found"), format=DATETIME_FORMAT, validators=[InputRequired(message=_l("When it was found."))]
    )
    people = IntegerField(
        _l("How many people (estimate)"),
        default=0,
        validators=[InputRequired(message=_l("A whole number.")), NumberRange(min=0, max=100_000_000)],
        render_kw={"inputmode": "numeric"},
    )
    data_kinds = TextAreaField(
        _l("Which personal data"), validators=[Optional(), Length(max=2000)],
        description=_l("e.g. names and phone numbers of one village"),
    )  # fmt: skip
    actions = TextAreaField(_l("What was done"), validators=[Optional(), Length(max=2000)])


# What a resident asks for, in their own words (the leaders' words are outreach.labels.RIGHT_CHOICES).
RESIDENT_RIGHT_LABELS = {
    "know": _l("To know what information about me is kept, and why"),
    "access": _l("To get a copy of my information"),
    "correct": _l("To correct wrong information about me"),
    "delete": _l("To delete my information"),
    "restrict": _l("To stop using my information for now"),
    "object": _l("I do not agree that my information is used"),
}


class AskDataForm(FlaskForm):
    """The resident's form: no login, no cookie, no script. Nothing is chosen or ticked beforehand."""

    class Meta:
        csrf = False  # nobody is logged in: the form token makes a second send change nothing

    name = StringField(_l("Your name"))
    phone = StringField(_l("Your phone number"), render_kw={"inputmode": "tel", "autocomplete": "tel"})
    kind = RadioField(
        _l("What do you ask for?"),
        choices=[SelectChoice(k, v) for k, v in RESIDENT_RIGHT_LABELS.items()],
        validate_choice=False,
    )
    details = TextAreaField(_l("What exactly (optional)"))
    consent = BooleanField(_l("I agree"), default=False)
    token = HiddenField()
    # Left empty by people; filled in by robots that fill in every field.
    website = StringField(_l("Leave this field empty"))
