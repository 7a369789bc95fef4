"""The ``claims-portal`` command: Flask's CLI for this app plus its own commands."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, NoReturn

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from claims_portal.extensions import db
from claims_portal.logs import as_job
from claims_portal.national.cli import national_group
from claims_portal.organisations.cli import organisations_group
from claims_portal.payments.stand_in_agency import stand_in_agency_command
from claims_portal.request_context import new_request_id

if TYPE_CHECKING:
    from claims_portal.audit.services import ChainReport


@click.group("audit")
def audit_group() -> None:
    """Inspect the audit trail."""


@audit_group.command("seal")
@with_appcontext
@as_job("audit.seal")
def audit_seal() -> None:
    """Chain the committed audit events that have no seal yet (those of CLI commands, of a
    request whose own seal failed); safe to run at any time, by a scheduler."""
    from claims_portal.audit.services import seal_and_commit

    count = seal_and_commit(db.session)
    click.echo(f"Sealed {count} audit event{'' if count == 1 else 's'}.")


@audit_group.command("verify")
@with_appcontext
@as_job("audit.verify")
def audit_verify() -> None:
    """Seal what is left, then check every seal's hash and link against its event, the
    chain against its anchors (AUDIT_ANCHOR_TARGET), and that no event is left unsealed;
    exit 1 at the first broken link or missing event."""
    from claims_portal.audit.services import seal_and_commit, verify_chain
    from claims_portal.audit.services.anchors import AnchorError, anchor_target_from_config

    try:
        target = anchor_target_from_config(current_app.config)
        anchors = target.read() if target is not None else []
    except AnchorError as exc:
        click.echo(f"Audit trail NOT VERIFIED: {exc}.", err=True)
        sys.exit(1)
    seal_and_commit(db.session)
    report = verify_chain(db.session, anchors)
    if not report.ok:
        _report_broken(report)
    click.echo(
        f"Audit trail intact: {report.checked} events checked; last hash {report.last_hash}."
    )
    if target is None:
        click.echo(
            "No anchors to check (AUDIT_ANCHOR_TARGET is unset): the newest events could be "
            "removed unnoticed; see docs/operations.md."
        )
    else:
        target.close()
        plural = "" if report.anchors_checked == 1 else "s"
        click.echo(f"{report.anchors_checked} anchor{plural} checked ({target!r}).")


@audit_group.command("anchor")
@with_appcontext
@as_job("audit.anchor")
def audit_anchor() -> None:
    """Seal what is left, verify the trail, then record its newest seal's event id, hash and
    position outside the database (AUDIT_ANCHOR_TARGET), so that `audit verify` can tell if
    events are removed later."""
    from claims_portal import clock
    from claims_portal.audit.services import seal_and_commit, verify_chain
    from claims_portal.audit.services.anchors import Anchor, AnchorError, anchor_target_from_config

    try:
        target = anchor_target_from_config(current_app.config)
        if target is None:
            raise AnchorError("AUDIT_ANCHOR_TARGET is not set (a file path or s3://bucket/prefix)")
        seal_and_commit(db.session)
        report = verify_chain(db.session, target.read())
        if not report.ok:
            _report_broken(report, anchoring=True)
        if report.last_event_id is None or report.last_hash is None:
            click.echo("The audit trail holds no events yet: nothing anchored.")
            return
        anchor = Anchor(report.last_event_id, report.last_hash, report.checked, clock.now())
        where = target.record(anchor)
    except AnchorError as exc:
        click.echo(f"Audit trail NOT ANCHORED: {exc}.", err=True)
        sys.exit(1)
    target.close()
    click.echo(
        f"Anchored event {anchor.event_id} (hash {anchor.event_hash}, {anchor.count} events) "
        f"at {where}."
    )


def _report_broken(report: ChainReport, *, anchoring: bool = False) -> NoReturn:
    click.echo(
        f"Audit trail BROKEN at event {report.broken_event_id}: {report.problem}. "
        f"{report.checked} events before it are intact."
        + (" Nothing anchored." if anchoring else ""),
        err=True,
    )
    sys.exit(1)


@click.command("grant-app-role")
@click.argument("role")
@click.option("--dry-run", is_flag=True, help="Print the statements without running them.")
@with_appcontext
def grant_app_role_command(role: str, dry_run: bool) -> None:
    """Give ROLE exactly the application's privileges (run as the owner, after every
    `db upgrade`; idempotent). ROLE must already exist and own nothing."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from claims_portal.database_roles import RoleRefused, app_role_statements, grant_app_role

    url = current_app.config.get("MIGRATION_DATABASE_URL") or db.engine.url
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            if dry_run:
                statements = app_role_statements(connection, role)
            else:
                statements = grant_app_role(connection, role)
    except RoleRefused as exc:
        click.echo(f"Nothing granted: {exc}.", err=True)
        sys.exit(1)
    finally:
        engine.dispose()
    for statement in statements:
        click.echo(statement + ";")
    if not dry_run:
        click.echo(f"-- Granted: {role} now holds the application's privileges.")


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


@click.command("routes-doc")
@with_appcontext
def routes_doc_command() -> None:
    """Print docs/routes.md: every route, its methods and what it needs
    (`claims-portal routes-doc > docs/routes.md`)."""
    from claims_portal.routes import routes_table

    click.echo(routes_table(current_app), nl=False)


def register_commands(app: Flask) -> None:
    from flask_migrate.cli import db as migrate_group

    # Beside Flask-Migrate's own `db upgrade` (adding a command again replaces it).
    migrate_group.add_command(grant_app_role_command)
    app.cli.add_command(audit_group)
    app.cli.add_command(demo_command)
    app.cli.add_command(routes_doc_command)
    app.cli.add_command(national_group)
    app.cli.add_command(organisations_group)


def _create_app() -> Flask:
    from claims_portal import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """Manage the claims portal (run, migrate with `db`, load demo data, verify the audit)."""


# On the group itself, not the app: it starts without building the app (--folder and
# --s3-bucket need no settings) and reads the portal's settings only without them.
main.add_command(stand_in_agency_command)
