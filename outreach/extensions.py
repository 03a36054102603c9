"""The extensions, created unbound and attached in ``create_app``."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from flask import current_app, has_app_context, has_request_context, request, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.orm import DeclarativeBase

if TYPE_CHECKING:
    from sqlalchemy import Table

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    if TYPE_CHECKING:
        # SQLAlchemy declares a FromClause (a model may map a join); every model here maps one table.
        __table__: ClassVar[Table]


db = SQLAlchemy(model_class=Base)

# The base of every model. At run time it is ``db.Model``: Flask-SQLAlchemy's copy of ``Base`` with
# its mixins (table names, binds, the query property). A type checker cannot take a base class from
# an attribute (python/mypy#8603), so it sees ``Base``, which declares the same mapping.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model


def rowcount(result: Result[Any]) -> int:
    """The rows a plain UPDATE or DELETE changed. ``Session.execute`` is typed to return a ``Result``;
    for such a statement it is a ``CursorResult``, and SQLAlchemy says to cast for its ``rowcount``."""
    return cast(CursorResult[Any], result).rowcount


migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def select_locale() -> str | None:
    """The language the user chose with the switch (or ``?lang=``), else Vietnamese."""
    if not has_request_context():
        return None  # CLI and jobs speak the default language
    chosen = request.args.get("lang") or session.get("lang")
    return chosen if chosen in ("vi", "en") else "vi"


babel = Babel()


def configure_sqlite(engine: Engine) -> None:
    """Make SQLite behave like PostgreSQL where it matters: enforced foreign keys, a real BEGIN so
    that savepoints nest inside the request's transaction (pysqlite otherwise commits them), and
    write-ahead logging so that readers and the writer do not wait for each other.

    Two writers at once (two phones syncing) must wait for each other, not fail: a transaction
    that reads and then writes cannot wait for the lock once another writer has committed after
    its first read (SQLite answers "database is locked" at once). So a request that may write
    (POST, PUT, PATCH, DELETE) takes the write lock when its transaction begins (BEGIN IMMEDIATE)
    and waits up to ``SQLITE_BUSY_TIMEOUT_MS`` for it, and so does a page that records who read it
    (``records_reads``: it writes the audit event after reading); any other page (GET) begins as a
    plain reader and never waits, and so do commands and jobs, which run one at a time."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
        # Readers never block the writer (one open request must not lock out the next one).
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        timeout = current_app.config.get("SQLITE_BUSY_TIMEOUT_MS", 15000) if has_app_context() else 15000
        dbapi_connection.execute(f"PRAGMA busy_timeout={int(timeout)}")

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        writing = has_request_context() and (
            request.method in ("POST", "PUT", "PATCH", "DELETE")
            or getattr(current_app.view_functions.get(request.endpoint or ""), "records_reads", False)
        )
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


F = TypeVar("F", bound=Callable[..., Any])


def records_reads(view: F) -> F:
    """Mark a view that writes on GET (it records who read whose data): on SQLite its transaction
    takes the write lock from the start, so two people opening pages at once wait, not fail."""
    view.records_reads = True  # type: ignore[attr-defined]
    return view


class ListPage:
    """One page of a list already in hand (sorted in Python), with the same names as Flask-SQLAlchemy's
    ``Pagination`` so that ``templates/_pager.html`` draws either. A page below 1 is the first; one past
    the last is empty."""

    def __init__(self, rows: list, page: int, per_page: int):
        self.total, self.per_page = len(rows), per_page
        self.page = max(1, page)
        self.pages = max(1, -(-self.total // per_page))
        self.items = rows[(self.page - 1) * per_page : self.page * per_page]
        self.has_prev, self.has_next = self.page > 1, self.page < self.pages
        self.prev_num, self.next_num = self.page - 1, self.page + 1

    def __iter__(self):
        return iter(self.items)
