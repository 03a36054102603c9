from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, DecimalField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from outreach.geo.consent import CONSENT_TEXTS
from outreach.geo.models import VILLAGE_KINDS, Purpose


class HouseholdForm(FlaskForm):
    village_id = SelectField(_l("Village"), coerce=int, validators=[DataRequired(message=_l("Choose the village."))])
    head_name = StringField(
        _l("Head of household"),
        validators=[DataRequired(message=_l("Enter the name of the head of household.")), Length(max=120)],
    )
    address = StringField(
        _l("Address"), validators=[Optional(), Length(max=255)], description=_l("House number, lane, group")
    )
    phone = StringField(
        _l("Phone"), validators=[Optional(), Length(max=30)], render_kw={"inputmode": "tel", "autocomplete": "off"}
    )
    members = IntegerField(
        _l("Number of members"),
        default=1,
        validators=[
            DataRequired(message=_l("Enter the number of members.")),
            NumberRange(min=0, max=100, message=_l("From 0 to 100.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    lat = DecimalField(_l("Latitude"), places=None, validators=[Optional()], render_kw={"inputmode": "decimal"})
    lon = DecimalField(_l("Longitude"), places=None, validators=[Optional()], render_kw={"inputmode": "decimal"})
    notes = TextAreaField(
        _l("Notes"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Never write ID card numbers, passwords or OTP codes."),
    )
    # Never pre-ticked: the resident says yes to each purpose, after hearing the text.
    consent_store_phone = BooleanField(_l("Agrees to store the phone number"), default=False)
    consent_sms = BooleanField(_l("Agrees to receive SMS guides"), default=False)
    confirm_duplicate = BooleanField(_l("This is a different household: save anyway"), default=False)

    consent_texts = {
        "consent_store_phone": CONSENT_TEXTS[Purpose.STORE_PHONE],
        "consent_sms": CONSENT_TEXTS[Purpose.RECEIVE_SMS],
    }


class VillageForm(FlaskForm):
    name = StringField(
        _l("Village name"),
        validators=[DataRequired(message=_l("Enter the village name.")), Length(max=100)],
        description=_l("Without the kind, e.g. “Phú Bình”"),
    )
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, k) for k in VILLAGE_KINDS])
    lat = DecimalField(_l("Latitude"), places=None, validators=[Optional()], render_kw={"inputmode": "decimal"})
    lon = DecimalField(_l("Longitude"), places=None, validators=[Optional()], render_kw={"inputmode": "decimal"})


class ImportForm(FlaskForm):
    kind = SelectField(
        _l("What the file holds"),
        choices=[SelectChoice("households", _l("Households")), SelectChoice("villages", _l("Villages"))],
    )
    file = FileField(
        _l("CSV file"),
        validators=[
            FileRequired(message=_l("Choose a CSV file.")),
            FileAllowed(["csv", "txt"], _l("Only .csv files.")),
        ],
    )


class EraseForm(FlaskForm):
    confirm = BooleanField(
        _l("The resident asked for their data to be deleted. I understand this cannot be undone."),
        validators=[DataRequired(message=_l("Tick the box to confirm."))],
    )
