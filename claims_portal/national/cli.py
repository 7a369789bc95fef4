"""``claims-portal national load-services [FILE...]``: load the national quality services the
project ships (``national/data/*.json``), or the files named, into the catalogue
(``services/catalogue.py``). Safe to run again: a version already loaded changes nothing,
a newer one updates the service with every change audited."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from claims_portal.extensions import db
from claims_portal.logs import as_job
from claims_portal.national.services.catalogue import (
    CatalogueError,
    load_service_file,
    load_shipped_services,
    read_service_file,
)

national_group = AppGroup("national", help="National quality services.")


@national_group.command("load-services")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@as_job("national.load_services")
def load_services_command(files: tuple[Path, ...]) -> None:
    """Load the shipped service files (or FILES): create or update each service by code and
    year; all are checked first, and one bad file loads nothing."""
    try:
        if files:
            for path in files:
                read_service_file(path)  # every file checked before any is loaded
            results = [load_service_file(db.session, path, actor=None) for path in files]
        else:
            results = load_shipped_services(db.session)
    except CatalogueError as refused:
        db.session.rollback()
        click.echo("Nothing was loaded:", err=True)
        for message in refused.messages:
            click.echo(f"  {message}", err=True)
        raise SystemExit(1) from None
    db.session.commit()
    for result in results:
        service = result.service
        detail = f", {result.changes} changes" if result.outcome == "updated" else ""
        click.echo(
            f"{service.code} {service.year_label} ({service.data_version}): "
            f"{result.outcome}{detail}"
        )
