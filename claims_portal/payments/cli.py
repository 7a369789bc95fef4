"""``claims-portal payments run`` and ``claims-portal payments answers``: the payment run's two
steps by hand, as the scheduler's ``payments.run`` and ``payments.answers`` take them (the
date and time from the app's clock; both safe to run again)."""

from __future__ import annotations

import datetime as dt

import click
from flask import current_app

from claims_portal import clock
from claims_portal.extensions import db
from claims_portal.hosts import public_base_url
from claims_portal.payments import bp
from claims_portal.payments.services import answers, run
from claims_portal.payments.transport import transport_for


@bp.cli.command("run")
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The working day whose run it is (default: today); its run resumes if unfinished.",
)
def run_command(day: dt.datetime | None) -> None:
    """The day's payment run (nothing on a weekend or bank holiday, or once it has run)."""
    outcome = run.run_payments(
        db.session,
        transport_for(current_app.config),
        run_date=day.date() if day is not None else clock.today(),
        now=clock.now(),
    )
    click.echo(outcome.summary())


@bp.cli.command("answers")
def answers_command() -> None:
    """Read the agency's answers now; send again or fail what is unanswered."""
    outcome = answers.read_answers(
        db.session,
        transport_for(current_app.config),
        clock.now(),
        base_url=public_base_url(),
        config=current_app.config,
    )
    click.echo(outcome.summary())
