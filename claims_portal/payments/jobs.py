"""The payment run's scheduled jobs (``JOBS_SCHEDULE``, docs/operations.md):

- ``payments.run`` (daily at 15:00 England time): on a working day, the day's run
  (:func:`run.run_payments`); on a weekend or bank holiday, nothing;
- ``payments.answers`` (daily at 16:00): the agency's responses read, unanswered files sent
  again or failed (:func:`answers.read_answers`).

Both read the date and time from ``claims_portal.clock`` and are safe to run twice: the
run's slot and each response's SHA-256 make the second a no-op.
"""

from __future__ import annotations

from flask import current_app

from claims_portal import clock
from claims_portal.extensions import db
from claims_portal.hosts import public_base_url
from claims_portal.jobs.registry import JobContext, job
from claims_portal.payments.services import answers, run
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
