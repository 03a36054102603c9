import sqlalchemy as sa

from outreach.extensions import db
from outreach.geo.models import AdminUnit, Level
from outreach.geo.units import import_units


def _count(dataset: str, level: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(AdminUnit.dataset == dataset, AdminUnit.level == level))


def test_legacy_tuyen_quang_has_7_districts_and_137_communes(app):
    stats = import_units("legacy", "Tuyen Quang")
    db.session.commit()
    assert stats.created == {"province": 1, "district": 7, "commune": 137}
    assert (_count("legacy", "province"), _count("legacy", "district"), _count("legacy", "commune")) == (1, 7, 137)
    tanha = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.dataset == "legacy", AdminUnit.code == "02216"))
    assert tanha.name == "Phường Tân Hà" and tanha.kind == "Phường" and tanha.short_name == "Tân Hà"
    assert [a.name for a in tanha.ancestors()] == ["Tỉnh Tuyên Quang", "Thành phố Tuyên Quang"]
    assert tanha.path == "legacy/08/070/02216/"
    assert tanha.has_bounds and tanha.contains(tanha.lat, tanha.lon)


def test_rerun_updates_in_place_and_never_duplicates(app):
    import_units("legacy", "Tuyên Quang")
    db.session.commit()
    ids_before = set(db.session.scalars(sa.select(AdminUnit.id)))
    db.session.execute(sa.update(AdminUnit).where(AdminUnit.code == "02216").values(name="Phường Sai Tên"))
    db.session.commit()
    stats = import_units("legacy", "Tuyên Quang")
    db.session.commit()
    assert stats.total_created == 0
    assert stats.updated == {"province": 0, "district": 0, "commune": 1}
    assert set(db.session.scalars(sa.select(AdminUnit.id))) == ids_before
    assert db.session.scalar(sa.select(AdminUnit.name).where(AdminUnit.code == "02216")) == "Phường Tân Hà"


def test_both_datasets_live_side_by_side_with_colliding_codes(app):
    import_units("legacy", "Tuyên Quang")
    import_units("2025", "Tuyên Quang")
    db.session.commit()
    provinces = db.session.execute(
        sa.select(AdminUnit.dataset, AdminUnit.code).where(AdminUnit.level == Level.PROVINCE)
    ).all()
    assert sorted(provinces) == [("2025", "08"), ("legacy", "08")]
    assert _count("2025", "district") == 0
    communes_2025 = _count("2025", "commune")
    assert 100 <= communes_2025 <= 130  # Tuyên Quang and Hà Giang merged: 124 communes in 2025
    commune = db.session.scalar(
        sa.select(AdminUnit).where(AdminUnit.dataset == "2025", AdminUnit.level == Level.COMMUNE).limit(1)
    )
    assert commune.parent.level == Level.PROVINCE


def test_unknown_province_is_refused(app, runner):
    result = runner.invoke(args=["geo", "import-units", "--province", "Atlantis", "--dataset", "legacy"])
    assert result.exit_code == 2
    assert "Atlantis" in result.output
    assert db.session.scalar(sa.select(sa.func.count(AdminUnit.id))) == 0


def test_cli_import_units(app, runner):
    result = runner.invoke(args=["geo", "import-units", "--province", "Tuyên Quang", "--dataset", "legacy"])
    assert result.exit_code == 0, result.output
    assert "137" in result.output
    again = runner.invoke(args=["geo", "import-units", "--province", "Tuyên Quang", "--dataset", "legacy"])
    assert again.exit_code == 0 and "145" in again.output  # 1 + 7 + 137 unchanged
    assert _count("legacy", "commune") == 137


def test_whole_country_2025(app):
    stats = import_units("2025")
    db.session.commit()
    assert stats.created == {"province": 34, "district": 0, "commune": 3321}
