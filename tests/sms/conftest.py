from datetime import UTC, datetime

import pytest

from outreach.sms.gateway import TwilioGateway
from tests.conftest import make_household
from tests.sms.fake_twilio import FakeTwilio

# 10:00 in Hà Nội: outside the quiet hours.
DAY = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


@pytest.fixture
def fake_twilio():
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def gateway(app, fake_twilio, monkeypatch):
    """The real twilio client, pointed at the fake server the way TWILIO_API_BASE does it."""
    monkeypatch.setitem(app.config, "TWILIO_API_BASE", fake_twilio.url)
    monkeypatch.setitem(app.config, "SMS_GATEWAY", "twilio")
    from outreach.sms.gateway import gateway_from_config

    gw = gateway_from_config(app.config)
    assert isinstance(gw, TwilioGateway)
    return gw


@pytest.fixture
def guide(app):
    from outreach.extensions import db
    from outreach.sms.services import GuideInput, save_guide

    g = save_guide(None, GuideInput("vneid1", "Cài VNeID", "1. Mở CH Play\n2. Tìm VNeID"), now=DAY)
    db.session.commit()
    return g


@pytest.fixture
def homes(geo, users):
    """Three households of Tân Hà: one agreed to SMS, one only to keeping the phone, one without a phone."""
    leader = users["leader"]
    return {
        "sms": make_household(leader, geo["tanha_v1"], "Nguyễn Thị Hoà", phone="0912345678", consent_sms=True),
        "phone_only": make_household(leader, geo["tanha_v1"], "Trần Văn Bình", phone="0987654321"),
        "no_phone": make_household(leader, geo["tanha_v2"], "Lê Văn Cường"),
    }
