from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from outreach.auth.forms import unit_example_hint


class StatsImportForm(FlaskForm):
    province = SelectField(_l("Province"), coerce=int, validate_choice=False)
    file = FileField(
        _l("Statistics file (CSV or XLSX)"),
        validators=[FileRequired(message=_l("Choose the file exported from the case-handling system."))],
    )


class MappingForm(FlaskForm):
    """The second step for a file kept on the server: the columns a person chose for a file whose headers
    were not all recognised, or their confirmation that the file's own total is what is wrong."""

    upload = HiddenField(validators=[Regexp(r"^[A-Za-z0-9_-]{20,64}$")])  # the pending file's token
    filename = HiddenField(validators=[Length(max=255)])
    province = HiddenField()
    accept_total_mismatch = BooleanField(
        _l("I have checked the difference: the rows are right and the file's own total is not. Import the rows.")
    )
    cancel = SubmitField(_l("Cancel and remove the file"))


class ResolveAgencyForm(FlaskForm):
    unit_id = IntegerField(_l("Unit"), validators=[Optional()])
    former_id = IntegerField(_l("Former commune"), validators=[Optional()])  # a name of before 1/7/2025
    unit = StringField(
        _l("Or another unit"),
        validators=[Optional(), Length(max=120)],
        description=LazyString(unit_example_hint),
    )
    not_a_unit = BooleanField(_l("Not an administrative unit's committee (a department or other agency)"))


class UndoForm(FlaskForm):
    pass


class TargetForm(FlaskForm):
    target_pct = DecimalField(
        _l("Target: share of dossiers received online (%)"),
        places=None,
        validators=[
            InputRequired(message=_l("Write the target as a percentage above 0 and at most 100.")),
            NumberRange(min=0.01, max=100, message=_l("Write the target as a percentage above 0 and at most 100.")),
        ],
    )
    due_on = DateField(_l("To be reached by"), validators=[Optional()])
