"""The demo's personal data requests: one answered, one past its deadline on the leader's start page."""

from datetime import datetime, timedelta

from outreach.auth.models import User
from outreach.auth.scope import households_in_scope
from outreach.extensions import db
from outreach.geo.models import Household
from outreach.privacy.services import CaseInput, close_case, open_case


def seed_privacy(leader: User, *, now: datetime) -> None:
    homes = list(db.session.scalars(households_in_scope(leader).order_by(Household.id).limit(2)))
    if len(homes) < 2:
        return
    answered = open_case(
        leader,
        CaseInput(
            kind="know", requester=homes[0].head_name, household_id=homes[0].id, received_at=now - timedelta(days=9)
        ),
        now=now - timedelta(days=9),
    )
    close_case(
        leader, answered.id, status="done", action_taken="Đã in và đưa bản “Toàn bộ dữ liệu đang lưu”.",
        answer="Đã giải thích cho bác các thông tin Tổ lưu và mục đích sử dụng.", now=now - timedelta(days=8),
    )  # fmt: skip
    open_case(
        leader,
        CaseInput(kind="access", requester=homes[1].head_name, channel="phone", household_id=homes[1].id,
                  details="Xin bản sao thông tin của hộ.", received_at=now - timedelta(days=4)),
        now=now - timedelta(days=4),
    )  # fmt: skip
