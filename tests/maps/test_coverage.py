import json
import re

import pytest

from outreach.maps.builders import NO_DATA, UnitShape, colour, coverage_map
from outreach.maps.services import coverage
from outreach.visits.services import record_visit
from tests.conftest import NOW, csrf_token, login, make_household, visit_payload


@pytest.fixture
def field(users, geo):
    homes = [
        make_household(users["leader"], geo["tanha_v1"], "Nguyễn Văn An", lat=21.83, lon=105.19, phone="0912345678"),
        make_household(users["leader"], geo["tanha_v1"], "<img src=x onerror=alert(1)>", lat=21.831, lon=105.191),
        make_household(users["leader"], geo["tanha_v2"], "Lê Thị Hoa", lat=21.84, lon=105.20),
        make_household(users["leader_other"], geo["minhkhuong_v1"], "Ma Văn Sơn", lat=22.1, lon=105.0),
    ]
    record_visit(users["member"], visit_payload(homes[0], obstacles=["no_smartphone"]), now=NOW)
    record_visit(users["member"], visit_payload(homes[1], outcome="nobody_home"), now=NOW)
    from outreach.extensions import db

    db.session.commit()
    return homes


def test_coverage_counts_and_no_data_units(users, geo, field):
    rows = {r.name: r for r in coverage(users["admin"], geo["province"], "commune")}
    tanha = rows["Phường Tân Hà"]
    # Nobody home at the second household: tried, not reached, counted apart.
    assert (tanha.households, tanha.visited, tanha.activated, tanha.nobody_home) == (3, 1, 1, 1)
    assert tanha.share("visited") == 33.3
    assert rows["Phường Đội Cấn"].households == 0 and rows["Phường Đội Cấn"].share("visited") is None
    assert colour(rows["Phường Đội Cấn"].share("visited")) == NO_DATA and colour(0.0) != NO_DATA


def test_coverage_by_district_and_by_village(users, geo, field):
    districts = {r.name: (r.households, r.visited) for r in coverage(users["admin"], geo["province"], "district")}
    assert districts == {"Thành phố Tuyên Quang": (3, 1), "Huyện Hàm Yên": (1, 0)}
    villages = {r.name: (r.households, r.visited) for r in coverage(users["leader"], geo["tanha"], "village")}
    assert villages == {"Thôn Phú Bình": (2, 1), "Thôn Tân Hà": (1, 0)}


def test_coverage_stays_in_scope(users, geo, field):
    names = {r.name for r in coverage(users["staff"], geo["province"], "commune")}
    assert names == {"Phường Tân Hà", "Phường Đội Cấn"}  # staff of the city: not Minh Khương


def test_map_pages_per_role(client, users, geo, field):
    login(client, "staff.city")
    page = client.get(f"/maps/units/{geo['city'].id}").get_data(as_text=True)
    assert "Phường Tân Hà" in page and "1 / 3" in page
    assert f"/maps/units/{geo['tanha'].id}" in page  # drill down into a child
    assert f"/maps/units/{geo['province'].id}" not in page  # breadcrumbs link only inside the staff's area
    assert client.get(f"/maps/units/{geo['tanha'].id}/households").status_code == 403
    assert client.get(f"/maps/units/{geo['minhkhuong'].id}").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "leader.minhkhuong")
    assert client.get(f"/maps/units/{geo['tanha'].id}/households").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "member.tanha")
    assert client.get(f"/maps/units/{geo['tanha_v1'].id}/households").status_code == 200
    assert client.get(f"/maps/units/{geo['tanha_v2'].id}/households").status_code == 404


def test_household_layer_escapes_text_and_shows_no_phone(client, users, geo, field):
    login(client, "leader.tanha")
    page = client.get(f"/maps/units/{geo['tanha'].id}/households").get_data(as_text=True)
    assert "<img src=x onerror" not in page
    # Escaped as HTML, then written as JSON (the & becomes \u0026): the popup shows it as text.
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in page
    assert "Nguy\\u1ec5n V\\u0103n An" in page
    assert "0912" not in page and "+84912345678" not in page


