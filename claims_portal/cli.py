"""The ``claims-portal`` command: Flask's CLI for this app plus its own commands."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from claims_portal.extensions import db
from claims_portal.request_context import new_request_id


@click.group("audit")
def audit_group() -> None:
    """Inspect the audit trail."""


@audit_group.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Check every audit event's hash chain; exit 1 at the first broken link."""
    from claims_portal.audit.services import verify_chain

    report = verify_chain(db.session)
    if report.ok:
        click.echo(
            f"Audit trail intact: {report.checked} events checked; last hash {report.last_hash}."
        )
        return
    click.echo(
        f"Audit trail BROKEN at event {report.broken_event_id}: {report.problem}. "
        f"{report.checked} events before it are intact.",
        err=True,
    )
    sys.exit(1)


@click.command("demo")
@click.option("--no-migrate", is_flag=True, help="Do not upgrade the database first.")
@with_appcontext
def demo_command(no_migrate: bool) -> None:
    """Migrate the database and load the demo data (once; running it again adds nothing)."""
    from claims_portal.demo import DEMO_PASSWORD, load_demo_data

    if not no_migrate:
        from flask_migrate import upgrade

        upgrade()
    new_request_id("cli")
    summary = load_demo_data(db.session)
    db.session.commit()
    click.echo(summary.describe(DEMO_PASSWORD))


def register_commands(app: Flask) -> None:
    app.cli.add_command(audit_group)
    app.cli.add_command(demo_command)


def _create_app() -> Flask:
    from claims_portal import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """Manage the claims portal (run, migrate with `db`, load demo data, verify the audit)."""
