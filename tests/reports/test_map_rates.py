"""The coverage map's statistics measures: the online rate and its change since outreach began."""

import re
from datetime import date

from outreach.extensions import db
from outreach.planning.models import Campaign
from outreach.reports.imports import import_statistics
from tests.conftest import NOW, login
from tests.reports.conftest import csv_file

MONTHS = (
    "Đơn vị,Tháng,Tổng số,Trực tuyến\n"
    "UBND phường Tân Hà,01/2026,100,20\n"
    "UBND phường Tân Hà,06/2026,100,50\n"
    "UBND xã Minh Khương,01/2026,200,40\n"
    "UBND xã Minh Khương,06/2026,200,60\n"
)


def seed(geo, staff):
    import_statistics(staff, csv_file(MONTHS), "t.csv", province=geo["province"], now=NOW)
    db.session.add(
        Campaign(commune_id=geo["tanha"].id, name="Xuân", starts_on=date(2026, 3, 1), ends_on=date(2026, 5, 31))
    )
    db.session.commit()


def test_online_rate_on_the_map_with_counts_and_no_data_units(client, geo, province_staff):
    seed(geo, province_staff)
    login(client, "staff.province")
    html = client.get(f"/maps/units/{geo['province'].id}?measure=online_rate&level=commune").get_data(as_text=True)
    # Tân Hà: 70 / 200 = 35,00%; Đội Cấn has no statistics: drawn as no data, not as zero.
    assert "70 / 200 = 35,00%" in html and "100 / 400 = 25,00%" in html
    row = re.search(r"Phường Đội Cấn</a></td>(.*?)</tr>", html, re.S).group(1)
    assert "chưa có số liệu" in row
    assert "#bdbdbd" in html  # the no-data colour is on the map


def test_change_since_outreach_began_on_the_map(client, geo, province_staff):
    seed(geo, province_staff)
    login(client, "staff.province")
    html = client.get(f"/maps/units/{geo['province'].id}?measure=rate_change&level=commune").get_data(as_text=True)
    assert "03/2026" in html  # when outreach began
    assert "+30,00 điểm phần trăm: trước 20 / 100 = 20,00%, sau 50 / 100 = 50,00%" in html
    assert "+10,00 điểm phần trăm" in html  # Minh Khương: 20% -> 30%


def test_villages_have_no_rate_of_their_own(client, geo, users, province_staff):
    seed(geo, province_staff)
    login(client, "leader.tanha")
    html = client.get(f"/maps/units/{geo['tanha'].id}?measure=online_rate").get_data(as_text=True)
    assert "không có tỷ lệ riêng" in html
