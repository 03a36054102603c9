import io

import pytest
import sqlalchemy as sa

from outreach.audit.models import AuditEvent, ImportBatch
from outreach.csvio import RowErrors
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.imports import import_households, import_villages
from outreach.geo.models import AdminUnit, Consent, Household, Level
from tests.conftest import NOW, csrf_token, login

GOOD_VI = (
    "\ufeffmã xã;thôn;họ tên chủ hộ;địa chỉ;số điện thoại;số nhân khẩu;đồng ý lưu sđt;đồng ý nhận sms\n"
    "02216;Thôn Phú Bình;Nguyễn Văn An;12 ngõ 5;0912 345 678;4;có;có\n"
    "02216;phu binh;Lê Thị Hoa;;;2;;\n"
    "02383;Nà Khà;Hoàng Văn Sơn;Bản trên;+84987654321;5;có;không\n"
)
GOOD_EN = (
    "commune_code,village,head_name,phone,members,consent_phone,consent_sms,latitude,longitude\n"
    "02216,Tân Hà,Tran Van Binh,84912000111,3,yes,yes,21.83,105.19\n"
)


def _file(text: str, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


def _count(model=Household) -> int:
    return db.session.scalar(sa.select(sa.func.count(model.id)))


def test_vietnamese_headers_semicolons_and_bom(geo):
    result = import_households(None, _file(GOOD_VI), "ho-gia-dinh.csv", now=NOW)
    db.session.commit()
    assert result.rows == 3 and _count() == 3
    an = db.session.scalar(sa.select(Household).where(Household.head_name == "Nguyễn Văn An"))
    assert an.phone == "+84912345678" and an.members == 4 and an.village_id == geo["tanha_v1"].id
    assert {c.purpose for c in an.consents} == {"store_phone", "receive_sms"}
    assert {c.method for c in an.consents} == {"paper_import"}
    son = db.session.scalar(sa.select(Household).where(Household.head_name == "Hoàng Văn Sơn"))
    assert [c.purpose for c in son.consents] == ["store_phone"]
    assert db.session.scalar(sa.select(AuditEvent.detail).where(AuditEvent.action == "households.import"))["rows"] == 3


def test_english_headers_and_commas(geo):
    import_households(None, _file(GOOD_EN), "households.csv", now=NOW)
    db.session.commit()
    household = db.session.scalar(sa.select(Household))
    assert (household.head_name, household.phone, household.lat, household.village_id) == (
        "Tran Van Binh",
        "+84912000111",
        21.83,
        geo["tanha_v2"].id,
    )


def test_every_bad_row_is_reported_and_nothing_is_imported(geo):
    bad = (
        "mã xã;thôn;họ tên chủ hộ;số điện thoại;số nhân khẩu;đồng ý lưu sđt\n"
        "02216;Phú Bình;Nguyễn Văn An;0912345678;4;có\n"  # good
        "02216;Phú Bình;;0912345679;4;có\n"  # line 3: no name
        "02216;Phú Bình;Lê Văn C;12345;2;có\n"  # line 4: bad phone
        "99999;Phú Bình;Lò Văn D;;2;\n"  # line 5: unknown commune
        "02216;Thôn Ma;Lò Văn E;;2;\n"  # line 6: unknown village
        "02216;Phú Bình;Lò Văn F;0912345670;hai;có\n"  # line 7: members not a number
        "02216;Phú Bình;Lò Văn G;0912345671;2;\n"  # line 8: phone without consent
        "02383;Nà Khà;Lò Văn H;;2;\n"  # good
    )
    with pytest.raises(ValidationError) as caught:
        import_households(None, _file(bad), "bad.csv", now=NOW)
    db.session.rollback()
    errors = caught.value.errors
    assert sorted(errors) == sorted(f"Dòng {n}" for n in (3, 4, 5, 6, 7, 8))
    assert "12345" in errors["Dòng 4"][0]
    assert "99999" in errors["Dòng 5"][0]
    assert "Thôn Ma" in errors["Dòng 6"][0]
    assert _count() == 0 and _count(Consent) == 0 and _count(ImportBatch) == 0


def test_every_problem_of_a_row_is_reported(geo):
    text = "mã xã;thôn;chủ hộ;sđt;số nhân khẩu;đồng ý lưu sđt\n02216;Phú Bình;;0123;abc;chắc vậy\n"
    with pytest.raises(ValidationError) as caught:
        import_households(None, _file(text), "x.csv", now=NOW)
    messages = " | ".join(caught.value.errors["Dòng 2"])
    assert len(caught.value.errors["Dòng 2"]) == 4, messages
    assert "abc" in messages and "0123" in messages and "chắc vậy" in messages and "chủ hộ" in messages


def test_bad_rows_after_many_good_ones_roll_back_everything(geo, monkeypatch):
    monkeypatch.setattr("outreach.geo.imports.households.CHUNK", 10)  # good rows were already written in chunks
    rows = "".join(f"02216;Phú Bình;Người {i};;1\n" for i in range(45))
    text = "mã xã;thôn;chủ hộ;sđt;số nhân khẩu\n" + rows + "02216;Phú Bình;Người cuối;;-3\n"
    with pytest.raises(ValidationError) as caught:
        import_households(None, _file(text), "chunks.csv", now=NOW)
    db.session.rollback()
    assert list(caught.value.errors) == ["Dòng 47"]
    assert _count() == 0


def test_the_same_file_twice_changes_nothing(geo):
    import_households(None, _file(GOOD_VI), "a.csv", now=NOW)
    db.session.commit()
    with pytest.raises(ValidationError) as caught:
        import_households(None, _file(GOOD_VI), "a-again.csv", now=NOW)
    db.session.rollback()
    assert "a.csv" in str(caught.value) and list(caught.value.errors) == [""]
    assert _count() == 3


def test_a_bad_byte_is_reported_on_its_line(geo):
    text = "mã xã;thôn;chủ hộ\n02216;Phú Bình;An\n".encode() + b"02216;Ph\xfa B\xecnh;Nguy\xean\n"
    with pytest.raises(ValidationError) as caught:
        import_households(None, io.BytesIO(text), "x.csv", now=NOW)
    assert list(caught.value.errors) == ["Dòng 3"] and "UTF-8" in str(caught.value)


def test_missing_required_column_names_it(geo):
    with pytest.raises(ValidationError) as caught:
        import_households(None, _file("mã xã;họ tên chủ hộ\n02216;A\n"), "x.csv", now=NOW)
    assert "thôn" in str(caught.value) and "Dòng 1" in caught.value.errors


def test_not_utf8_is_refused_with_advice(geo):
    with pytest.raises(ValidationError) as caught:
        import_households(None, io.BytesIO(b"ma xa;thon;chu ho\n02216;Ph\xfa B\xecnh;Nguy\xean\n"), "x.csv", now=NOW)
    assert "UTF-8" in str(caught.value)


def test_leader_import_is_limited_to_their_commune(users, geo):
    with pytest.raises(ValidationError) as caught:
        import_households(users["leader"], _file(GOOD_VI), "x.csv", now=NOW)
    db.session.rollback()
    assert list(caught.value.errors) == ["Dòng 4"]  # Minh Khương is not theirs
    assert _count() == 0


def test_upload_page_reports_rows_and_imports_nothing(client, users, geo):
    login(client, "leader.tanha")
    bad = "mã xã;thôn;chủ hộ;sđt\n02216;Phú Bình;An;0912345678\n02216;Phú Bình;;\n"
    response = client.post(
        "/imports",
        data={
            "csrf_token": csrf_token(client, "/imports"),
            "kind": "households",
            "file": (io.BytesIO(bad.encode()), "bad.csv"),
        },
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="import-errors"' in page and "Dòng 2" in page and "Dòng 3" in page
    assert _count() == 0
    good = "mã xã;thôn;chủ hộ\n02216;Phú Bình;An\n02216;Tân Hà;Bình\n"
    response = client.post(
        "/imports",
        data={
            "csrf_token": csrf_token(client, "/imports"),
            "kind": "households",
            "file": (io.BytesIO(good.encode("utf-8-sig")), "good.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and _count() == 2


def test_villages_import_is_idempotent(geo, runner, tmp_path):
    path = tmp_path / "thon.csv"
    path.write_text(
        "mã xã,tên thôn,loại,vĩ độ,kinh độ\n02216,Tổ 10,Tổ dân phố,21.83,105.19\n02216,Phú Bình,Thôn,21.84,105.20\n",
        encoding="utf-8-sig",
    )
    first = runner.invoke(args=["geo", "import-villages", str(path)])
    assert first.exit_code == 0, first.output
    assert "1" in first.output
    second = runner.invoke(args=["geo", "import-villages", str(path)])
    assert second.exit_code == 0, second.output
    villages = db.session.scalars(
        sa.select(AdminUnit).where(AdminUnit.parent_id == geo["tanha"].id, AdminUnit.level == Level.VILLAGE)
    ).all()
    assert sorted(v.name for v in villages) == ["Thôn Phú Bình", "Thôn Tân Hà", "Tổ dân phố Tổ 10"]
    phu_binh = next(v for v in villages if v.short_name == "Phú Bình")
    assert (phu_binh.lat, phu_binh.lon) == (21.84, 105.20)  # updated, not duplicated


def test_villages_import_refuses_points_outside_the_commune(geo):
    text = "mã xã,tên thôn,vĩ độ,kinh độ\n02216,Thôn Xa,10.5,106.6\n"
    with pytest.raises(ValidationError) as caught:
        import_villages(None, _file(text), "v.csv", now=NOW)
    assert list(caught.value.errors) == ["Dòng 2"]


def test_cli_households_import_reports_bad_rows(geo, runner, tmp_path):
    path = tmp_path / "ho.csv"
    path.write_text("mã xã;thôn;chủ hộ;sđt\n02216;Phú Bình;An;0912\n", encoding="utf-8")
    result = runner.invoke(args=["households", "import", str(path)])
    assert result.exit_code == 2
    assert "Dòng 2" in result.output and "0912" in result.output
    assert _count() == 0
    path.write_text("mã xã;thôn;chủ hộ;sđt;đồng ý lưu sđt\n02216;Phú Bình;An;0912345678;có\n", encoding="utf-8")
    ok = runner.invoke(args=["households", "import", str(path)])
    assert ok.exit_code == 0, ok.output
    assert _count() == 1


def _listed(errors: dict[str, list[str]]) -> int:
    return sum(len(messages) for where, messages in errors.items() if where)


def test_a_file_of_bad_rows_lists_the_first_problems_and_counts_the_rest(geo):
    rows = "".join(f"02216;Phú Bình;Người {i};12345;2;có\n" for i in range(300))  # every phone is wrong
    with pytest.raises(ValidationError) as caught:
        import_households(None, _file("mã xã;thôn;chủ hộ;sđt;số nhân khẩu;đồng ý lưu sđt\n" + rows), "x.csv", now=NOW)
    errors = caught.value.errors
    assert _listed(errors) == RowErrors.LIMIT == 50
    assert list(errors)[:2] == ["Dòng 2", "Dòng 3"] and "Dòng 52" not in errors
    assert errors[""] == ["…và 250 lỗi khác."]  # every line was checked: the count is exact


def test_checking_stops_past_the_listed_problems_and_says_how_much_is_left(geo, monkeypatch):
    monkeypatch.setattr(RowErrors, "CHECK_PAST", 100)
    rows = "".join(f"02216;Thôn Không Có {i};Người {i};;2\n" for i in range(1000))  # 1,000 unknown villages
    with pytest.raises(ValidationError) as caught:
        import_households(None, _file("mã xã;thôn;chủ hộ;sđt;số nhân khẩu\n" + rows), "x.csv", now=NOW)
    errors = caught.value.errors
    assert _listed(errors) == 50
    # The 50th problem is on line 51; 100 lines more are checked (52 to 151), and 850 are left.
    more, stopped = errors[""]
    assert more == "…và 100 lỗi khác."
    assert "151" in stopped and "850" in stopped
    db.session.rollback()
    assert _count() == 0 and _count(ImportBatch) == 0


def test_villages_import_stops_past_the_listed_problems_too(geo, monkeypatch):
    monkeypatch.setattr(RowErrors, "CHECK_PAST", 10)
    rows = "".join(f"99999,Thôn {i}\n" for i in range(200))
    with pytest.raises(ValidationError) as caught:
        import_villages(None, _file("mã xã,tên thôn\n" + rows), "v.csv", now=NOW)
    assert _listed(caught.value.errors) == 50 and "140" in caught.value.errors[""][1]


def _villages_of(commune) -> list[AdminUnit]:
    return list(
        db.session.scalars(
            sa.select(AdminUnit)
            .where(AdminUnit.parent_id == commune.id, AdminUnit.level == Level.VILLAGE)
            .order_by(AdminUnit.code)
        )
    )


def test_villages_import_in_bulk_lands_every_row_with_its_own_code(geo):
    rows = "".join(f"02216,Thôn Mới {n}\n" for n in range(300)) + "02216,Thôn Phú Bình\n02383,Nà Khà\n"
    result = import_villages(None, _file("mã xã,tên thôn\n" + rows), "v.csv", now=NOW)
    db.session.commit()
    assert (result.rows, result.created, result.updated) == (302, 300, 2)
    tanha = _villages_of(geo["tanha"])
    assert len(tanha) == 302  # the two villages of the fixture and 300 new ones, none twice
    codes = [v.code for v in tanha]
    assert len(set(codes)) == 302 and codes[-1] == "02216-302"
    new = next(v for v in tanha if v.short_name == "Mới 7")
    assert (new.name, new.path, new.kind) == ("Thôn Mới 7", f"{geo['tanha'].path}{new.code}/", "Thôn")
    again = import_villages(None, _file("mã xã,tên thôn\n" + rows), "v.csv", now=NOW)
    assert (again.created, again.updated) == (0, 302)


def test_villages_import_in_bulk_refuses_the_whole_file_for_one_bad_row(geo):
    rows = "".join(f"02216,Thôn Mới {n}\n" for n in range(500)) + "02216,Thôn Xa,10.5,106.6\n"
    with pytest.raises(ValidationError) as caught:
        import_villages(None, _file("mã xã,tên thôn,vĩ độ,kinh độ\n" + rows), "v.csv", now=NOW)
    assert list(caught.value.errors) == ["Dòng 502"]
    db.session.rollback()
    assert [v.short_name for v in _villages_of(geo["tanha"])] == ["Phú Bình", "Tân Hà"]


def test_a_village_named_twice_in_one_file_in_two_ways_is_one_village(geo):
    result = import_villages(
        None, _file("mã xã,tên thôn,loại\n02383,Thôn Khuổi,Thôn\n02383,Khuổi,Thôn\n"), "v.csv", now=NOW
    )
    assert (result.created, result.updated) == (1, 1)
    assert [v.short_name for v in _villages_of(geo["minhkhuong"])] == ["Nà Khà", "Khuổi"]
