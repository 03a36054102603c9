import json

import pytest
import sqlalchemy as sa

from outreach.audit.models import AuditEvent
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Consent, Household, Purpose
from outreach.geo.services import HouseholdInput, create_household, erase_household, withdraw_consent
from tests.conftest import NOW, csrf_token, login, make_household


def _form(client, village, **fields):
    data = {
        "csrf_token": csrf_token(client, "/households/new"),
        "village_id": village.id,
        "head_name": "Trần Thị Mai",
        "members": 4,
    }
    data.update(fields)
    return client.post("/households/new", data=data)


def test_consent_boxes_are_never_pre_ticked(client, users):
    login(client, "leader.tanha")
    page = client.get("/households/new").get_data(as_text=True)
    assert 'id="consent_store_phone"' in page and 'id="consent_sms"' in page
    for box in ("consent_store_phone", "consent_sms"):
        tag = page[page.index(f'id="{box}"') - 80 : page.index(f'id="{box}"') + 80]
        assert "checked" not in tag


def test_create_with_phone_and_consent_records_who_when_and_text(client, users, geo):
    login(client, "member.tanha")
    response = _form(client, geo["tanha_v1"], phone="0912.345.678", consent_store_phone="y", consent_sms="y")
    assert response.status_code == 302
    household = db.session.scalar(sa.select(Household).where(Household.head_name == "Trần Thị Mai"))
    assert household.phone == "+84912345678"
    consents = {c.purpose: c for c in household.consents}
    assert set(consents) == {"store_phone", "receive_sms"}
    assert consents["receive_sms"].collected_by_id == users["member"].id
    assert "tin nhắn SMS" in consents["receive_sms"].text and consents["receive_sms"].text_version
    assert household.may_receive_sms


def test_phone_without_consent_is_refused_with_a_message(client, users, geo):
    login(client, "leader.tanha")
    response = _form(client, geo["tanha_v1"], phone="0912345678")
    assert response.status_code == 200
    assert 'id="phone-error"' in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Household.id))) == 0


def test_invalid_phone_names_the_field(client, users, geo):
    login(client, "leader.tanha")
    response = _form(client, geo["tanha_v1"], phone="12345", consent_store_phone="y")
    page = response.get_data(as_text=True)
    assert 'id="phone-error"' in page and "12345" in page
    assert db.session.scalar(sa.select(sa.func.count(Household.id))) == 0


def test_duplicates_are_shown_before_saving(client, users, geo):
    make_household(users["leader"], geo["tanha_v1"], "Nguyễn Văn An", phone="0912345678")
    login(client, "leader.tanha")
    same_name = _form(client, geo["tanha_v1"], head_name="nguyen van an")  # no diacritics, other case
    assert same_name.status_code == 200 and 'id="duplicates"' in same_name.get_data(as_text=True)
    same_phone = _form(
        client, geo["tanha_v2"], head_name="Lê Văn Bình", phone="+84 912 345 678", consent_store_phone="y"
    )
    assert 'id="duplicates"' in same_phone.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Household.id))) == 1
    other_village = _form(client, geo["tanha_v2"], head_name="Nguyễn Văn An")  # same name elsewhere is fine
    assert other_village.status_code == 302
    confirmed = _form(client, geo["tanha_v1"], head_name="Nguyễn Văn An", confirm_duplicate="y")
    assert confirmed.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Household.id))) == 3


def test_withdrawing_phone_consent_deletes_the_number_and_stops_sms(client, users, geo):
    household = make_household(users["leader"], geo["tanha_v1"], phone="0912345678", consent_sms=True)
    assert household.may_receive_sms
    login(client, "member.tanha")
    response = client.post(
        f"/households/{household.id}/consent/store_phone/withdraw", data={"csrf_token": csrf_token(client, "/")}
    )
    assert response.status_code == 302
    db.session.rollback()
    household = db.session.get(Household, household.id)
    assert household.phone is None and not household.may_receive_sms
    assert all(c.withdrawn_at is not None and c.withdrawn_by_id == users["member"].id for c in household.consents)
    assert (
        db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == "consent.withdraw"))
        == "consent.withdraw"
    )


