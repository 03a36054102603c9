from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from outreach.planning.models import MAX_RETRY_DAYS


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CampaignForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Give the campaign a name.")), Length(max=120)])
    starts_on = DateField(_l("First day"), validators=[DataRequired(message=_l("Give the first day."))])
    ends_on = DateField(_l("Last day"), validators=[DataRequired(message=_l("Give the last day."))])
    village_ids = CheckboxList(_l("Villages"), coerce=int)
    goal_visited_pct = IntegerField(
        _l("Goal: households visited (%)"), default=100, validators=[NumberRange(0, 100, message=_l("From 0 to 100."))]
    )
    goal_activated_pct = IntegerField(
        _l("Goal: households with a VNeID account (%)"),
        default=80,
        validators=[NumberRange(0, 100, message=_l("From 0 to 100."))],
    )
    nobody_home_retry_days = IntegerField(
        _l("When nobody is home, try again after how many days (0: later the same day; 1: the next day)"),
        default=0,
        validators=[NumberRange(0, MAX_RETRY_DAYS, message=_l("A number of days from 0 to %(n)s.", n=MAX_RETRY_DAYS))],
    )


class AssignForm(FlaskForm):
    member_id = SelectField(
        _l("Team member"), coerce=int, validators=[DataRequired(message=_l("Choose a team member."))]
    )
    due_on = DateField(_l("Day"), validators=[DataRequired(message=_l("Choose the day."))])
    campaign_id = SelectField(_l("Campaign"), coerce=int, validators=[Optional()])
    reassign = BooleanField(_l("Take households from whoever has them now (they will be told)"))
