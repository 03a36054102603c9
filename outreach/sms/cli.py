import click
from flask import current_app
from flask.cli import AppGroup

from outreach.clock import utcnow
from outreach.extensions import db
from outreach.sms.dispatcher import dispatch_all
from outreach.sms.gateway import gateway_from_config
from outreach.sms.guides_content import install_guides

sms_cli = AppGroup("sms", help="SMS outbox.")


@sms_cli.command("dispatch")
def dispatch() -> None:
    """Send every message that is due now, once (for cron, when the scheduler is not running)."""
    outcome = dispatch_all(gateway_from_config(current_app.config))
    summary = ", ".join(f"{status} {n}" for status, n in sorted(outcome.items())) or "nothing due"
    click.echo(f"SMS dispatch: {summary}")


@sms_cli.command("install-guides")
def install_guides_command() -> None:
    """Add the four shipped guides (VNeID level 1 and 2, the portal, fees) where their short links are free."""
    added = install_guides(now=utcnow())
    db.session.commit()
    click.echo(f"{len(added)} guides added: {', '.join('/g/' + g.code for g in added) or 'none'}")
