"""The figures of a commune's month, counted from the visits, the SMS and the statistics, checked by hand
(see the ``month`` fixture); adding up and comparing them; the period."""

from datetime import date

import pytest

from outreach.activity import figures as counting
from outreach.activity.periods import ReportPeriod, default_period, parse_period
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.sms.models import SmsMessage, Status
from tests.activity.conftest import PERIOD
from tests.conftest import NOW, csrf_token, login

NOVEMBER = parse_period(PERIOD)


def test_a_communes_month_counted_by_hand(geo, people, month):
    f = counting.unit_figures(people["leader"], geo["tanha"], NOVEMBER)
    assert f["members_active"] == 2
    assert (f["households_reached"], f["households_tried_only"], f["visits"]) == (2, 1, 3)  # October's try left out
    assert (f["people_helped"], f["helped_under_30"], f["helped_30_to_59"], f["helped_60_plus"]) == (5, 1, 2, 2)
    assert (f["vneid_level1"], f["referred_level2"], f["procedures_submitted"], f["fees_paid_online"]) == (1, 1, 1, 1)
    assert (f["guides_printed"], f["guides_sms"]) == (1, 1)
    assert (f["obstacle.elderly"], f["obstacle.no_smartphone"], f["obstacle.no_internet"]) == (2, 1, 0)
    assert (f["dossiers_total"], f["dossiers_online"], f["previous_total"], f["previous_online"]) == (
        1000,
        450,
        800,
        300,
    )
    assert f["requests_answered"] == 0  # nobody asked for help this month
    reading = counting.read(f, 0.8)
    assert reading.rate == 0.45 and reading.previous_rate == 0.375
    assert round(reading.change, 4) == 0.075 and round(reading.gap, 4) == 0.35
    assert counting.online_needed_per_month(f, 0.8, 1) == 350  # 800 of 1.000 online would be 80%
    assert counting.top_obstacles(f) == [("elderly", 2), ("no_smartphone", 1)]


def test_sms_sent_delivered_and_opened_in_the_month(geo, people, month):
    def message(status, *, sent, opened=False, token):
        db.session.add(
            SmsMessage(
                kind="guide", commune_id=geo["tanha"].id, to_phone="+84912345678", body="x", encoding="GSM-7",
                segments=1, token=token, status=status, due_at=NOW, sent_at=sent,
                opened_at=sent if opened else None, opens=int(opened),
            )
        )  # fmt: skip

    message(Status.DELIVERED, sent=NOW, opened=True, token="t1")
    message(Status.DELIVERED, sent=NOW, token="t2")
    message(Status.SENT, sent=NOW, token="t3")
    message(Status.FAILED, sent=None, token="t4")  # never went out
    message(Status.DELIVERED, sent=NOW.replace(month=10), token="t5")  # October
    db.session.commit()
    f = counting.unit_figures(people["leader"], geo["tanha"], NOVEMBER)
    assert (f["sms_sent"], f["sms_delivered"], f["sms_opened"]) == (3, 2, 1)


def test_adding_up_and_comparing():
    a = {key: 1 for key in counting.KEYS} | {"requests_answered": None}
    b = {key: 2 for key in counting.KEYS} | {"requests_answered": None}
    total = counting.add_up([a, b])
    assert total["people_helped"] == 3 and total["requests_answered"] is None
    assert counting.add_up([a | {"requests_answered": 4}, b])["requests_answered"] == 4
    changed = counting.changes(a, a | {"people_helped": 4})
    assert [(c.key, c.before, c.after, c.delta) for c in changed] == [("people_helped", 1, 4, 3)]


