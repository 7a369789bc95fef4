"""National quality services' commands.

- ``claims-portal national load-services [FILE...]``: load the national quality services the
  project ships (``national/data/*.json``), or the files named, into the catalogue
  (``services/catalogue.py``). Safe to run again: a version already loaded changes nothing,
  a newer one updates the service with every change audited.
- ``claims-portal national load-extract FILE --as EMAIL``: an achievement extract from a
  file on the server (an England-scale year-end export is larger than a browser upload may
  be), kept and checked by the same job as an upload, in that person's name; its progress,
  problems and the choice to load only the valid rows are on the usual pages.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from claims_portal import clock
from claims_portal.access.models import User
from claims_portal.claims.evidence.storage import store_from_config
from claims_portal.extensions import db
from claims_portal.hosts import public_base_url
from claims_portal.jobs import dispatch
from claims_portal.jobs.models import Job
from claims_portal.logs import as_job
from claims_portal.national.services import extracts
from claims_portal.national.services.catalogue import (
    CatalogueError,
    load_service_file,
    load_shipped_services,
    read_service_file,
)
from claims_portal.rules import RuleError

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


@national_group.command("load-extract")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--as",
    "email",
    required=True,
    help="The person loading it, who loads extracts at a national commissioner.",
)
@click.option("--service", "service_id", type=int, help="QOF open data: the service's id.")
@click.option(
    "--date",
    "achievement_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="QOF open data: the achievement date (YYYY-MM-DD).",
)
@as_job("national.load_extract_file")
def load_extract_command(
    file: Path, email: str, service_id: int | None, achievement_date: object
) -> None:
    """Keep FILE and start its check (and load) as a job, as an upload would."""
    person = db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    organisation = extracts.loading_organisation(person) if person is not None else None
    if person is None or organisation is None:
        raise click.ClickException(
            f"{email} does not load achievement extracts at a national commissioner"
        )
    day = achievement_date.date() if hasattr(achievement_date, "date") else None
    store = store_from_config(current_app.config)
    try:
        with file.open("rb") as stream:
            load = extracts.start_load(
                db.session, store, person, organisation, stream=stream, filename=file.name,
                choices=extracts.Choices(service_id, day), now=clock.now(),
            )  # fmt: skip
    except RuleError as refused:
        db.session.rollback()
        raise click.ClickException(str(refused)) from None
    finally:
        store.close()
    db.session.commit()
    try:
        where = f"{public_base_url()}/jobs/{load.job_id}"
    except RuntimeError:  # no public address configured
        where = f"/jobs/{load.job_id}"
    click.echo(f"{file.name}: load {load.id} is being checked by job {load.job_id} ({where})")
    if current_app.config.get("JOBS_RUN_IN_PROCESS"):  # no worker: the command runs it
        dispatch.run_committed(cast(Flask, current_app))
        job = db.session.get(Job, load.job_id)
        if job is not None:
            db.session.refresh(job)
            click.echo(f"{job.status.value}: {job.summary}")
