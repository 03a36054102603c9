import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from flask_babel import gettext as _

from outreach.demo.seed import PASSWORD, is_empty, seed_demo
from outreach.extensions import db
from outreach.types import utcnow

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when the database already has users.")
@click.option(
    "--dataset",
    type=click.Choice(["2025", "legacy"]),
    default="2025",
    show_default=True,
    help="2025: the province since 1/7/2025 (communes straight under it); legacy: the units before it, with districts.",
)
def seed(if_empty: bool, dataset: str) -> None:
    """Build the Tuyên Quang demo (real units, invented villages, households and users)."""
    if not is_empty():
        if if_empty:
            click.echo(_("The database already has data; the demo was not added."))
            return
        click.echo(_("The database already has users: the demo only goes into an empty database."), err=True)
        sys.exit(2)
    summary = seed_demo(now=utcnow(), dataset=dataset)
    db.session.commit()
    # Thousands of rows just loaded: give the planner its statistics now (SQLite and PostgreSQL alike),
    # rather than serving the first maps and reports on "one row" guesses until autovacuum runs.
    with db.engine.begin() as conn:  # ANALYZE may run in a transaction (VACUUM may not)
        conn.execute(sa.text("ANALYZE"))
    if summary.dataset == "legacy":
        shape = f"units before 1/7/2025, {summary.districts} districts, {summary.communes} communes"
    else:
        shape = f"since 1/7/2025, {summary.communes} communes and wards, no districts"
    click.echo(f"Demo: Tuyên Quang ({shape}), {summary.villages} villages, {summary.households} households.")
    click.echo(f"Logins (password for all: {PASSWORD}):")
    for username, role, unit in summary.users:
        click.echo(f"  {username:<22} {role:<7} {unit}")