def test_periods():
    assert parse_period("2026-11") == ReportPeriod("month", date(2026, 11, 1))
    q4 = parse_period("2026-q4")
    assert (q4.start, q4.end, q4.key, q4.months) == (date(2026, 10, 1), date(2026, 12, 31), "2026-Q4", 3)
    assert parse_period("2026-01").previous().key == "2025-12"
    assert q4.previous().key == "2026-Q3" and parse_period("2026-Q1").previous().key == "2025-Q4"
    assert default_period(date(2026, 11, 26)).key == "2026-11"  # from the 25th: this month's report
    assert default_period(date(2026, 11, 10)).key == "2026-10"
    for bad in ("", "2026-13", "2026-Q5", "november", "1999-01"):
        with pytest.raises(ValidationError):
            parse_period(bad)


def test_what_a_figure_counts_households_for_the_leader_villages_for_staff(client, geo, people, month):
    login(client, "leader.tanha")
    page = client.get(f"/activity/units/{geo['tanha'].id}/figures/vneid_level1?period={PERIOD}").get_data(as_text=True)
    assert "Nguyễn Văn An" in page and "Lê Văn Cường" not in page
    tried = client.get(f"/activity/units/{geo['tanha'].id}/figures/households_tried_only?period={PERIOD}")
    assert "Trần Thị Bình" in tried.get_data(as_text=True)
    statistics = client.get(f"/activity/units/{geo['tanha'].id}/figures/dossiers_total?period={PERIOD}")
    assert (
        statistics.status_code == 302
        and "/reports/units/" in statistics.location
        and "from=2026-11" in statistics.location
    )
    assert client.get(f"/activity/units/{geo['tanha'].id}/figures/nonsense?period={PERIOD}").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "staff.city")
    page = client.get(f"/activity/units/{geo['tanha'].id}/figures/obstacle.elderly?period={PERIOD}").get_data(
        as_text=True
    )
    assert "Thôn Phú Bình" in page and "Thôn Tân Hà" in page
    assert "Nguyễn Văn An" not in page and "Lê Văn Cường" not in page  # staff see counts, never households


def test_a_member_sees_only_their_own_figures(client, geo, people, month):
    login(client, "member.tanha")
    page = client.get(f"/activity/mine?period={PERIOD}").get_data(as_text=True)
    assert 'data-figure="people_helped">3<' in page  # their visit only, not the leader's 2
    assert 'data-figure="households_tried_only">1<' in page
    assert client.get(f"/activity/units/{geo['tanha'].id}?period={PERIOD}").status_code == 403
    listed = client.get(f"/activity/mine?period={PERIOD}&figure=visits").get_data(as_text=True)
    assert "Nguyễn Văn An" in listed and "Lê Văn Cường" not in listed


def test_a_request_for_help_answered_by_a_visit_counts_in_the_month_and_shows_what_it_counts(
    client, geo, people, month
):
    from datetime import timedelta

    from outreach.requests import services as requests
    from tests.activity.conftest import visit

    asked = requests.ask(
        requests.AskInput(name="Lê Văn Cường", phone="0987111222", village_id=geo["tanha_v2"].id, need="fee",
                          preferred_time="morning", consent=True),
        now=NOW - timedelta(days=2),
    )  # fmt: skip
    requests.link_household(people["leader"], asked.id, month["h3"].id, now=NOW - timedelta(days=2))
    db.session.commit()
    assert counting.unit_figures(people["leader"], geo["tanha"], NOVEMBER)["requests_answered"] == 0  # not yet
    visit(people["leader"], month["h3"], people_helped=1)  # someone goes: the visit closes the request
    f = counting.unit_figures(people["leader"], geo["tanha"], NOVEMBER)
    assert f["requests_answered"] == 1
    assert counting.unit_figures(people["leader_doican"], geo["doican"], NOVEMBER)["requests_answered"] == 0
    assert counting.unit_figures(people["leader"], geo["tanha"], parse_period("2026-10"))["requests_answered"] == 0
    login(client, "leader.tanha")
    page = client.get(f"/activity/units/{geo['tanha'].id}/figures/requests_answered?period={PERIOD}")
    assert page.status_code == 200 and "Lê Văn Cường" in page.get_data(as_text=True)
