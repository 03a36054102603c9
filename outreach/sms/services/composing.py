"""Message templates: filling in a household's name and link, and checking a template."""

import re
import secrets
from datetime import date, datetime

from flask_babel import gettext as _

from outreach.clock import local_today
from outreach.sms.segments import count_segments, without_diacritics
from outreach.text import clean

DEFAULT_TEMPLATE = "Chào {name}, Tổ công nghệ số gửi hướng dẫn: {link} Nhắn TU CHOI để ngừng nhận tin."
REMINDER_TEMPLATE = (
    "Nhắc lịch: hôm nay {date} Tổ công nghệ số cộng đồng hẹn quay lại hỗ trợ gia đình {name} "
    "dùng dịch vụ công trực tuyến. Trả lời TU CHOI để ngừng nhận tin."
)
# Any other day than the follow-up day: the appointment is named, never called "today".
REMINDER_LATE_TEMPLATE = (
    "Nhắc lịch: Tổ công nghệ số cộng đồng đã hẹn ngày {date} quay lại hỗ trợ gia đình {name} "
    "dùng dịch vụ công trực tuyến và sẽ sớm liên hệ lại. Trả lời TU CHOI để ngừng nhận tin."
)


def new_token() -> str:
    return secrets.token_urlsafe(6)  # 8 characters


def compose(template: str, *, name: str, link: str, plain: bool = False) -> str:
    """The message for one household: ``{name}`` and ``{link}`` filled in, NFC, optionally without diacritics."""
    text = clean(template).replace("{name}", clean(name)).replace("{link}", link)
    return without_diacritics(text) if plain else text


def reminder_text(follow_up_on: date, name: str, *, at: datetime) -> str | None:
    """The follow-up reminder for a message going out at ``at``: "hôm nay" (today) only on the
    follow-up day itself, the day named on the day after, and None later than that (more than a day
    late, an SMS would only confuse: the household is on the member's Today instead)."""
    late_by = (local_today(at) - follow_up_on).days
    if late_by > 1:
        return None
    template = REMINDER_TEMPLATE if late_by == 0 else REMINDER_LATE_TEMPLATE
    return template.format(date=follow_up_on.strftime("%d/%m"), name=clean(name))


def check_template(template: str) -> dict[str, list[str]]:
    errors = {}
    text = clean(template)
    if not text:
        errors["template"] = [_("Write the message.")]
    elif "{link}" not in text:
        errors["template"] = [_("The message must contain {link}, where the guide's short link goes.")]
    elif len(re.findall(r"\{(\w*)\}", text)) != text.count("{name}") + text.count("{link}"):
        errors["template"] = [_("Only {name} and {link} can be filled in.")]
    elif count_segments(compose(text, name="Nguyễn Thị Phương Thảo", link="x" * 40)).segments > 6:
        errors["template"] = [_("The message is too long (more than 6 SMS segments).")]
    return errors
