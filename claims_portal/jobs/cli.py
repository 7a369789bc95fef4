"""``claims-portal worker``, ``claims-portal scheduler`` and ``claims-portal jobs``."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

_PASS_ON = {"ignore_unknown_options": True, "allow_extra_args": True}


@click.command("worker", context_settings=_PASS_ON)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@with_appcontext
def worker_command(celery_args: tuple[str, ...]) -> None:
    """Run a worker for the portal's jobs (Celery; arguments after it go to `celery worker`,
    e.g. `--concurrency 4`). Needs the broker (CELERY_BROKER_URL or REDIS_URL)."""
    _needs_broker()
    celery = current_app.extensions["celery"]
    # Quiet: no start-up banner, so that every line on standard output is a log line (JSON).
    celery.worker_main(["--quiet", "worker", "--loglevel=INFO", *celery_args])


@click.command("scheduler", context_settings=_PASS_ON)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@with_appcontext
def scheduler_command(celery_args: tuple[str, ...]) -> None:
    """Run the scheduler (Celery beat, Europe/London) sending JOBS_SCHEDULE's jobs to the
    workers. A second one started by mistake does no harm: each run happens once."""
    _needs_broker()
    celery = current_app.extensions["celery"]
    state = Path(current_app.instance_path) / "celerybeat-schedule"
    state.parent.mkdir(parents=True, exist_ok=True)
    celery.start(["--quiet", "beat", "--loglevel=INFO", f"--schedule={state}", *celery_args])


def _needs_broker() -> None:
    from claims_portal.jobs.celery_app import broker_url

    if not broker_url(current_app.config):
        click.echo("Set CELERY_BROKER_URL or REDIS_URL (redis://127.0.0.1:6379/0).", err=True)
        sys.exit(2)


@click.group("jobs")
def jobs_group() -> None:
    """The scheduled jobs and their runs."""


@jobs_group.command("run")
@click.argument("kind")
@with_appcontext
def run_command(kind: str) -> None:
    """Run the scheduled job KIND now, in this process (recorded as a run)."""
    from claims_portal import clock
    from claims_portal.jobs.registry import JOBS, execute

    scheduled = sorted(name for name, spec in JOBS.items() if spec.scheduled)
    if kind not in scheduled:
        click.echo(f"{kind} is not a scheduled job: {', '.join(scheduled)}", err=True)
        sys.exit(2)
    outcome = execute(
        kind,
        {"scheduled_for": clock.now().isoformat()},
        f"cli-{uuid.uuid4()}",
        current_app.config,
    )
    click.echo(f"{kind}: {outcome}")
    if outcome == "failed":
        sys.exit(1)


@jobs_group.command("runs")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@with_appcontext
def runs_command(limit: int) -> None:
    """List the latest runs of scheduled jobs."""
    from claims_portal.extensions import db
    from claims_portal.formatting import time_and_day
    from claims_portal.jobs.services import recent_runs

    for run in recent_runs(db.session, limit):
        finished = time_and_day(run.finished_at) if run.finished_at else "-"
        click.echo(
            f"{run.id}\t{run.kind}\t{time_and_day(run.scheduled_for)}\t{run.outcome.value}"
            f"\t{finished}"
        )


def register_commands(app: Flask) -> None:
    app.cli.add_command(worker_command)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(jobs_group)
