"""Guides belong to an area: who edits and sends which guide, short links that never change once they
went out, replaced guides that lead on, and public pages that load nothing from other sites."""

import pytest
import sqlalchemy as sa

from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.sms import services
from outreach.sms.guides_content import install_guides
from outreach.sms.models import Guide, SmsMessage
from tests.conftest import csrf_token, login
from tests.sms.conftest import DAY

STEPS = "1. Mở CH Play\n2. Tìm VNeID"


@pytest.fixture
def library(users):
    """The country's guide (shipped), one of Tân Hà and one of Minh Khương."""
    shipped = install_guides(now=DAY)[0]
    tanha = services.save_guide(
        users["leader"], services.GuideInput("tanha-dvc", "Dịch vụ công Tân Hà", STEPS), now=DAY
    )
    other = services.save_guide(users["leader_other"], services.GuideInput("mk-dvc", "Minh Khương", STEPS), now=DAY)
    db.session.commit()
    return {"shipped": shipped, "tanha": tanha, "other": other}


def _edit(client, guide: Guide, **fields):
    url = f"/guides/{guide.id}/edit"
    data = {"csrf_token": csrf_token(client, url), "code": guide.code, "title_vi": guide.title_vi, "body_vi": STEPS}
    return client.post(url, data=data | fields)


def test_a_guide_belongs_to_the_area_that_made_it(library, geo):
    assert library["shipped"].owner_unit_id is None  # shipped guides are the country's
    assert library["tanha"].owner_unit_id == geo["tanha"].id


def test_leaders_edit_their_own_areas_guides_only(client, library):
    login(client, "leader.tanha")
    page = client.get("/guides").get_data(as_text=True)
    assert f'href="/guides/{library["tanha"].id}/edit"' in page
    assert f'href="/guides/{library["shipped"].id}/edit"' not in page
    assert "Minh Khương" not in page  # another commune's guide is not even listed
    assert client.get(f"/guides/{library['shipped'].id}/edit").status_code == 403
    assert _edit(client, library["shipped"], title_vi="Đổi tên").status_code == 403
    assert client.get(f"/guides/{library['other'].id}/edit").status_code == 404
    assert _edit(client, library["tanha"], title_vi="Dịch vụ công").status_code == 302
    db.session.rollback()
    assert db.session.get(Guide, library["shipped"].id).title_vi != "Đổi tên"
    assert db.session.get(Guide, library["tanha"].id).title_vi == "Dịch vụ công"


def test_admins_edit_the_countrys_guides(client, library):
    login(client, "admin")
    assert _edit(client, library["shipped"], title_vi="Cài VNeID mức 1").status_code == 302
    db.session.rollback()
    assert db.session.get(Guide, library["shipped"].id).title_vi == "Cài VNeID mức 1"


def test_one_sends_the_countrys_guides_and_ones_own_areas(client, users, homes, library):
    login(client, "member.tanha")  # a member of a village sends their commune's guides too
    url = f"/households/{homes['sms'].id}/sms"
    page = client.get(url).get_data(as_text=True)
    assert f'value="{library["shipped"].id}"' in page and f'value="{library["tanha"].id}"' in page
    assert f'value="{library["other"].id}"' not in page
    data = {"csrf_token": csrf_token(client, url), "guide_id": library["other"].id, "template": "{link}"}
    assert client.post(url, data=data | {"action": "send"}).status_code == 200  # refused by the form
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(SmsMessage.id))) == 0
    assert client.get(f"/guides/{library['other'].id}/print").status_code == 404


def test_a_short_link_that_went_out_by_sms_never_changes(client, users, homes, library):
    guide = library["tanha"]
    services.queue_guide_sms(users["leader"], [homes["sms"].id], guide.id, "{link}", now=DAY)
    db.session.commit()
    login(client, "leader.tanha")
    response = _edit(client, guide, code="tanha-moi")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="code-error"' in page and "/g/tanha-dvc" in page
    db.session.rollback()
    assert db.session.get(Guide, guide.id).code == "tanha-dvc"


