"""The province's target for the online rate (80% unless it set another, with its date): the gap on maps,
rankings sorted by it, the target line on the trend chart, and how many more online dossiers a month
would reach it at the current volume."""

import re
from datetime import date

import pytest

from outreach.errors import Forbidden, ValidationError
from outreach.extensions import db
from outreach.reports.services import Figures, TrendPoint
from outreach.reports.targets import (
    gap_to_target,
    online_needed,
    recent_volume,
    set_target,
    target_for,
)
from tests.activity.conftest import PERIOD
from tests.conftest import NOW, csrf_token, login


def test_the_arithmetic_by_hand():
    assert online_needed(450, 1000, 0.8) == 350
    assert online_needed(800, 1000, 0.8) == 0 and online_needed(900, 1000, 0.8) == 0
    assert online_needed(0, 0, 0.8) is None
    assert online_needed(1, 3, 0.8) == 2  # 2.4 - 1 rounds up: 3 of 3 is the first count at or above 80%
    assert round(gap_to_target(0.45, 0.8), 4) == 0.35 and gap_to_target(None, 0.8) is None
    points = [
        TrendPoint(date(2026, m, 1), date(2026, m, 28), "month", Figures(total, online))
        for m, total, online in ((8, 0, 0), (9, 900, 300), (10, 800, 300), (11, 1000, 450))
    ]
    volume = recent_volume(points)
    assert (volume.months, volume.total, volume.online) == (3, 2700, 1050)
    # 80% of 2.700 is 2.160: 1.110 more over three months, 370 a month.
    assert volume.needed_per_month(0.8) == 370
    assert recent_volume(points[:1]) is None


def test_the_default_and_a_provinces_own_target(geo, people):
    target = target_for(geo["tanha"])
    assert (target.share, target.due_on, target.is_default) == (0.8, None, True)
    with pytest.raises(Forbidden):
        set_target(people["staff"], geo["province"], pct=90, due_on=None, now=NOW)  # district staff
    with pytest.raises(ValidationError):
        set_target(people["staff_province"], geo["province"], pct=120, due_on=None, now=NOW)
    set_target(people["staff_province"], geo["province"], pct=85, due_on=date(2026, 12, 31), now=NOW)
    db.session.commit()
    target = target_for(geo["tanha"])
    assert (target.share, target.due_on, target.is_default) == (0.85, date(2026, 12, 31), False)


def test_the_unit_page_measures_against_the_target(client, geo, people, month):
    login(client, "staff.province")
    token = csrf_token(client, f"/reports/units/{geo['province'].id}/target")
    client.post(
        f"/reports/units/{geo['province'].id}/target",
        data={"csrf_token": token, "target_pct": "90", "due_on": "2026-12-31"},
    )
    html = client.get(f"/reports/units/{geo['tanha'].id}?from=2026-10&to=2026-11").get_data(as_text=True)
    # Tân Hà, October and November: 750 / 1.800 = 41,67%, 48,33 points below 90%.
    assert "48,33 điểm phần trăm" in html and "90%" in html and "31/12/2026" in html
    # At the current volume (two months: 900 a month, 375 online), 90% needs 810: 435 more a month.
    assert "cần thêm 435 hồ sơ trực tuyến" in html
    # The trend chart draws the target line.
    chart = html.split('<figure class="chart">')[1].split("</figure>")[0]
    assert 'class="target"' in chart and "Mục tiêu 90%" in chart
    assert client.get(f"/reports/units/{geo['tanha'].id}/target").status_code == 403  # a commune: no


def test_rankings_sort_by_the_gap(client, geo, people, month):
    login(client, "staff.province")
    html = client.get(f"/reports/units/{geo['province'].id}?from=2026-11&to=2026-11&rank=gap").get_data(as_text=True)
    table = html.split('id="ranking"')[1].split("</table>")[0]
    names = re.findall(r">(Phường [^<]+|Xã [^<]+)</a>", table)
    # Đội Cấn 20% (60 points below 80%), Tân Hà 45% (35 below), Minh Khương 95% (reached).
    assert names == ["Phường Đội Cấn", "Phường Tân Hà", "Xã Minh Khương"]
    assert "60,00 điểm phần trăm" in table and "đã đạt" in table
    by_rate = client.get(f"/reports/units/{geo['province'].id}?from=2026-11&to=2026-11").get_data(as_text=True)
    table = by_rate.split('id="ranking"')[1].split("</table>")[0]
    assert re.findall(r">(Phường [^<]+|Xã [^<]+)</a>", table) == ["Xã Minh Khương", "Phường Tân Hà", "Phường Đội Cấn"]


def test_maps_show_the_gap_to_the_target(client, geo, people, month):
    login(client, "staff.province")
    html = client.get(f"/maps/units/{geo['city'].id}?measure=target_gap").get_data(as_text=True)
    assert "Khoảng cách đến mục tiêu" in html and "đã đạt mục tiêu" in html  # the tab and the legend
    # Over every month with figures (October and November): Tân Hà 750 / 1.800 = 41,67%.
    assert "còn thiếu 38,3 điểm phần trăm so với mục tiêu 80%: 750 / 1.800 = 41,67%" in html
    assert PERIOD  # the same statistics as the monthly report


def test_the_target_line_is_drawn_within_the_axis():
    import xml.etree.ElementTree as ET

    from outreach.reports.charts import Series, line_chart

    svg = line_chart(
        [Series("Tân Hà", [0.1, 0.2, 0.3], ["a", "b", "c"])],
        title="t", desc="d", y_label="y", x_labels=["09/2026", "10/2026", "11/2026"],
        target=0.8, target_label="Mục tiêu 80%",
    )  # fmt: skip
    root = ET.fromstring(str(svg))
    ns = "{http://www.w3.org/2000/svg}"
    [group] = [g for g in root.iter(f"{ns}g") if g.get("class") == "target"]
    line = group.find(f"{ns}line")
    ticks = [
        t.text for t in root.iter(f"{ns}text") if t.text and t.text.endswith("%") and t.get("text-anchor") == "end"
    ]
    assert "80%" in ticks  # the axis reaches the target though no value does
    assert line.get("y1") == line.get("y2") and float(line.get("y1")) > 0
    assert "Mục tiêu 80%" in "".join(group.itertext())
