import sys

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from outreach.auth import services
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.labels import role_label
from outreach.types import utcnow

users_cli = AppGroup("users", help="Create users and API tokens.")


def _fail(exc: ValidationError) -> None:
    for field, messages in exc.errors.items():
        for message in messages:
            click.echo(f"{field}: {message}" if field else str(message), err=True)
    db.session.rollback()
    sys.exit(2)


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "staff", "leader", "member"]), required=True)
@click.option("--unit", "unit_code", help="Code of the unit the user works in (dataset:code when ambiguous).")
@click.option("--full-name", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(username: str, role: str, unit_code: str | None, full_name: str, password_stdin: bool) -> None:
    """Create a user; the password comes from a prompt or standard input, never the command line."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt(_("Password"), hide_input=True, confirmation_prompt=True)
    try:
        unit = services.find_unit(unit_code) if unit_code else None
        user = services.create_user(
            None, username, role=role, unit=unit, password=password, full_name=full_name, now=utcnow()
        )
    except ValidationError as exc:
        _fail(exc)
    db.session.commit()
    where = user.scope_unit.name if user.scope_unit else _("whole country")
    click.echo(
        _(
            "Created %(name)s (%(role)s, %(unit)s).",
            name=user.username,
            role=role_label(user.role, user.scope_unit),
            unit=where,
        )
    )


@users_cli.command("token")
@click.argument("username")
@click.option("--label", default="cli")
def make_token(username: str, label: str) -> None:
    """Print a new API token for USERNAME (shown once; only its hash is stored)."""
    user = db.session.scalar(db.select(services.User).where(services.User.username == username))
    if user is None or not user.active:
        click.echo(_("No active user called “%(name)s”.", name=username), err=True)
        sys.exit(2)
    token = services.issue_token(user, label=label, now=utcnow())
    db.session.commit()
    click.echo(token)