def test_a_printed_short_link_never_changes_but_an_unused_one_may(client, library):
    login(client, "leader.tanha")
    assert _edit(client, library["tanha"], code="tanha-dvc2").status_code == 302  # nobody has the link yet
    assert client.get(f"/guides/{library['tanha'].id}/print").status_code == 200
    db.session.rollback()
    assert db.session.get(Guide, library["tanha"].id).printed_at is not None
    assert _edit(client, library["tanha"], code="tanha-dvc3").status_code == 200
    db.session.rollback()
    assert db.session.get(Guide, library["tanha"].id).code == "tanha-dvc2"


def test_a_replaced_guides_link_leads_to_the_new_one(client, users, homes, library):
    old = library["tanha"]
    plan = services.queue_guide_sms(users["leader"], [homes["sms"].id], old.id, "{link}", now=DAY)
    new = services.save_guide(users["leader"], services.GuideInput("tanha-dvc-2026", "Mới", STEPS), now=DAY)
    db.session.commit()
    token = plan.messages[0].token
    login(client, "leader.tanha")
    assert _edit(client, old, replaced_by_id=new.id).status_code == 302
    # A loop is refused: the new guide cannot be replaced by the old one.
    response = _edit(client, new, replaced_by_id=old.id)
    assert response.status_code == 200 and 'id="replaced_by_id-error"' in response.get_data(as_text=True)

    response = client.get(f"/g/{old.code}?t={token}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/g/tanha-dvc-2026?t={token}")
    assert client.get(response.headers["Location"]).status_code == 200
    db.session.rollback()
    assert db.session.get(SmsMessage, plan.messages[0].id).opens == 1  # the message's open still counts
    assert db.session.get(Guide, new.id).opens == 1
    assert old.id not in [g.id for g in services.list_guides()]  # not kept offline, not offered to send


def test_images_from_other_sites_are_refused_by_name(users):
    body = "1. Mở ứng dụng\n\n![màn hình](https://i.imgur.com/abc.png)\n\n<img src='//cdn.example/x.png'>"
    with pytest.raises(ValidationError) as refused:
        services.save_guide(users["leader"], services.GuideInput("anh", "Ảnh", body), now=DAY)
    messages = " ".join(str(m) for m in refused.value.errors["body_vi"])
    assert "https://i.imgur.com/abc.png" in messages and "//cdn.example/x.png" in messages
    local = "1. Mở ứng dụng\n\n![màn hình](/static/img/icon.svg)"
    assert services.save_guide(users["leader"], services.GuideInput("anh", "Ảnh", local), now=DAY).id


def test_links_to_other_sites_are_shown_as_text_with_their_address(app):
    body = (
        "Vào [Cổng dịch vụ công](https://dichvucong.gov.vn/p/home.html), <https://vneid.gov.vn>, "
        "[hướng dẫn khác](/g/vneid2), [gọi tổng đài](tel:1900123456) "
        '<a href="http://evil.example/">bấm đây</a> ![x](https://tracker.example/p.gif)'
    )
    html = str(services.render_markdown(body))
    assert "Cổng dịch vụ công (https://dichvucong.gov.vn/p/home.html)" in html
    assert "https://vneid.gov.vn" in html and 'href="https://' not in html and 'href="http://' not in html
    assert 'href="/g/vneid2"' in html and 'href="tel:1900123456"' in html
    assert "bấm đây" in html and "tracker.example" not in html and "<img" not in html
    own = str(services.render_markdown("[trang](https://outreach.example.vn/g/dvc)"))
    assert 'href="https://outreach.example.vn/g/dvc"' in own  # this site's own address is not "elsewhere"


def test_a_guide_of_another_commune_cannot_be_sent(library, users, geo):
    from tests.conftest import make_household

    household = make_household(users["leader"], geo["tanha_v1"], phone="0912345678", consent_sms=True)
    with pytest.raises(ValidationError) as refused:
        services.queue_guide_sms(users["leader"], [household.id], library["other"].id, "{name} {link}", now=DAY)
    assert "guide_id" in refused.value.errors
    plan = services.queue_guide_sms(users["leader"], [household.id], library["tanha"].id, "{name} {link}", now=DAY)
    assert plan.recipients == 1
