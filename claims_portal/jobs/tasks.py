"""The jobs workers run: email delivery, the outbox sweep, the daily email, and the nightly
work (the evidence sweep, the audit trail's check with a new anchor), each reading its work
from the database and safe to run twice."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from typing import Any

import click
from flask import current_app

from claims_portal import clock
from claims_portal.extensions import db
from claims_portal.hosts import public_base_url
from claims_portal.jobs import services as jobs
from claims_portal.jobs.registry import JobContext, job
from claims_portal.mail import services as mail


@job(mail.DELIVER_JOB, enabled_by="MAIL_SEND_IMMEDIATELY")
def deliver_email(context: JobContext, ids: list[int]) -> str:
    """Deliver the outbox rows ``ids`` that are still due (a row already sent, or held by
    another delivery, is left alone): marked SENDING and committed before the SMTP
    exchange, SENT after it."""
    report = mail.deliver(
        db.session, context.config, ids=ids, commit=db.session.commit, holder=context.task_id
    )
    db.session.commit()
    sent, retrying, gave_up = len(report.sent), len(report.retrying), len(report.gave_up)
    return f"sent {sent}, retrying {retrying}, gave up {gave_up}"


@job("mail.sweep-outbox", scheduled=True)
def sweep_outbox(context: JobContext) -> str:
    """Hand every message due (queued, or left SENDING past its lease) to ``mail.deliver``:
    a message whose job was lost, or whose worker died, is delivered by the next sweep."""
    ids = mail.due_for_delivery(db.session, context.config)
    if ids:
        jobs.enqueue_ids(db.session, mail.DELIVER_JOB, ids)
    db.session.commit()  # handed to the queue after this commit (jobs.dispatch)
    return f"{len(ids)} message(s) handed to mail.deliver"


@job(mail.digests.DIGEST_JOB, scheduled=True)
def send_daily_emails(context: JobContext) -> str:
    """One email to each person listing what was gathered for their daily email (claims
    waiting for their approval, for those who chose one email a day), the items marked
    with it in the same commit: a run again sends nothing twice (``mail.services.digests``).
    Links start with ``PUBLIC_BASE_URL``."""
    ids = mail.send_daily_emails(db.session, base_url=public_base_url())
    db.session.commit()  # handed to mail.deliver after this commit (jobs.dispatch)
    return f"{len(ids)} daily email(s) queued"


@job("jobs.sweep", scheduled=True)
def sweep_jobs(context: JobContext) -> str:
    """Hand to the workers again every job a person started whose message seems lost
    (``jobs.services.due_again``): a job reads its work from its row, so a second message
    does no harm, and a lost one only delays it."""
    config = context.config
    due = jobs.due_again(
        db.session,
        clock.now(),
        waiting=dt.timedelta(seconds=int(config["JOBS_RESEND_AFTER_SECONDS"])),
        running=dt.timedelta(seconds=2 * int(config["JOBS_VISIBILITY_TIMEOUT_SECONDS"])),
    )
    for job_row in due:
        jobs.enqueue(db.session, job_row.kind, job_id=job_row.id)
    db.session.commit()  # handed over after this commit (jobs.dispatch)
    return f"{len(due)} job(s) handed to the workers again"


@job("claims.sweep-evidence", scheduled=True)
def sweep_evidence(context: JobContext) -> str:
    """``claims-portal claims sweep-evidence``: evidence objects no claim refers to."""
    return _run_command(("claims", "sweep-evidence"))


@job("audit.verify", scheduled=True)
def verify_audit(context: JobContext) -> str:
    """``claims-portal audit anchor`` (seal, verify, record a new anchor) when
    ``AUDIT_ANCHOR_TARGET`` is set, else ``audit verify``."""
    anchoring = bool(context.config.get("AUDIT_ANCHOR_TARGET"))
    return _run_command(("audit", "anchor" if anchoring else "verify"))


def _run_command(path: tuple[str, ...], args: tuple[str, ...] = ()) -> str:
    """Run the app's CLI command ``path`` (``("audit", "verify")``, found through the app's
    CLI so that jobs import no command module) in this app context; its output is the
    run's detail. Raises ``SystemExit`` (with the output) when it exits non-zero."""
    command: click.Command = current_app.cli
    for name in path:
        assert isinstance(command, click.Group)
        found = command.commands.get(name)
        if found is None:
            raise LookupError(f"no command {' '.join(path)}")
        command = found
    output = io.StringIO()
    code: Any = 0
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        try:
            code = command.main(args=list(args), prog_name=" ".join(path), standalone_mode=False)
        except SystemExit as exc:
            code = exc.code
    if code not in (None, 0):
        raise SystemExit(output.getvalue().strip() or f"exit {code}")
    return output.getvalue().strip()
