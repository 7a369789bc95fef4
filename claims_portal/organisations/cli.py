"""``claims-portal organisations import-ods FILE...``: import organisations and PCN
memberships from Organisation Data Service files (the mapping CSV and ORD JSON records;
``services/ods.py``). Safe to run again: the same files change nothing."""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path

import click
from flask.cli import AppGroup

from claims_portal import clock
from claims_portal.extensions import db
from claims_portal.organisations.services import ods
from claims_portal.organisations.services.ods_files import OdsFileRefused

organisations_group = AppGroup("organisations", help="Organisations and their ODS data.")


@organisations_group.command("import-ods")
@click.argument(
    "files",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day the mapping CSV describes (default: today): memberships it changes end "
    "the day before and start on it.",
)
def import_ods_command(files: tuple[Path, ...], as_of: dt.datetime | None) -> None:
    """Import ODS files: organisations, parents, dates and PCN memberships."""
    try:
        record = ods.import_ods(
            db.session,
            [(path.name, path.read_bytes()) for path in files],
            as_of=as_of.date() if as_of is not None else clock.today(),
            run_by=f"claims-portal organisations import-ods ({getpass.getuser()})",
        )
    except OdsFileRefused as refused:
        db.session.rollback()
        click.echo("Nothing was imported:", err=True)
        for message in refused.messages:
            click.echo(f"  {message}", err=True)
        raise SystemExit(1) from None
    db.session.commit()
    click.echo(
        f"ODS import {record.id}: {record.records} records read; "
        f"{record.organisations_created} organisations created, "
        f"{record.organisations_changed} changed; memberships {record.memberships_added} "
        f"added, {record.memberships_ended} ended; {record.participations_ended} "
        f"participations ended; {record.changes_held} changes held"
    )
