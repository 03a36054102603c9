"""`flask --app outreach ops backup DIR` then `ops restore FILE` into another, empty database: every
row of every table comes back."""

import secrets

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from outreach.clock import utcnow
from outreach.extensions import db
from outreach.ops.heartbeat import record_heartbeat
from outreach.sms.models import SmsMessage
from tests.conftest import make_household


def _everything(engine: sa.Engine) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    tables = sorted(sa.inspect(engine).get_table_names())
    with engine.connect() as conn:
        return {
            name: sorted((tuple(row) for row in conn.execute(sa.text(f'SELECT * FROM "{name}"'))), key=repr)
            for name in tables
        }


@pytest.fixture
def empty_database(app, tmp_path):
    """A second database, empty: another PostgreSQL database beside the suite's, or a new SQLite file."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        yield str(url.set(database=str(tmp_path / "restored.db")))
        return
    name = f"{url.database}_restore"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_backup_then_restore_finds_every_row(app, runner, users, geo, tmp_path, empty_database):
    leader = users["leader"]
    for n in range(25):
        make_household(leader, geo["tanha_v1"], f"Hộ số {n}", phone=f"09123456{n:02d}", consent_sms=True)
    db.session.add(
        SmsMessage(
            commune_id=geo["tanha"].id, to_phone="+84912345600", body="Cài VNeID", encoding="UCS-2",
            token=secrets.token_hex(8), due_at=utcnow(),
        )
    )  # fmt: skip
    record_heartbeat("server-1:4242", now=utcnow())
    db.session.commit()

    result = runner.invoke(args=["ops", "backup", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    (backup,) = (tmp_path / "backups").iterdir()
    assert backup.name.startswith("outreach-") and str(backup) in result.output

    result = runner.invoke(args=["ops", "restore", str(backup), "--database-url", empty_database])
    assert result.exit_code == 0, result.output

    restored = sa.create_engine(empty_database)
    try:
        original, copy = _everything(db.engine), _everything(restored)
    finally:
        restored.dispose()
    assert copy == original
    assert len(copy["household"]) == 25 and len(copy["sms_message"]) == 1 and copy["alembic_version"]
    assert len(copy["user"]) == len(users)


def test_restore_refuses_a_database_that_is_not_empty(app, runner, geo, tmp_path):
    result = runner.invoke(args=["ops", "backup", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (backup,) = tmp_path.glob("outreach-*")
    result = runner.invoke(args=["ops", "restore", str(backup)])  # into the app's own database
    assert result.exit_code != 0
    assert "is not empty" in result.output
    assert db.session.scalar(sa.text("SELECT count(*) FROM admin_unit")) == len(geo)


def test_old_backups_are_pruned(app, runner, tmp_path):
    for stamp in ("20011101T000000Z", "20011102T000000Z", "20011103T000000Z"):
        (tmp_path / f"outreach-{stamp}.dump").write_bytes(b"old")
        (tmp_path / f"outreach-{stamp}.sqlite3").write_bytes(b"old")
    result = runner.invoke(args=["ops", "backup", str(tmp_path), "--keep", "2"])
    assert result.exit_code == 0, result.output
    left = sorted(p.name for p in tmp_path.iterdir())
    assert len(left) == 2 and left[0].startswith("outreach-20011103T000000Z")