def test_coverage_builder_escapes_unit_names():
    shapes = [UnitShape(1, "<script>x()</script>", 21.8, 105.2, None, 10, 50.0, "5 / 10", "Mở")]
    parts = coverage_map(shapes, tiles_url=None, attribution="", drill_url=lambda i: f"/maps/units/{i}")
    assert "<script>x()" not in parts.script and "&lt;script&gt;x()" in parts.script


def _square(lat, lon, d=0.01):
    return {
        "type": "Polygon",
        "coordinates": [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]],
    }


def test_boundary_upload_matches_by_code_or_name_and_reports_the_rest(client, users, geo, field):
    import io
    import json

    from outreach.extensions import db
    from outreach.geo.models import AdminUnit

    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"ma_xa": "02216"}, "geometry": _square(21.82, 105.18)},
            {"type": "Feature", "properties": {"ten": "P. Đội Cấn"}, "geometry": _square(21.80, 105.20)},
            {"type": "Feature", "properties": {"ten": "Xã Không Có"}, "geometry": _square(21.7, 105.1)},
            {
                "type": "Feature",
                "properties": {"ma_xa": "02383"},
                "geometry": {"type": "Point", "coordinates": [105, 22]},
            },
        ],
    }
    login(client, "admin")
    response = client.post(
        "/maps/boundaries",
        data={"csrf_token": csrf_token(client, "/maps/boundaries"), "unit": "08", "level": "commune",
              "file": (io.BytesIO(json.dumps(collection).encode()), "xa.geojson")},
        content_type="multipart/form-data",
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert 'id="boundary-report"' in page and "Xã Không Có" in page
    db.session.rollback()
    assert db.session.get(AdminUnit, geo["tanha"].id).boundary_geojson is not None
    assert db.session.get(AdminUnit, geo["doican"].id).boundary_geojson is not None  # "P. Đội Cấn" by name
    assert db.session.get(AdminUnit, geo["minhkhuong"].id).boundary_geojson is None  # a point is not a shape
    map_page = client.get(f"/maps/units/{geo['city'].id}").get_data(as_text=True)
    assert "geo_json" in map_page  # drawn as a choropleth now
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "leader.tanha")
    assert client.get("/maps/boundaries").status_code == 403


def test_boundary_upload_with_an_unknown_unit_says_so_on_the_unit_field(client, users, geo):
    import io

    login(client, "admin")
    page = client.post(
        "/maps/boundaries",
        data={"csrf_token": csrf_token(client, "/maps/boundaries"), "unit": "Xyz", "level": "commune",
              "file": (io.BytesIO(b'{"type": "FeatureCollection", "features": []}'), "x.geojson")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)  # fmt: skip
    assert 'id="unit-error"' in page and "Xyz" in page
    assert 'id="file-error"' not in page


def test_a_province_of_547_communes_is_one_data_array_with_every_commune():
    shapes = [
        UnitShape(n, f"Xã Số {n}", 19.0 + n / 1000, 105.0 + n / 1000, None, 200 + n, n % 100, f"{n} / 2000", "Mở")
        for n in range(547)
    ]
    shapes[0].boundary = json.dumps({"type": "Feature", "geometry": _square(19.0, 105.0)})
    parts = coverage_map(shapes, tiles_url=None, attribution="", drill_url=lambda i: f"/maps/units/{i}")
    data = re.search(r"\}\)\(\w+, (\{.*?\}), (\[\[.*?\]\]), \"Mở\"\);", parts.script, re.S)
    assert data is not None
    shapes_drawn, circles = json.loads(data.group(1)), json.loads(data.group(2))
    assert len(shapes_drawn["features"]) == 1 and len(circles) == 546  # every commune, each once
    assert {c[4] for c in circles} == {f"Xã Số {n}" for n in range(1, 547)}
    assert circles[0][6] == "/maps/units/1" and shapes_drawn["features"][0]["properties"]["name"] == "Xã Số 0"
    assert parts.script.count("L.circleMarker") == 1  # one callback, not code per unit
    assert parts.size < 200_000
