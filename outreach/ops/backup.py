"""Backups of the whole database, and their restore into an empty one.

PostgreSQL: ``pg_dump`` in its custom format (compressed; ``pg_restore`` reads it, table by table),
without owners or grants, so it restores under any role. SQLite: a consistent copy made by SQLite's
own backup API while the app runs. The file is written under a temporary name and renamed when
complete, so a backup that was interrupted is never mistaken for one that finished. Everything the app
keeps is in the database; nothing else needs saving.

The password never appears on a command line (``ps`` would show it): it goes to the tools in
``PGPASSWORD``."""

import os
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

PREFIX = "outreach-"
SUFFIXES = {"postgresql": ".dump", "sqlite": ".sqlite3"}


class BackupError(RuntimeError):
    pass


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and the environment that carries it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise BackupError(f"{command[0]} is not installed (Debian: apt-get install postgresql-client)") from exc
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


def backup_name(dialect: str, now: datetime) -> str:
    return f"{PREFIX}{now.strftime('%Y%m%dT%H%M%SZ')}{SUFFIXES[dialect]}"


def backup(database_url: str, directory: Path, *, now: datetime) -> Path:
    """Write one complete backup of the database into ``directory``; return its path."""
    url = make_url(database_url)
    dialect = url.get_backend_name()
    if dialect not in SUFFIXES:
        raise BackupError(f"no backup for {dialect} databases")
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / backup_name(dialect, now)
    partial = target.with_name(target.name + ".partial")
    try:
        if dialect == "postgresql":
            dsn, env = _libpq(url)
            _run(
                ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}", f"--dbname={dsn}"],
                env,
            )
        else:
            source = sqlite3.connect(url.database or "")
            try:
                copy = sqlite3.connect(partial)
                with copy:
                    source.backup(copy)
                copy.close()
            finally:
                source.close()
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest backups in ``directory`` (by name, which sorts by time)."""
    backups = sorted(p for p in directory.glob(f"{PREFIX}*") if p.suffix in SUFFIXES.values())
    removed = backups[:-keep] if keep > 0 else []
    for path in removed:
        path.unlink()
    return removed


def _tables(engine: sa.Engine) -> list[str]:
    return sa.inspect(engine).get_table_names()


def restore(backup_file: Path, database_url: str) -> None:
    """Restore ``backup_file`` into the database at ``database_url``, which must exist and be empty."""
    if not backup_file.is_file():
        raise BackupError(f"{backup_file} does not exist")
    url = make_url(database_url)
    dialect = url.get_backend_name()
    if dialect == "postgresql":
        engine = sa.create_engine(url)
        try:
            existing = _tables(engine)
        except sa.exc.OperationalError as exc:
            raise BackupError(f"cannot reach the database {url.database}: create it first ({exc.orig})") from exc
        finally:
            engine.dispose()
        if existing:
            raise BackupError(
                f"the database {url.database} is not empty ({len(existing)} tables): restore into a new, empty one"
            )
        dsn, env = _libpq(url)
        _run(
            ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
             f"--dbname={dsn}", str(backup_file)],
            env,
        )  # fmt: skip
    elif dialect == "sqlite":
        path = Path(url.database or "")
        if path.exists() and path.stat().st_size > 0:
            engine = sa.create_engine(url)
            try:
                existing = _tables(engine)
            finally:
                engine.dispose()
            if existing:
                raise BackupError(f"{path} is not empty ({len(existing)} tables): restore into a new file")
        source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
        try:
            target = sqlite3.connect(path)
            with target:
                source.backup(target)
            target.close()
        finally:
            source.close()
    else:
        raise BackupError(f"no restore for {dialect} databases")
