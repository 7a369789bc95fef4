"""``claims-portal claims sweep-evidence``: delete stored evidence objects that no claim
refers to (left by a process that died between the store's put and the commit).

Run it from a scheduler (nightly). Only keys the portal generated are considered, objects
younger than the grace period are kept (an upload may be in progress), and keys are read
from ``claim_evidence`` before the store is listed. Anything else that ever keeps files in
the evidence store must add its keys to ``known_keys`` here.
"""

from __future__ import annotations

import sys
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from claims_portal.claims import bp
from claims_portal.claims.evidence import DEFAULT_GRACE, store_from_config, sweep_orphans
from claims_portal.claims.models import ClaimEvidence, QuarantinedEvidence
from claims_portal.claims.services.export_job import expire_exports
from claims_portal.db import utcnow
from claims_portal.extensions import db


@bp.cli.command("sweep-evidence")
@click.option(
    "--grace-hours",
    type=click.IntRange(min=1),
    default=int(DEFAULT_GRACE.total_seconds() // 3600),
    show_default=True,
    help="Keep objects younger than this, with or without a row.",
)
@with_appcontext
def sweep_evidence(grace_hours: int) -> None:
    """Delete evidence objects without a claim_evidence (or quarantined_evidence) row, and
    export files older than EXPORT_KEEP_DAYS; exit 1 if a delete failed."""
    known = set(db.session.scalars(select(ClaimEvidence.key)))
    known |= set(db.session.scalars(select(QuarantinedEvidence.key)))
    store = store_from_config(current_app.config)
    try:
        report = sweep_orphans(store, known, timedelta(hours=grace_hours), utcnow())
        keep = timedelta(days=current_app.config["EXPORT_KEEP_DAYS"])
        expired = expire_exports(db.session, store, keep=keep, now=utcnow())
        db.session.commit()
    finally:
        store.close()
    click.echo(
        f"Evidence sweep: {len(report.deleted)} orphan(s) deleted, {report.kept} kept, "
        f"{report.too_recent} too recent, {report.ignored} not ours, "
        f"{len(report.failed)} failed."
    )
    click.echo(
        f"Export files: {len(expired.deleted)} expired and deleted, {expired.kept} kept, "
        f"{len(expired.failed)} failed."
    )
    if report.failed or expired.failed:
        sys.exit(1)
