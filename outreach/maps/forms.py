from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length


class BoundaryForm(FlaskForm):
    unit = StringField(
        _l("Under which unit"),
        validators=[
            DataRequired(message=_l("Name the province or commune (or a district, before 1/7/2025).")),
            Length(max=120),
        ],
        description=_l("A name (“Tỉnh Tuyên Quang”) or a code (“08”)."),
    )
    level = SelectField(
        _l("The shapes are of"),
        choices=[
            SelectChoice("commune", _l("Communes")),
            SelectChoice("district", _l("Districts (before 1/7/2025)")),
            SelectChoice("village", _l("Villages")),
        ],
    )
    file = FileField(_l("GeoJSON file"), validators=[FileRequired(message=_l("Choose a GeoJSON file."))])
