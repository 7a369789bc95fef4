"""How the claims jobs people start (``bulk_job``, ``bulk_claims_job``, ``export_job``) end:
the owner told in their messages and by email, and a job stopped by an error recorded with
what it had done (what it did stays done)."""

from __future__ import annotations

from collections.abc import Callable

from claims_portal.access.models import User
from claims_portal.clock import now
from claims_portal.extensions import db
from claims_portal.jobs import services as jobs
from claims_portal.jobs.models import Job, JobStatus
from claims_portal.mail.kinds import EmailKind
from claims_portal.mail.services.notices import tell
from claims_portal.organisations.models import Organisation


def tell_owner(job_row: Job, summary: str, base_url: str, *, ended: str = "finished") -> None:
    """A message centre item and an email for the job's owner, linking to its page; its
    subject ends with ``ended`` ("finished", "ready to download") or, for a failed job,
    "stopped"."""
    owner = db.session.get(User, job_row.owner_id)
    organisation = (
        db.session.get(Organisation, job_row.organisation_id)
        if job_row.organisation_id is not None
        else None
    )
    if owner is None or organisation is None:
        return
    failed = job_row.status is JobStatus.FAILED
    tell(
        db.session,
        [owner],
        organisation=organisation,
        subject=f"{job_row.title}: {'stopped' if failed else ended}",
        body=f"{job_row.title}. {summary}.",
        link=f"/jobs/{job_row.id}",
        kind=EmailKind.JOB_FINISHED,
        actor=None,
        base_url=base_url,
    )


def stop_after_error(
    job_id: int,
    base_url: str,
    *,
    items: str,
    rest: str,
    summarise: Callable[[list[jobs.ItemOutcome]], str],
) -> None:
    """An error stopped the job: record it as failed with what it had done ("after 25 of 500
    ``items`` (``summarise(...)``); ``rest``"), tell its owner, and commit."""
    taken = jobs.take_job(db.session, job_id, now())
    if taken is None:
        db.session.commit()
        return
    job_row, done = taken
    summary = (
        f"Stopped by an error after {len(done)} of {job_row.total} {items} "
        f"({summarise(jobs.items_of(db.session, job_row))}); {rest}"
    )
    jobs.end_job(db.session, job_row, succeeded=False, summary=summary, now=now())
    tell_owner(job_row, summary, base_url)
    db.session.commit()
