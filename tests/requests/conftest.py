import re

import pytest

from tests.conftest import make_household

PHONE_OF_A_HOUSEHOLD = "0912345678"


@pytest.fixture
def known(geo, users):
    """A household of Tân Hà whose phone the team already has (and that agreed to SMS guides)."""
    return make_household(
        users["leader"], geo["tanha_v1"], "Nguyễn Thị Hoà", phone=PHONE_OF_A_HOUSEHOLD, consent_sms=True
    )


def form_fields(html: str) -> dict[str, str]:
    """The hidden fields of the resident's form (its token)."""
    return dict(re.findall(r'<input[^>]*name="(token)"[^>]*value="([^"]*)"', html)) or dict(
        (name, value) for value, name in re.findall(r'<input[^>]*value="([^"]*)"[^>]*name="(token)"', html)
    )


def ask_data(village, **fields) -> dict:
    data = {
        "name": "Bà Lò Thị Mai", "phone": "0987 111 222", "village_id": str(village.id), "need": "vneid1",
        "preferred_time": "afternoon", "note": "", "consent": "y", "website": "",
    }  # fmt: skip
    data.update(fields)
    return data
