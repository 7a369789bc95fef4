"""A bulk approval of more than ``BULK_IN_REQUEST`` claims runs as a job (``claims.bulk-approve``)
on a worker: the person is taken to the job's page, which shows how far it has got and then
what was approved and what was not (and why); they are told in their messages when it ends.

The job approves the claims ``STEP`` at a time. Each step locks the job row (a second worker
given the same job waits, then sees what the first did), approves its claims exactly as a
bulk approval in a request does (:func:`~.bulk.bulk_approve`: versions checked, each claim's
refusal an outcome), and records each claim's outcome in ``job_item`` in the same
transaction: a worker that dies mid-step leaves that step undone, and the job, run again,
carries on from the last step committed. So each claim is approved once, whatever retries.
"""

from __future__ import annotations

from collections.abc import Sequence

from claims_portal.access.models import User
from claims_portal.claims.models import ClaimAction
from claims_portal.claims.services.bulk import Outcome, bulk_approve, checked_selection
from claims_portal.claims.services.job_outcomes import stop_after_error, tell_owner
from claims_portal.claims.services.settings import ClaimsSettings
from claims_portal.clock import now
from claims_portal.db import DbSession
from claims_portal.extensions import db
from claims_portal.jobs import services as jobs
from claims_portal.jobs.models import Job
from claims_portal.jobs.registry import JobContext, job
from claims_portal.organisations.models import Organisation

BULK_JOB = "claims.bulk-approve"
#: Claims approved per step of the job (one transaction each).
STEP = 25


def runs_as_job(targets: Sequence[tuple[int, int]], in_request: int) -> bool:
    """Whether a bulk approval of ``targets`` is too big to wait for (``in_request``:
    ``BULK_APPROVAL_IN_REQUEST``, the most approved while the page waits)."""
    return len({claim_id for claim_id, _ in targets}) > in_request


def start_bulk_approval(
    session: DbSession,
    actor: User,
    organisation: Organisation,
    action: ClaimAction,
    targets: Sequence[tuple[int, int]],
) -> Job:
    """The job approving ``targets`` (``(claim id, version seen)``) with ``action``, handed
    to a worker once the caller commits (flushes). Raises ``ValueError`` as
    :func:`~.bulk.bulk_approve` does."""
    step, versions = checked_selection(action, targets)
    count = len(versions)
    return jobs.start_job(
        session,
        BULK_JOB,
        owner_id=actor.id,
        organisation_id=organisation.id,
        title=f"{step.label}: {count} claim{'s' if count != 1 else ''}",
        total=count,
        params={
            "action": action.name,
            "targets": [[c, v] for c, v in sorted(versions.items())],
            "item_heading": "Claim",
            "done_heading": "Approved",
            "not_done_heading": "Not approved",
        },
    )


def _item(outcome: Outcome) -> jobs.ItemOutcome:
    if outcome.approved:
        detail = outcome.status.value if outcome.status is not None else None
    else:
        failure = outcome.failure.value if outcome.failure is not None else "Not approved"
        detail = f"{failure}: {outcome.reason}" if outcome.reason else failure
    return jobs.ItemOutcome(
        outcome.claim_id,
        outcome.approved,
        outcome.reference,
        f"/claims/{outcome.claim_id}" if outcome.status is not None else None,
        detail,
    )


def _summary(items: list[jobs.ItemOutcome]) -> str:
    approved = sum(item.ok for item in items)
    return f"{approved} approved, {len(items) - approved} not approved"


@job(BULK_JOB)
def run_bulk_approval(context: JobContext, job_id: int) -> str:
    """Approve the job's claims a step at a time (see the module doc); then tell its owner."""
    from claims_portal.hosts import public_base_url
    from claims_portal.service_settings import claims_settings

    settings: ClaimsSettings = claims_settings()
    while True:
        taken = jobs.take_job(db.session, job_id, now())
        if taken is None:
            db.session.commit()
            return "nothing left to do"
        job_row, done = taken
        action = ClaimAction[job_row.params["action"]]
        targets = [(int(c), int(v)) for c, v in job_row.params["targets"]]
        remaining = [(c, v) for c, v in targets if c not in done][:STEP]
        if not remaining:
            items = jobs.items_of(db.session, job_row)
            summary = _summary(items)
            jobs.end_job(db.session, job_row, succeeded=True, summary=summary, now=now())
            tell_owner(job_row, summary, public_base_url())
            db.session.commit()
            return summary
        actor = db.session.get(User, job_row.owner_id)
        assert actor is not None
        try:
            result = bulk_approve(
                db.session,
                actor,
                action,
                remaining,
                base_url=public_base_url(),
                settings=settings,
            )
            jobs.record_items(db.session, job_row, [_item(o) for o in result.outcomes])
            db.session.commit()
        except Exception:
            db.session.rollback()
            stop_after_error(
                job_id,
                public_base_url(),
                items="claims",
                rest="the rest were not approved",
                summarise=_summary,
            )
            raise
