"""A month of work in two communes of one district (Tân Hà and Đội Cấn, in the city), with the
statistics of October and November 2026: small enough to add up by hand."""

import io

import pytest

from outreach.auth.models import Role
from outreach.extensions import db
from outreach.reports.imports import import_statistics
from outreach.visits.services import record_visit
from tests.conftest import NOW, make_household, make_user, visit_payload

PERIOD = "2026-11"

STATS = (
    "Đơn vị,Tháng,Tổng số hồ sơ,Hồ sơ trực tuyến\n"
    "UBND phường Tân Hà,10/2026,800,300\n"
    "UBND phường Tân Hà,11/2026,1.000,450\n"
    "UBND phường Đội Cấn,10/2026,400,100\n"
    "UBND phường Đội Cấn,11/2026,500,100\n"
    "UBND xã Minh Khương,11/2026,200,190\n"
)


def visit(actor, household, **fields):
    result = record_visit(actor, visit_payload(household, **fields), now=NOW)
    assert result.status == "created", result.errors
    db.session.commit()
    return result


@pytest.fixture
def people(users, geo):
    return {
        **users,
        "leader_doican": make_user("leader.doican", Role.LEADER, geo["doican"]),
        "staff_province": make_user("staff.province", Role.STAFF, geo["province"]),
        "staff_hamyen": make_user("staff.hamyen", Role.STAFF, geo["hamyen"]),
    }


@pytest.fixture
def month(geo, people):
    """November 2026 in Tân Hà (two members at work, three households) and Đội Cấn (one household),
    one October visit that must not count, and the statistics of both months.

    Tân Hà, by hand: 2 members active, 2 households reached, 1 tried with nobody home, 3 visits,
    5 people helped (1 under 30, 2 from 30 to 59, 2 aged 60 or more), VNeID level 1 once, one referral
    to level 2, one procedure submitted, one fee payment set up, one printed guide and one by SMS;
    obstacles: elderly in 2 households, no smartphone in 1. Dossiers: 450 / 1.000 online (300 / 800 in
    October). Đội Cấn: 1 member, 1 household reached, 4 people helped (age not recorded), VNeID level 1
    once; 100 / 500 online (100 / 400 in October)."""
    leader, member = people["leader"], people["member"]
    h1 = make_household(leader, geo["tanha_v1"], "Nguyễn Văn An")
    h2 = make_household(leader, geo["tanha_v1"], "Trần Thị Bình")
    h3 = make_household(leader, geo["tanha_v2"], "Lê Văn Cường")
    h4 = make_household(people["leader_doican"], geo["doican_v1"], "Phạm Thị Dung")
    visit(
        member, h1, people_helped=3, helped_under_30=1, helped_60_plus=2, vneid_installed=True, vneid_level1=True,
        procedure_submitted=True, procedure="Đăng ký khai sinh", guide_given="printed",
        obstacles=["elderly", "no_smartphone"],
    )  # fmt: skip
    visit(member, h2, outcome="nobody_home")
    visit(member, h2, outcome="nobody_home", device_time="2026-10-15T09:00:00+07:00")  # October: not counted
    visit(
        leader, h3, people_helped=2, helped_30_to_59=2, vneid_installed=False, vneid_level1=False,
        referred_level2=True, fee_payment_setup=True, guide_given="sms", obstacles=["elderly"],
    )  # fmt: skip
    visit(people["leader_doican"], h4, people_helped=4)
    import_statistics(
        people["staff_province"], io.BytesIO(STATS.encode()), "thang-10-11.csv", province=geo["province"], now=NOW
    )
    db.session.commit()
    return {"h1": h1, "h2": h2, "h3": h3, "h4": h4}
