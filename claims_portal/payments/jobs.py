"""The payment run's scheduled jobs (``JOBS_SCHEDULE``, docs/operations.md):

- ``payments.run`` (daily at 15:00 England time): on a working day, the day's run
  (:func:`run.run_payments`); on a weekend or bank holiday, nothing;
- ``payments.answers`` (daily at 16:00): the agency's responses read, unanswered files sent
  again or failed (:func:`answers.read_answers`);
- ``payments.run-by-hand``: a run finance started for their ICB, with its job page.

Both read the date and time from ``claims_portal.clock`` and are safe to run twice: the
run's slot and each response's SHA-256 make the second a no-op.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from claims_portal import clock
from claims_portal.access.models import User
from claims_portal.claims.services.job_outcomes import tell_owner
from claims_portal.extensions import db
from claims_portal.hosts import public_base_url
from claims_portal.jobs import services as jobs
from claims_portal.jobs.models import Job
from claims_portal.jobs.registry import JobContext, job
from claims_portal.organisations.models import Organisation
from claims_portal.payments.models import PaymentFile, PaymentRun, PaymentRunKind
from claims_portal.payments.services import answers, by_hand, run
from claims_portal.payments.transport import transport_for

RUN_JOB = "payments.run"
ANSWERS_JOB = "payments.answers"


@job(RUN_JOB, scheduled=True)
def payment_run(context: JobContext) -> str:
    outcome = run.run_payments(
        db.session,
        transport_for(current_app.config),
        run_date=clock.today(),
        now=clock.now(),
    )
    return outcome.summary()


@job(ANSWERS_JOB, scheduled=True)
def payment_answers(context: JobContext) -> str:
    outcome = answers.read_answers(
        db.session,
        transport_for(current_app.config),
        clock.now(),
        base_url=public_base_url(),
        config=current_app.config,
    )
    return outcome.summary()


@job(by_hand.RUN_BY_HAND_JOB)
def payment_run_by_hand(context: JobContext, job_id: int) -> str:
    """A run finance started (``by_hand.start_run_by_hand``): the run, then its owner told."""
    taken = jobs.take_job(db.session, job_id, clock.now())
    if taken is None:
        db.session.commit()
        return "nothing left to do"
    job_row, _ = taken
    db.session.commit()  # the page says it has started
    paid_run = db.session.get(PaymentRun, job_row.params["run_id"])
    assert paid_run is not None
    icb = db.session.get(Organisation, paid_run.icb_id)
    owner = db.session.get(User, job_row.owner_id)
    try:
        outcome = run.run_payments(
            db.session,
            transport_for(current_app.config),
            run_date=paid_run.run_date,
            now=clock.now(),
            kind=PaymentRunKind.BY_HAND,
            icb=icb,
            by=owner,
            slot=paid_run.slot,
        )
        succeeded, summary = True, _summary(outcome)
        _record_files(job_id, outcome)
    except Exception:
        db.session.rollback()
        succeeded, summary = False, "Stopped by an error: files written so far will be sent"
        raise
    finally:
        ended = db.session.get(Job, job_id)
        assert ended is not None
        if not ended.ended:
            jobs.end_job(db.session, ended, succeeded=succeeded, summary=summary, now=clock.now())
            tell_owner(ended, summary, public_base_url())
            db.session.commit()
    return summary


def _record_files(job_id: int, outcome: run.RunOutcome) -> None:
    """The job's page lists the files the run sent, each linking to its page."""
    job_row = db.session.get(Job, job_id)
    assert job_row is not None
    files = db.session.scalars(select(PaymentFile).where(PaymentFile.id.in_(outcome.files)))
    jobs.record_items(
        db.session,
        job_row,
        [jobs.ItemOutcome(f.id, True, f.name, link=f"/payments/files/{f.id}") for f in files],
    )
    db.session.commit()


def _summary(outcome: run.RunOutcome) -> str:
    if outcome.no_account:
        return "Nothing was sent: the ICB has no agency account in its payments settings"
    if not outcome.files:
        return "Nothing was sent: no claim or recovery was waiting"
    rows = "row" if outcome.rows == 1 else "rows"
    return f"1 payment file sent: {outcome.rows:,} {rows}, £{outcome.total:,.2f}"
