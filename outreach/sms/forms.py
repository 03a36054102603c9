from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from outreach.sms.services import DEFAULT_TEMPLATE


class GuideForm(FlaskForm):
    code = StringField(
        _l("Short link"),
        validators=[DataRequired(message=_l("Give the guide a short link.")), Length(max=20)],
        description=_l(
            "Lower-case letters, digits and hyphens: the guide opens at /g/ followed by this short link (/g/vneid1)."
        ),
    )
    title_vi = StringField(
        _l("Title (Vietnamese)"), validators=[DataRequired(message=_l("Enter the Vietnamese title."))]
    )
    body_vi = TextAreaField(
        _l("Steps (Vietnamese, Markdown)"),
        validators=[DataRequired(message=_l("Write the steps in Vietnamese."))],
        description=_l("“## Heading”, numbered steps “1. …”, “**bold**”. Short sentences, one action per step."),
    )
    title_en = StringField(_l("Title (English, optional)"), validators=[Optional()])
    body_en = TextAreaField(_l("Steps (English, optional)"), validators=[Optional()])
    replaced_by_id = SelectField(
        _l("Replaced by"),
        coerce=int,
        default=0,
        validators=[Optional()],
        description=_l("Its short link then opens the chosen guide: links already sent and printed keep working."),
    )


class SendForm(FlaskForm):
    guide_id = SelectField(_l("Guide"), coerce=int, validators=[DataRequired(message=_l("Choose a guide."))])
    template = TextAreaField(
        _l("Message"),
        default=DEFAULT_TEMPLATE,
        validators=[DataRequired(message=_l("Write the message."))],
        description=_l("{name} becomes the head of household's name, {link} the guide's short link."),
    )
    plain = BooleanField(_l("Send without diacritics (cheaper: more characters fit in one SMS)"))
    again = BooleanField(_l("Send it even if this household already received this guide"))


class BulkForm(SendForm):
    village_id = SelectField(_l("Village"), coerce=int, validators=[Optional()])
    which = SelectField(_l("Households"), default="all")
