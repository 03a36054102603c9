"""A user never reads or changes anything outside their subtree: by page, form or API."""

import pytest

from outreach.extensions import db
from outreach.geo.models import Household
from tests.conftest import csrf_token, login, make_household


@pytest.fixture
def households(users, geo):
    return {
        "tanha": make_household(
            users["leader"], geo["tanha_v1"], "Nguyễn Văn An", phone="0912345678", consent_sms=True
        ),
        "tanha_v2": make_household(users["leader"], geo["tanha_v2"], "Lê Thị Hoa"),
        "minhkhuong": make_household(users["leader_other"], geo["minhkhuong_v1"], "Hoàng Văn Sơn", phone="0987654321"),
    }


def test_leader_cannot_see_another_communes_household(client, households):
    login(client, "leader.tanha")
    other = households["minhkhuong"].id
    for url in (
        f"/households/{other}",
        f"/households/{other}/edit",
        f"/households/{other}/export",
        f"/api/v1/households/{other}",
    ):
        assert client.get(url).status_code == 404, url
    listing = client.get("/households").get_data(as_text=True)
    assert "Nguyễn Văn An" in listing and "Hoàng Văn Sơn" not in listing
    api = client.get("/api/v1/households").get_json()
    assert {h["head_name"] for h in api["households"]} == {"Nguyễn Văn An", "Lê Thị Hoa"}


def test_leader_cannot_change_another_communes_household(client, households):
    login(client, "leader.tanha")
    other = households["minhkhuong"]
    token = csrf_token(client, "/")
    assert (
        client.post(f"/households/{other.id}/consent/store_phone/withdraw", data={"csrf_token": token}).status_code
        == 404
    )
    assert client.post(f"/households/{other.id}/erase", data={"csrf_token": token, "confirm": "y"}).status_code == 404
    edit = client.post(
        f"/households/{other.id}/edit",
        data={"csrf_token": token, "head_name": "Hacked", "village_id": other.village_id, "members": 1},
    )
    assert edit.status_code == 404
    db.session.rollback()
    unchanged = db.session.get(Household, other.id)
    assert unchanged.head_name == "Hoàng Văn Sơn" and unchanged.phone == "+84987654321" and unchanged.erased_at is None


def test_leader_cannot_put_a_household_into_another_communes_village(client, households, geo):
    login(client, "leader.tanha")
    response = client.post(
        "/households/new",
        data={
            "csrf_token": csrf_token(client, "/households/new"),
            "village_id": geo["minhkhuong_v1"].id,
            "head_name": "Trần Văn Bình",
            "members": 3,
        },
    )
    assert response.status_code == 200
    assert db.session.query(Household).filter_by(head_name="Trần Văn Bình").count() == 0


def test_leader_cannot_add_villages_to_another_commune(client, households, geo):
    login(client, "leader.tanha")
    response = client.post(
        f"/units/{geo['minhkhuong'].id}/villages",
        data={"csrf_token": csrf_token(client, "/"), "name": "Thôn X", "kind": "Thôn"},
    )
    assert response.status_code == 404
    assert client.get(f"/units/{geo['minhkhuong'].id}").status_code == 404


def test_member_sees_and_corrects_only_their_village_but_cannot_erase(client, households):
    login(client, "member.tanha")
    assert client.get(f"/households/{households['tanha'].id}").status_code == 200
    assert client.get(f"/households/{households['tanha_v2'].id}").status_code == 404
    assert client.get(f"/households/{households['tanha'].id}/edit").status_code == 200  # members correct the field
    assert client.get(f"/households/{households['tanha_v2'].id}/edit").status_code == 404
    token = csrf_token(client, "/")
    assert (
        client.post(
            f"/households/{households['tanha'].id}/erase", data={"csrf_token": token, "confirm": "y"}
        ).status_code
        == 403
    )
    assert client.get("/imports").status_code == 403


def test_staff_see_units_of_their_subtree_but_no_individual_household(client, households, geo):
    login(client, "staff.city")
    assert client.get(f"/units/{geo['tanha'].id}").status_code == 200
    assert client.get(f"/units/{geo['minhkhuong'].id}").status_code == 404  # another district
    assert client.get(f"/households/{households['tanha'].id}").status_code == 404
    assert client.get("/households").status_code == 403
    assert client.get(f"/api/v1/households/{households['tanha'].id}").status_code == 404
    assert client.get("/households/new").status_code == 403


def test_search_of_units_stays_in_scope(client, households):
    login(client, "staff.city")
    found = client.get("/api/v1/units?q=minh khuong").get_json()["units"]
    assert found == []
    found = client.get("/api/v1/units?q=tan ha").get_json()["units"]
    assert [u["name"] for u in found] == ["Phường Tân Hà", "Thôn Tân Hà"]


def test_admin_sees_everything(client, households):
    login(client, "admin")
    for household in households.values():
        assert client.get(f"/households/{household.id}").status_code == 200


def test_api_create_in_another_commune_is_refused(client, households, geo, users, app):
    from outreach.auth.services import issue_token
    from outreach.types import utcnow

    token = issue_token(users["leader"], now=utcnow())
    db.session.commit()
    response = client.post(
        "/api/v1/households",
        json={"village_id": geo["minhkhuong_v1"].id, "head_name": "Ma Văn Tài"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
    assert "village_id" in response.get_json()["errors"]


def test_staff_get_no_household_list_from_the_api(client, households):
    login(client, "staff.city")
    response = client.get("/api/v1/households")
    assert response.status_code == 403 and response.get_json()["error"]
