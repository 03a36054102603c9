"""On SQLite (what `make run` serves), a page that records who read it writes on GET: its transaction
takes the write lock from the start (BEGIN IMMEDIATE), so several people opening households at once
wait for each other instead of one of them getting "database is locked" (a 500)."""

import threading

import pytest
from sqlalchemy import event

from outreach.extensions import db
from tests.conftest import csrf_token, login, make_household


@pytest.fixture
def begins(app, is_postgres):
    if is_postgres:
        pytest.skip("SQLite's locking only (PostgreSQL readers and writers do not block each other)")
    seen: list[str] = []

    def on_execute(_conn, _cursor, statement, *_args):
        if statement.startswith("BEGIN"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", on_execute)
    yield seen
    event.remove(db.engine, "before_cursor_execute", on_execute)


def test_pages_that_record_reads_take_the_write_lock_others_do_not(client, users, geo, begins):
    url = f"/households/{make_household(users['leader'], geo['tanha_v1'], 'Nguyễn Văn An').id}"
    login(client, "leader.tanha")
    begins.clear()
    assert client.get(url).status_code == 200
    assert begins and set(begins) == {"BEGIN IMMEDIATE"}
    begins.clear()
    assert client.get("/households").status_code == 200
    assert set(begins) == {"BEGIN IMMEDIATE"}
    begins.clear()
    assert client.get("/campaigns").status_code == 200
    assert begins and set(begins) == {"BEGIN"}  # a page that only reads never waits


def test_many_people_opening_a_household_at_once_all_get_it(app, users, geo, is_postgres):
    if is_postgres:
        pytest.skip("SQLite's locking only")
    url = f"/households/{make_household(users['leader'], geo['tanha_v1'], 'Nguyễn Văn An').id}"
    clients = [app.test_client() for _ in range(6)]
    for c in clients:
        login(c, "leader.tanha")
        csrf_token(c, "/")
    answers: list[int] = []

    def open_it(c):
        for _ in range(5):
            answers.append(c.get(url).status_code)

    threads = [threading.Thread(target=open_it, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [200] * 30
