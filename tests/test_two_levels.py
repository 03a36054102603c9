"""The main flows on both structures: the units before 1/7/2025 (province > district > commune) and
since (province > commune), each loaded from the package as a province would load them: scope, maps,
reports, imports, village positions and the words on the pages."""

import io
import re
from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa

from outreach.auth.models import Role, User
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.crosswalk import import_crosswalk
from outreach.geo.imports import import_households, import_villages
from outreach.geo.models import AdminUnit, FormerUnit, Household
from outreach.geo.services import VillageInput, commune_area, save_village
from outreach.geo.units import import_units
from outreach.planning.models import Campaign
from outreach.reports import services as reports
from outreach.reports.imports import import_statistics
from outreach.visits.services import record_visit
from tests.conftest import NOW, csrf_token, login, make_household, make_user, visit_payload

# Two communes of each structure, far apart: a ward of the provincial capital and a rural commune.
CASES = {
    "legacy": ("02216", "02383"),  # Phường Tân Hà (Thành phố Tuyên Quang), Xã Minh Khương (Huyện Hàm Yên)
    "2025": ("02215", "02380"),  # Phường Minh Xuân (old Tân Hà and five more), Xã Bạch Xa (old Minh Khương)
}
HANOI = (21.0285, 105.8542)  # Hoàn Kiếm: in another province whichever the structure


@dataclass
class World:
    dataset: str
    province: AdminUnit
    ward: AdminUnit  # a phường
    commune: AdminUnit  # a xã
    ward_village: AdminUnit
    commune_village: AdminUnit
    users: dict[str, User]


def _unit(dataset: str, code: str) -> AdminUnit:
    return db.session.scalar(sa.select(AdminUnit).where(AdminUnit.dataset == dataset, AdminUnit.code == code))


@pytest.fixture(params=["legacy", "2025"])
def world(request, app) -> World:
    dataset = request.param
    import_units(dataset, "Tuyên Quang")
    if dataset == "2025":
        import_crosswalk("Tuyên Quang")
    db.session.commit()
    province = _unit(dataset, "08")
    ward, commune = (_unit(dataset, code) for code in CASES[dataset])
    admin = make_user("admin", Role.ADMIN, None)
    # Villages through the service, at the commune's centre (inside it on either structure).
    ward_village = save_village(admin, ward, VillageInput("1", "Tổ dân phố", ward.lat, ward.lon))
    commune_village = save_village(admin, commune, VillageInput("Nà Khà", "Thôn", commune.lat, commune.lon))
    db.session.commit()
    users = {
        "admin": admin,
        "province": make_user("staff.tinh", Role.STAFF, province),
        "ward_leader": make_user("leader.ward", Role.LEADER, ward),
        "commune_leader": make_user("leader.commune", Role.LEADER, commune),
        "member": make_user("member.ward", Role.MEMBER, ward_village),
    }
    return World(dataset, province, ward, commune, ward_village, commune_village, users)


