import click
from flask.cli import AppGroup

from outreach.clock import utcnow
from outreach.extensions import db
from outreach.privacy.retention import KINDS, retention_days, run_retention

privacy_cli = AppGroup("privacy", help="Personal data: retention (Law 91/2025).")


@privacy_cli.command("retention")
@click.option("--dry-run", is_flag=True, help="Only say what would be anonymised; change nothing.")
def retention(dry_run: bool) -> None:
    """Anonymise personal data past its retention period (the scheduler does it every night)."""
    counts = run_retention(now=utcnow(), dry_run=dry_run)
    db.session.commit()  # the run is recorded in the audit log, dry or not
    days = retention_days()
    verb = "would anonymise" if dry_run else "anonymised"
    for kind in KINDS:
        if kind.name in counts:
            click.echo(f"{kind.name} (kept {days[kind.name]} days): {verb} {counts[kind.name]}")
        else:
            click.echo(f"{kind.name}: kept until deleted by hand (RETENTION_DAYS is 0)")
