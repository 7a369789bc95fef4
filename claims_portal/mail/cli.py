"""``claims-portal mail send-queued``: deliver queued email, report what could not be sent."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from claims_portal.extensions import db
from claims_portal.logs import as_job, without_email_addresses


@click.group("mail")
def mail_group() -> None:
    """Send queued email."""


@mail_group.command("send-queued")
@click.option(
    "--retry-failed", is_flag=True, help="Also retry messages that had used up their attempts."
)
@with_appcontext
@as_job("mail.send-queued")
def send_queued(retry_failed: bool) -> None:
    """Deliver every queued message; exit 1 if any has now failed for good."""
    from claims_portal.mail.models import EmailMessage, EmailStatus
    from claims_portal.mail.services import deliver, requeue_failed

    if retry_failed:
        click.echo(f"{requeue_failed(db.session)} failed messages queued again.")
    report = deliver(db.session, current_app.config, commit=db.session.commit)
    db.session.commit()
    click.echo(
        f"Sent {len(report.sent)}; {len(report.retrying)} failed and stay queued; "
        f"{len(report.gave_up)} failed for the last time."
    )
    failed = db.session.scalars(
        select(EmailMessage).where(EmailMessage.status == EmailStatus.FAILED)
    ).all()
    if failed:
        click.echo(
            f"{len(failed)} messages could not be sent (retry with --retry-failed):", err=True
        )
        for message in failed:
            # Scheduled runs' output ends up in logs: the row and the person's id, no address.
            click.echo(
                f"  #{message.id} ({message.kind}, user {message.user_id}), "
                f"{message.attempts} attempts: {without_email_addresses(message.last_error or '')}",
                err=True,
            )
        sys.exit(1)
