import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.crosswalk import CrosswalkStats, import_crosswalk
from outreach.geo.imports import ImportResult, import_households, import_villages
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
    if dataset == "2025":
        # Old names and codes in files from before the reform find these communes through it.
        _echo_crosswalk(import_crosswalk(province))
        db.session.commit()


@geo_cli.command("import-crosswalk")
@click.option("--province", help="Only this 2025 province (name without diacritics is fine, or its code).")
def import_crosswalk_command(province: str | None) -> None:
    """Load the communes before 1/7/2025 and the 2025 communes they went to (vietnamadminunits)."""
    try:
        stats = import_crosswalk(province)
    except ValidationError as exc:
        refuse_import(exc)
    db.session.commit()
    _echo_crosswalk(stats)


def _echo_crosswalk(stats: CrosswalkStats) -> None:
    click.echo(
        _(
            "Former communes (before 1/7/2025): %(created)s created, %(updated)s updated, %(unchanged)s unchanged; "
            "%(merged)s went whole into one commune, %(split)s were split between several.",
            created=stats.created,
            updated=stats.updated,
            unchanged=stats.unchanged,
            merged=stats.merged,
            split=stats.split,
        )
    )
    if stats.missing:
        click.echo(
            _(
                "%(n)s former communes skipped: the 2025 commune they went to is not loaded.",
                n=stats.missing,
            ),
            err=True,
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
    _echo_mapped(result)


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
    _echo_mapped(result)


def _echo_mapped(result: ImportResult) -> None:
    """Say which communes were written as before 1/7/2025 and where their rows went."""
    for m in result.mapped:
        click.echo(
            _(
                "“%(written)s” (%(former)s, %(district)s, former) → %(unit)s: %(n)s rows",
                written=m.written,
                former=m.former.name,
                district=m.former.district_name,
                unit=m.unit.name,
                n=m.rows,
            )
        )
        if m.split:
            click.echo(
                "  "
                + _(
                    "This commune was split between %(units)s: its rows went to %(unit)s; "
                    "move any that belong to another.",
                    units=", ".join(u.name for u in m.former.successors),
                    unit=m.unit.name,
                )
            )