def csv(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


def logout(client):
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def test_a_ward_leader_never_sees_another_commune_s_households(client, world):
    mine = make_household(world.users["ward_leader"], world.ward_village, "Nguyễn Văn An")
    other = make_household(world.users["commune_leader"], world.commune_village, "Trần Văn Bình")
    login(client, "leader.ward")
    listing = client.get("/households").get_data(as_text=True)
    assert "Nguyễn Văn An" in listing and "Trần Văn Bình" not in listing
    assert client.get(f"/households/{mine.id}").status_code == 200
    assert client.get(f"/households/{other.id}").status_code == 404
    assert "Trần Văn Bình" not in client.get("/households?q=binh").get_data(as_text=True)
    assert client.get(f"/units/{world.commune.id}").status_code == 404
    logout(client)
    login(client, "member.ward")
    assert client.get(f"/households/{other.id}").status_code == 404
    logout(client)
    # The province's staff see both communes on the map, no household.
    login(client, "staff.tinh")
    page = client.get(f"/maps/units/{world.province.id}?level=commune").get_data(as_text=True)
    assert world.ward.name in page and world.commune.name in page
    assert client.get(f"/households/{mine.id}").status_code in (403, 404)


def test_commune_and_province_maps_render(client, world):
    household = make_household(world.users["ward_leader"], world.ward_village, "Nguyễn Văn An")
    record_visit(world.users["member"], visit_payload(household), now=NOW)
    db.session.commit()
    login(client, "staff.tinh")
    province_map = client.get(f"/maps/units/{world.province.id}")
    assert province_map.status_code == 200
    # On the 2025 structure the province's map shows its communes straight away (no districts).
    levels = re.findall(r'name="level"[^>]*value="(\w+)"|value="(\w+)"[^>]*name="level"', province_map.get_data(True))
    if world.dataset == "2025":
        assert world.ward.name in province_map.get_data(as_text=True)
        assert "district" not in {a or b for a, b in levels}
    logout(client)
    login(client, "leader.ward")
    commune_map = client.get(f"/maps/units/{world.ward.id}").get_data(as_text=True)
    assert world.ward_village.name in commune_map and "1 / 1" in commune_map
    assert client.get(f"/maps/units/{world.ward.id}/households").status_code == 200


def test_the_impact_report_on_the_structure_s_communes(client, world):
    ward_name = f"UBND {world.ward.kind.lower()} {world.ward.short_name}"
    commune_name = f"UBND {world.commune.kind.lower()} {world.commune.short_name}"
    text = (
        "Đơn vị,Tháng,Tổng số,Trực tuyến\n"
        f"{ward_name},01/2026,100,20\n{ward_name},06/2026,100,50\n"
        f"{commune_name},01/2026,100,30\n{commune_name},06/2026,100,35\n"
    )
    result = import_statistics(world.users["province"], csv(text), "t.csv", province=world.province, now=NOW)
    db.session.commit()
    assert result.unresolved == []
    db.session.add(
        Campaign(commune_id=world.ward.id, name="Xuân", starts_on=date(2026, 3, 2), ends_on=date(2026, 5, 31))
    )
    household = make_household(world.users["ward_leader"], world.ward_village, "Hộ 1")
    visit = record_visit(
        world.users["member"], visit_payload(household, device_time="2026-04-10T09:00:00+07:00"), now=NOW
    )
    assert visit.status == "created"
    db.session.commit()
    staff = world.users["province"]
    report = reports.impact(staff, world.province, reports.report_period(staff, world.province, "2026-01", "2026-06"))
    rows = {r.unit.id: r for r in report.rows}
    # On the legacy structure the province's impact is still per commune (its communes under districts).
    ward, commune = rows[world.ward.id], rows[world.commune.id]
    assert ward.treated and not commune.treated
    assert (ward.before.online, ward.before.total, ward.after.online, ward.after.total) == (20, 100, 50, 100)
    assert not report.crosses_reform
    login(client, "staff.tinh")
    page = client.get(f"/reports/units/{world.province.id}/impact?from=2026-01&to=2026-06")
    assert page.status_code == 200 and world.ward.name in page.get_data(as_text=True)
    ward_page = client.get(f"/reports/units/{world.ward.id}/impact?from=2026-01&to=2026-06").get_data(as_text=True)
    assert "Toàn xã" not in ward_page and f"<h2>{world.ward.name}</h2>" in ward_page
    if world.dataset == "2025":
        assert "báo cáo của huyện" not in ward_page


def test_household_and_village_imports(world):
    villages = (
        "mã xã,tên thôn,loại,vĩ độ,kinh độ\n"
        f"{world.ward.code},Tổ dân phố 2,Tổ dân phố,{world.ward.lat},{world.ward.lon}\n"
        f"{world.commune.code},Nà Mụ,Thôn,,\n"
    )
    result = import_villages(world.users["admin"], csv(villages), "thon.csv", now=NOW, dataset=world.dataset)
    db.session.commit()
    assert result.created == 2
    households = (
        "mã xã;thôn;họ tên chủ hộ;số điện thoại;đồng ý lưu số điện thoại\n"
        f"{world.ward.code};Tổ dân phố 2;Nguyễn Văn An;0912345678;có\n"
        f"{world.ward.code};Tổ dân phố 1;Lê Thị Hoa;;\n"
    )
    result = import_households(world.users["ward_leader"], csv(households), "ho.csv", now=NOW)
    db.session.commit()
    assert result.created == 2
    homes = db.session.scalars(sa.select(Household)).all()
    assert {h.village.parent_id for h in homes} == {world.ward.id}
    # A leader's file naming another commune is refused, row by row.
    other = f"mã xã;thôn;họ tên chủ hộ\n{world.commune.code};Nà Mụ;Trần Văn Bình\n"
    with pytest.raises(ValidationError) as refused:
        import_households(world.users["ward_leader"], csv(other), "ho2.csv", now=NOW)
    assert list(refused.value.errors) == ["Dòng 2"]
    db.session.rollback()


def test_a_village_position_in_another_province_is_refused(client, world):
    text = f"mã xã,tên thôn,loại,vĩ độ,kinh độ\n{world.ward.code},Tổ dân phố 9,Tổ dân phố,{HANOI[0]},{HANOI[1]}\n"
    with pytest.raises(ValidationError) as refused:
        import_villages(world.users["admin"], csv(text), "thon.csv", now=NOW, dataset=world.dataset)
    db.session.rollback()
    (message,) = refused.value.errors["Dòng 2"]
    assert world.ward.name in message and "21.0285" in message
    # The same on the commune's page, beside the latitude field.
    login(client, "leader.ward")
    response = client.post(
        f"/units/{world.ward.id}/villages",
        data={
            "kind": "Tổ dân phố",
            "name": "9",
            "lat": str(HANOI[0]),
            "lon": str(HANOI[1]),
            "csrf_token": csrf_token(client, f"/units/{world.ward.id}"),
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code in (200, 400) and world.ward.name in page and "21.0285" in page
    assert db.session.scalar(sa.select(sa.func.count()).where(AdminUnit.name == "Tổ dân phố 9")) == 0
    # A point of the other commune, in the same province, is refused too.
    other = (world.commune.lat, world.commune.lon)
    area = commune_area(world.ward)
    assert area.known and area.contains(world.ward.lat, world.ward.lon) and not area.contains(*other)


def test_a_2025_commune_is_checked_against_its_former_communes_and_its_size(tq2025):
    minh_xuan = tq2025["Phường Minh Xuân"]
    assert minh_xuan.bounds is None  # the 2025 dataset has none
    area = commune_area(minh_xuan)
    tan_ha = db.session.scalar(sa.select(FormerUnit).where(FormerUnit.code == "02216"))
    box = tan_ha.bounds
    corner = (box.north - 0.001, box.east - 0.001)  # old Tân Hà's north-east corner: part of Minh Xuân today
    assert area.contains(*corner)
    assert len(area.boxes) >= 6 and area.radius_km is not None
    # 34.9 km²: a disc of radius 3.3 km, taken twice: about 6.7 km around the centre.
    assert 6 < area.radius_km < 7.5
    assert not area.contains(HANOI[0], HANOI[1])
    bach_xa = tq2025["Xã Bạch Xa"]
    assert not commune_area(bach_xa).contains(*corner)


def test_words_follow_the_structure(client, world):
    def page(url: str) -> str:
        response = client.get(url)
        assert response.status_code == 200, url
        return response.get_data(as_text=True)

    def no_district(html: str, url: str) -> None:
        text = re.sub(r"<[^>]+>", " ", html.split("<main", 1)[-1])
        assert not re.search(r"huyện", text, re.IGNORECASE), (url, re.findall(r".{60}huyện.{60}", text, re.I)[:3])

    login(client, "staff.tinh")
    home = page("/")
    assert "Cán bộ tỉnh" in home
    # Staff below the province: a district's before 1/7/2025, a commune's or ward's since.
    below = world.ward.parent_unit
    make_user("staff.below", Role.STAFF, below)
    logout(client)
    login(client, "staff.below")
    assert ("Cán bộ huyện" if world.dataset == "legacy" else "Cán bộ tỉnh") in page("/")
    make_user("staff.ward", Role.STAFF, world.ward)
    logout(client)
    login(client, "staff.ward")
    assert "Cán bộ phường" in page("/")
    logout(client)
    login(client, "staff.tinh")
    if world.dataset == "2025":
        for url in (
            "/",
            "/units",
            f"/units/{world.province.id}",
            f"/maps/units/{world.province.id}",
            f"/reports/units/{world.province.id}",
            f"/activity/units/{world.province.id}",
        ):
            no_district(page(url), url)
    logout(client)
    login(client, "leader.ward")
    assert "Lãnh đạo phường" in page("/")
    team = page("/team")
    assert "cả phường" in team and "cả xã" not in team
    unit_page = page(f"/units/{world.ward.id}")
    assert f"Điểm này phải nằm trong {world.ward.name}" in unit_page
    if world.dataset == "2025":
        no_district(unit_page, "unit")
    logout(client)
    login(client, "leader.commune")
    assert "Lãnh đạo xã" in page("/") and "cả xã" in page("/team")
    logout(client)
    # Examples in hints name a unit that exists.
    login(client, "admin")
    users = page("/admin/users")
    name, code = re.search(r"Tên \(“([^”]+)”\) hoặc mã \(“([^”]+)”\)", users).groups()
    assert db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == code, AdminUnit.short_name == name))
    search = page("/units")
    example = re.search(r'placeholder="Tên, ví dụ: ([^"]+)"', search).group(1)
    assert world.province.name in page(f"/units?q={example}") or example in page(f"/units?q={example}").lower()
