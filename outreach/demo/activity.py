"""The demo's monthly activity reports (2025 structure): last month's reports of the communes with a
leader, up the chain straight to the province since there are no districts: one approved, one returned
with a comment, the others waiting for the province's staff."""

from datetime import datetime, timedelta

from outreach.activity.periods import month_of
from outreach.activity.services import approve_report, return_report, submit_report
from outreach.auth.models import User
from outreach.clock import local_today

NOTES = {
    "went_well": "Tổ đi từng ngõ, gõ từng nhà theo danh sách; nhiều người cao tuổi đã tự đăng nhập VNeID được.",
    "blocked": "Nhiều số điện thoại không chính chủ; một số thôn sóng yếu nên phải ghi ngoại tuyến.",
}


def seed_activity_reports(leaders: list[User], reviewer: User, *, now: datetime) -> None:
    """Last month's report of each leader's commune, submitted; the first approved, the second returned."""
    today = local_today(now)
    period = month_of(today).previous()
    earlier = now - timedelta(days=today.day - 1)  # submitted at the start of this month
    reports = [
        submit_report(leader, leader.scope_unit, period, **NOTES, today=today, now=earlier)
        for leader in leaders
        if leader.scope_unit is not None
    ]
    if reports:
        approve_report(reviewer, reports[0].id, comment="Đạt yêu cầu.", now=earlier + timedelta(days=1))
    if len(reports) > 1:
        return_report(
            reviewer,
            reports[1].id,
            comment="Đề nghị bổ sung số hộ đã đến nhưng không có ai ở nhà.",
            now=earlier + timedelta(days=1),
        )
