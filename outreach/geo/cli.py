import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.imports import import_households, import_villages
from outreach.geo.units import import_units
from outreach.labels import LEVEL_LABELS
from outreach.types import utcnow

geo_cli = AppGroup("geo", help="Administrative units and villages.")
households_cli = AppGroup("households", help="Household registry.")


def refuse_import(exc: ValidationError) -> None:
    """Say why a file was refused, line by line, roll back and exit 2 (shared by every import command)."""
    db.session.rollback()
    click.echo(_("Nothing was imported:"), err=True)
    for where, messages in exc.errors.items():
        for message in messages:
            click.echo(f"  {where}: {message}" if where else f"  {message}", err=True)
    sys.exit(2)


@geo_cli.command("import-units")
@click.option("--province", help="Only this province (name without diacritics is fine, or its code).")
@click.option("--dataset", type=click.Choice(["2025", "legacy"]), default="2025", show_default=True)
def import_units_command(province: str | None, dataset: str) -> None:
    """Load official units, names, codes, centroids and bounds from vietnamadminunits."""
    try:
        stats = import_units(dataset, province)
    except ValidationError as exc:
        refuse_import(exc)
    db.session.commit()
    created = ", ".join(f"{n} {LEVEL_LABELS[level]}" for level, n in stats.created.items() if n) or "0"
    updated = ", ".join(f"{n} {LEVEL_LABELS[level]}" for level, n in stats.updated.items() if n) or "0"
    click.echo(
        _(
            "Dataset %(dataset)s: created %(created)s; updated %(updated)s; unchanged %(unchanged)s.",
            dataset=dataset,
            created=created,
            updated=updated,
            unchanged=stats.unchanged,
        )
    )


@geo_cli.command("import-villages")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--dataset", type=click.Choice(["2025", "legacy"]), help="Dataset of the commune codes, when a code is in both."
)
def import_villages_command(path: Path, dataset: str | None) -> None:
    """Create or update villages from a CSV (commune code, name, kind, latitude, longitude)."""
    with path.open("rb") as stream:
        try:
            result = import_villages(None, stream, path.name, now=utcnow(), dataset=dataset)
        except ValidationError as exc:
            refuse_import(exc)
    db.session.commit()
    click.echo(
        _(
            "%(rows)s rows: %(created)s villages created, %(updated)s updated.",
            rows=result.rows,
            created=result.created,
            updated=result.updated,
        )
    )


@households_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--dataset", type=click.Choice(["2025", "legacy"]), help="Dataset of the commune codes, when a code is in both."
)
def import_households_command(path: Path, dataset: str | None) -> None:
    """Import households from a CSV; nothing is imported unless every row is good."""
    with path.open("rb") as stream:
        try:
            result = import_households(None, stream, path.name, now=utcnow(), dataset=dataset)
        except ValidationError as exc:
            refuse_import(exc)
    db.session.commit()
    click.echo(_("Imported %(n)s households from %(file)s.", n=result.created, file=path.name))
