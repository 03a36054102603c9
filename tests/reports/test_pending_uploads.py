"""A statistics file between its two steps lives in the database: the second step works on another app
server (another ``create_app()`` with its own instance folder), only its owner reads it, it goes when
imported, cancelled or expired."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from config import TestConfig
from outreach import create_app
from outreach.auth.models import Role
from outreach.extensions import db
from outreach.reports.imports import KEPT_PER_PERSON, keep_upload, remove_expired
from outreach.reports.models import PendingUpload, SubmissionStat
from outreach.types import utcnow
from tests.conftest import NOW, IsolatedClient, csrf_token, login, make_user
from tests.reports.conftest import csv_file

ODD = "Nơi nhận,Kỳ,Cột A,Cột B\nUBND phường Tân Hà,09/2026,100,40\n"
COLUMNS = {"col_agency": "0", "col_period": "1", "col_total": "2", "col_online": "3"}


@pytest.fixture
def servers(app, tmp_path):
    """Two app servers on the same database, each with its own instance folder (nothing shared on disk)."""
    made = []
    for name in ("one", "two"):

        class ServerConfig(TestConfig):
            SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
            SECRET_KEY = app.config["SECRET_KEY"]  # every server has the same key (deploy/README.md)

        server = create_app(ServerConfig)
        server.instance_path = str(tmp_path / name)
        Path(server.instance_path).mkdir()
        server.test_client_class = IsolatedClient
        made.append(server)
    yield made
    for server in made:
        with server.app_context():
            db.session.remove()
            db.engine.dispose()


def _same_browser(first, second) -> None:
    """The second server's client carries the first one's cookies (one phone, nginx choosing the server)."""
    for name in ("session", "remember_token"):
        cookie = first.get_cookie(name)
        if cookie is not None:
            second.set_cookie(name, cookie.value)


def _upload(client, text: str = ODD, name: str = "la.csv"):
    return client.post(
        "/reports/imports",
        data={"csrf_token": csrf_token(client, "/reports/imports"), "file": (csv_file(text), name)},
        content_type="multipart/form-data",
    )


def _token(html: str) -> str:
    return re.search(r'name="upload"[^>]*value="([^"]+)"', html).group(1)


def _second_step(client, token: str, geo, **extra):
    return client.post(
        "/reports/imports",
        data={
            "csrf_token": csrf_token(client, "/reports/imports"),
            "upload": token,
            "filename": "la.csv",
            "province": str(geo["province"].id),
            **COLUMNS,
            **extra,
        },
    )


def test_upload_on_one_server_and_choose_columns_on_another(servers, geo, province_staff):
    one, two = (server.test_client() for server in servers)
    login(one, "staff.province")
    html = _upload(one).get_data(as_text=True)
    assert 'id="mapping"' in html
    token = _token(html)
    db.session.rollback()
    kept = db.session.get(PendingUpload, token)
    assert kept.owner_id == province_staff.id and kept.size == len(ODD.encode()) and kept.filename == "la.csv"
    assert kept.expires_at - kept.created_at == timedelta(hours=24)

    _same_browser(one, two)
    response = _second_step(two, token, geo)
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    db.session.rollback()
    stat = db.session.scalar(sa.select(SubmissionStat))
    assert (stat.total, stat.online) == (100, 40)
    assert db.session.get(PendingUpload, token) is None  # gone with the import, in its transaction
    for server in servers:  # nothing was written to either server's disk
        assert list(Path(server.instance_path).iterdir()) == []

    # Sent again (a double tap): told the file is gone, nothing imported twice.
    response = _second_step(two, token, geo)
    assert response.status_code == 302
    page = two.get("/reports/imports").get_data(as_text=True)
    assert "Tệp đã tải lên không còn" in page
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SubmissionStat)) == 1


def test_a_failed_second_step_keeps_the_file_for_another_try(client, geo, province_staff):
    login(client, "staff.province")
    token = _token(_upload(client).get_data(as_text=True))
    response = _second_step(client, token, geo, col_total="1")  # the period as the total: refused
    assert response.status_code == 400
    assert 'id="mapping"' in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(PendingUpload, token) is not None
    assert _second_step(client, token, geo).status_code == 200
    db.session.rollback()
    assert db.session.get(PendingUpload, token) is None


def test_another_person_cannot_read_or_import_it(client, geo, province_staff):
    make_user("staff.province2", Role.STAFF, geo["province"])
    login(client, "staff.province")
    token = _token(_upload(client).get_data(as_text=True))
    other = client.application.test_client()
    login(other, "staff.province2")
    assert _second_step(other, token, geo).status_code == 404
    assert _second_step(other, token, geo, cancel="y").status_code == 404
    db.session.rollback()
    assert db.session.get(PendingUpload, token) is not None  # still there for its owner
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SubmissionStat)) == 0


def test_cancel_removes_the_file(client, geo, province_staff):
    login(client, "staff.province")
    html = _upload(client).get_data(as_text=True)
    assert 'name="cancel"' in html
    token = _token(html)
    response = _second_step(client, token, geo, cancel="y")
    assert response.status_code == 302
    assert "la.csv" in client.get("/reports/imports").get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(PendingUpload, token) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SubmissionStat)) == 0


def test_an_expired_upload_is_refused_with_a_message_and_removed(client, geo, province_staff):
    login(client, "staff.province")
    token = _token(_upload(client).get_data(as_text=True))
    db.session.rollback()
    db.session.get(PendingUpload, token).expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = _second_step(client, token, geo)
    assert response.status_code == 302
    page = client.get("/reports/imports").get_data(as_text=True)
    assert "đã hết hạn" in page
    db.session.rollback()
    assert db.session.get(PendingUpload, token) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SubmissionStat)) == 0


def test_the_scheduler_job_removes_expired_uploads_and_a_person_keeps_only_a_few(app, geo, province_staff):
    for n in range(KEPT_PER_PERSON + 2):
        keep_upload(
            province_staff, csv_file(ODD), f"{n}.csv", now=NOW + timedelta(minutes=n), lifetime=timedelta(hours=1),
            limit=2**20,
        )  # fmt: skip
    db.session.commit()
    left = set(db.session.scalars(sa.select(PendingUpload.filename)))
    assert left == {f"{n}.csv" for n in range(2, KEPT_PER_PERSON + 2)}  # the newest five
    assert remove_expired(now=NOW + timedelta(hours=1, minutes=3)) == 2  # expired at 1:02 and 1:03
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingUpload)) == KEPT_PER_PERSON - 2


def test_a_file_over_the_limit_is_not_kept(app, geo, province_staff):
    from outreach.errors import ValidationError

    with pytest.raises(ValidationError):
        keep_upload(province_staff, csv_file(ODD), "big.csv", now=NOW, lifetime=timedelta(hours=1), limit=10)
