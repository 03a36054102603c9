"""/healthz: the process answers. /readyz: the database answers, the schema is at the code's head, a
scheduler's heartbeat is fresh; otherwise 503 with each reason."""

from datetime import timedelta

import sqlalchemy as sa

from outreach.clock import utcnow
from outreach.extensions import db
from outreach.ops.health import migration_heads
from outreach.ops.heartbeat import record_heartbeat


def _beat(seconds_ago: float = 0) -> None:
    record_heartbeat("server-1:4242", now=utcnow() - timedelta(seconds=seconds_ago))
    db.session.commit()


def test_healthz_answers_without_the_database(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_ready_when_the_database_schema_and_scheduler_are(client):
    _beat()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "scheduler": "ok"},
        "reasons": [],
    }


def test_not_ready_without_a_scheduler(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["scheduler"] == "failed"
    assert "no scheduler has ever run" in response.json["reasons"][0]


def test_not_ready_when_the_heartbeat_is_stale(client, app):
    _beat(seconds_ago=app.config["SCHEDULER_STALE_S"] + 30)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "heartbeat is 90 s old" in response.json["reasons"][0]


def test_not_ready_when_a_migration_is_missing(client):
    _beat()
    (head,) = migration_heads()
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0004_reports'"))
    try:
        response = client.get("/readyz")
    finally:
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    assert response.status_code == 503
    assert response.json["checks"] == {"database": "ok", "migrations": "failed", "scheduler": "ok"}
    assert response.json["reasons"] == [
        f"database schema at 0004_reports, code expects {head}: run `flask --app outreach db upgrade`"
    ]
