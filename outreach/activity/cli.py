import click
from flask.cli import AppGroup

from outreach.activity.reminders import send_reminders
from outreach.clock import local_today, utcnow
from outreach.extensions import db

activity_cli = AppGroup("activity", help="Monthly activity reports.")


@activity_cli.command("remind")
def remind() -> None:
    """Remind who has not submitted the due month's report (the scheduler does it every morning)."""
    now = utcnow()
    notices, messages = send_reminders(today=local_today(now), now=now)
    db.session.commit()
    click.echo(f"{notices} reminders, {messages} SMS queued")
