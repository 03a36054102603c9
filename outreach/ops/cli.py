from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from outreach.clock import utcnow
from outreach.ops.backup import BackupError, backup, prune, restore


@click.group("ops")
def ops_cli() -> None:
    """Running it: backups and restores."""


@ops_cli.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--keep", type=int, default=0, help="Then delete all but the KEEP newest backups there (0: keep all).")
@with_appcontext
def backup_command(directory: Path, keep: int) -> None:
    """Write a complete backup of the database into DIRECTORY (pg_dump's custom format on PostgreSQL)."""
    try:
        path = backup(current_app.config["SQLALCHEMY_DATABASE_URI"], directory, now=utcnow())
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{path} ({path.stat().st_size:,} bytes)")
    for old in prune(directory, keep):
        click.echo(f"removed {old}")


@ops_cli.command("restore")
@click.argument("backup_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--database-url", default=None, help="The empty database to restore into (default: DATABASE_URL, the app's)."
)
@with_appcontext
def restore_command(backup_file: Path, database_url: str | None) -> None:
    """Restore BACKUP_FILE into an empty database (create it first; a database with tables is refused)."""
    target = database_url or current_app.config["SQLALCHEMY_DATABASE_URI"]
    if target.startswith(("postgres://", "postgresql://")):
        target = "postgresql+psycopg://" + target.split("://", 1)[1]
    try:
        restore(backup_file, target)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"restored {backup_file}")