def test_withdrawing_sms_consent_keeps_the_phone(users, geo):
    household = make_household(users["leader"], geo["tanha_v1"], phone="0912345678", consent_sms=True)
    withdraw_consent(users["leader"], household.id, Purpose.RECEIVE_SMS, now=NOW)
    db.session.commit()
    assert household.phone == "+84912345678" and not household.may_receive_sms
    # Consent again is a new record; the old withdrawn one stays as history.
    from outreach.geo.services import grant_consent

    grant_consent(users["leader"], household.id, Purpose.RECEIVE_SMS, now=NOW)
    db.session.commit()
    assert household.may_receive_sms
    assert db.session.scalar(sa.select(sa.func.count(Consent.id)).where(Consent.purpose == "receive_sms")) == 2


def test_sms_consent_without_phone_is_refused(users, geo):
    with pytest.raises(ValidationError) as caught:
        create_household(users["leader"], HouseholdInput(geo["tanha_v1"].id, "Lò Văn Tâm", consent_sms=True), now=NOW)
    assert "consent_sms" in caught.value.errors


def test_export_holds_everything_and_is_audited(client, users, geo):
    household = make_household(
        users["leader"],
        geo["tanha_v1"],
        "Bàn Thị Yến",
        phone="0987654321",
        consent_sms=True,
        notes="Cần hỗ trợ cài VNeID",
        address="12 ngõ 5",
    )
    login(client, "leader.tanha")
    page = client.get(f"/households/{household.id}/export").get_data(as_text=True)
    assert "Bàn Thị Yến" in page and "0987 654 321" in page and "Cần hỗ trợ cài VNeID" in page
    assert "Nhận tin nhắn" in page  # purposes in words, not codes
    response = client.get(f"/households/{household.id}/export?format=json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["household"]["head_name"] == "Bàn Thị Yến"
    assert data["household"]["phone"] == "+84987654321"
    assert data["household"]["notes"] == "Cần hỗ trợ cài VNeID"
    assert {c["purpose"] for c in data["consents"]} == {"store_phone", "receive_sms"}
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "household.export")).all()
    assert len(events) == 2
    event = events[0]
    assert event.actor_id == users["leader"].id and event.target_id == str(household.id)


def test_erasure_keeps_only_an_anonymous_count(client, users, geo):
    household = make_household(
        users["leader"],
        geo["tanha_v1"],
        "Bàn Thị Yến",
        phone="0987654321",
        consent_sms=True,
        address="12 ngõ 5",
        lat=21.83,
        lon=105.19,
    )
    make_household(users["leader"], geo["tanha_v1"], "Lý Văn Hùng")
    login(client, "leader.tanha")
    response = client.post(
        f"/households/{household.id}/erase", data={"csrf_token": csrf_token(client, "/"), "confirm": "y"}
    )
    assert response.status_code == 302
    db.session.rollback()
    row = db.session.get(Household, household.id)
    assert (row.head_name, row.phone, row.address, row.lat, row.notes) == ("", None, "", None, "")
    assert row.erased_at is not None and row.consents == []
    assert client.get(f"/households/{household.id}").status_code == 404
    assert "Bàn Thị Yến" not in client.get("/households").get_data(as_text=True)
    # Still counted, anonymously, in the village's number of households.
    assert (
        db.session.scalar(sa.select(sa.func.count(Household.id)).where(Household.village_id == geo["tanha_v1"].id)) == 2
    )
    assert (
        db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == "household.erase"))
        == "household.erase"
    )


def test_erase_needs_the_confirmation_box(client, users, geo):
    household = make_household(users["leader"], geo["tanha_v1"])
    login(client, "leader.tanha")
    client.post(f"/households/{household.id}/erase", data={"csrf_token": csrf_token(client, "/")})
    db.session.rollback()
    assert db.session.get(Household, household.id).erased_at is None


def test_search_ignores_diacritics_and_case(client, users, geo):
    make_household(users["leader"], geo["tanha_v1"], "Nguyễn Thị Hạnh", phone="0912345678")
    make_household(users["leader"], geo["tanha_v1"], "Lê Văn Đức")
    login(client, "leader.tanha")
    assert "Nguyễn Thị Hạnh" in client.get("/households?q=nguyen+thi+hanh").get_data(as_text=True)
    page = client.get("/households?q=DUC").get_data(as_text=True)
    assert "Lê Văn Đức" in page and "Nguyễn Thị Hạnh" not in page
    assert "Nguyễn Thị Hạnh" in client.get("/households?q=0912345678").get_data(as_text=True)


