from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Length

from outreach.activity.services import COMMENT_LIMIT, NOTE_LIMIT


class NoteForm(FlaskForm):
    went_well = TextAreaField(
        _l("What went well"),
        validators=[Length(max=NOTE_LIMIT)],
        description=_l("Results worth telling the level above: a village finished, a good way of working."),
    )
    blocked = TextAreaField(
        _l("What blocked the work"),
        validators=[Length(max=NOTE_LIMIT)],
        description=_l("What the team could not solve and needs help with."),
    )


class ReviewForm(FlaskForm):
    comment = TextAreaField(
        _l("Comment"),
        validators=[Length(max=COMMENT_LIMIT)],
        description=_l("Needed to return the report: say what to correct."),
    )


class ReminderPhoneForm(FlaskForm):
    phone = StringField(_l("Mobile number"), validators=[Length(max=30)])
    agree = BooleanField(_l("I agree"))


class StopRemindersForm(FlaskForm):
    pass