def test_erase_service_requires_a_leader(users, geo):
    household = make_household(users["leader"], geo["tanha_v1"])
    from outreach.errors import Forbidden

    with pytest.raises(Forbidden):
        erase_household(users["member"], household.id, now=NOW)


def test_villages_added_by_a_leader(client, users, geo):
    login(client, "leader.tanha")
    token = csrf_token(client, f"/units/{geo['tanha'].id}")
    ok = client.post(
        f"/units/{geo['tanha'].id}/villages",
        data={"csrf_token": token, "name": "Tổ 9", "kind": "Tổ dân phố", "lat": "21.83", "lon": "105.19"},
    )
    assert ok.status_code == 302
    again = client.post(
        f"/units/{geo['tanha'].id}/villages", data={"csrf_token": token, "name": "tổ 9", "kind": "Tổ dân phố"}
    )
    assert again.status_code == 400  # same name, any case
    outside = client.post(
        f"/units/{geo['tanha'].id}/villages",
        data={"csrf_token": token, "name": "Xa Lắc", "kind": "Thôn", "lat": "10.0", "lon": "106.0"},
    )
    assert outside.status_code == 400 and "Phường Tân Hà" in outside.get_data(as_text=True)
    page = client.get(f"/units/{geo['tanha'].id}").get_data(as_text=True)
    assert "Tổ dân phố Tổ 9" in page


def test_editing_keeps_consent_on_record_but_still_checks_the_number(client, users, geo):
    household = make_household(users["leader"], geo["tanha_v1"], "Vi Văn Nhất", phone="0912345678")
    login(client, "leader.tanha")
    url = f"/households/{household.id}/edit"
    base = {
        "csrf_token": csrf_token(client, url),
        "village_id": geo["tanha_v1"].id,
        "head_name": "Vi Văn Nhất",
        "members": 2,
    }
    bad = client.post(url, data=base | {"phone": "0912"})
    assert bad.status_code == 200 and 'id="phone-error"' in bad.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Household, household.id).phone == "+84912345678"
    ok = client.post(url, data=base | {"phone": "0987 654 321"})
    assert ok.status_code == 302
    db.session.rollback()
    assert db.session.get(Household, household.id).phone == "+84987654321"


def test_village_kind_typed_in_the_name_is_not_doubled_and_wards_default_to_to_dan_pho(client, users, geo):
    login(client, "leader.tanha")
    page = client.get(f"/units/{geo['tanha'].id}").get_data(as_text=True)
    assert '<option selected value="Tổ dân phố">' in page or 'value="Tổ dân phố" selected' in page
    token = csrf_token(client, f"/units/{geo['tanha'].id}")
    client.post(
        f"/units/{geo['tanha'].id}/villages", data={"csrf_token": token, "name": "Tổ dân phố 11", "kind": "Tổ dân phố"}
    )
    village = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.short_name == "11"))
    assert village.name == "Tổ dân phố 11"


def test_an_empty_village_can_be_deleted_but_not_one_with_households(client, users, geo):
    make_household(users["leader"], geo["tanha_v1"])
    used, empty, other = geo["tanha_v1"].id, geo["tanha_v2"].id, geo["minhkhuong_v1"].id
    login(client, "leader.tanha")
    token = csrf_token(client, f"/units/{geo['tanha'].id}")
    client.post(f"/villages/{used}/delete", data={"csrf_token": token})
    client.post(f"/villages/{empty}/delete", data={"csrf_token": token})
    db.session.expunge_all()
    assert db.session.get(AdminUnit, used) is not None
    assert db.session.get(AdminUnit, empty) is None
    assert client.post(f"/villages/{other}/delete", data={"csrf_token": token}).status_code == 404


def test_one_submit_shows_every_mistake_not_the_first_one_only(client, users, geo):
    login(client, "leader.tanha")
    page = _form(client, geo["tanha_v1"], village_id="", phone="0912345678").get_data(as_text=True)
    assert "Hãy chọn thôn." in page  # the form's own check
    assert "đồng ý" in page[page.index('id="phone"') :]  # and the phone kept without consent, in the same answer
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Household)) == 0
