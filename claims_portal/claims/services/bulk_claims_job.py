"""A bulk claims spreadsheet of more than ``BULK_CLAIMS_IN_REQUEST`` rows is claimed by a job
(``claims.bulk-claims``) on a worker: the upload is checked whole in the request as always
(``bulk_reading.read_upload``: every problem listed, nothing made), and once it passes, its
upload row is written and the person is taken to the job's page, which shows how many rows
have been claimed so far, then the claims made and the rows that could not be (and why).

The job makes the claims ``STEP`` rows at a time. Each step locks the job row (a second
worker given the same job waits, then sees what the first did), checks that the person may
still claim in bulk for the window (:func:`~.bulk_upload.find_option`: their role, the
window still open) and locks the step's providers' Active offers
(:func:`~.bulk_upload.lock_offers`), makes each row's claim exactly as an upload in a request
does (:func:`~.bulk_upload.create_row_claim`), each in a savepoint so that one refused row
(a claim the provider started meanwhile, an offer withdrawn) is an outcome, not an error, and
records every row's outcome in ``job_item`` in the same transaction as its claim. A worker
that dies mid-step leaves that step undone; the job, run again, carries on from the last
step committed: each row claimed once. At the end the upload's audit event is written and
the other tier 1 approvers told once (:func:`~.bulk_upload.finish_upload`); an upload that
made no claim leaves no upload row, as a refused upload does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.claims.models import BulkUpload, BulkUploadClaim, Claim
from claims_portal.claims.services._common import ClaimInvalid
from claims_portal.claims.services.bulk_upload import (
    BulkOption,
    BulkRow,
    ParsedUpload,
    create_row_claim,
    find_option,
    finish_upload,
    lock_offers,
    new_upload,
)
from claims_portal.claims.services.job_outcomes import stop_after_error, tell_owner
from claims_portal.clock import now, today
from claims_portal.db import DbSession
from claims_portal.extensions import db
from claims_portal.jobs import services as jobs
from claims_portal.jobs.models import Job
from claims_portal.jobs.registry import JobContext, job
from claims_portal.organisations.models import Organisation

BULK_CLAIMS_JOB = "claims.bulk-claims"
#: Rows claimed per step of the job (one transaction each).
STEP = 25


def runs_as_job(parsed: ParsedUpload, in_request: int) -> bool:
    """Whether the upload has more rows than are claimed while the page waits
    (``BULK_CLAIMS_IN_REQUEST``)."""
    return len(parsed.rows) > in_request


def start_bulk_claims(
    session: DbSession, actor: User, organisation: Organisation, parsed: ParsedUpload
) -> Job:
    """The upload's row and the job making its claims, handed to a worker once the caller
    commits (flushes)."""
    upload = new_upload(session, actor, parsed)
    scheme, window = parsed.option.scheme, parsed.option.window
    count = len(parsed.rows)
    return jobs.start_job(
        session,
        BULK_CLAIMS_JOB,
        owner_id=actor.id,
        organisation_id=organisation.id,
        title=f"Bulk claims under {scheme.code} for {window.period_label}: {count} rows",
        total=count,
        params={
            "upload_id": upload.id,
            "window_id": window.id,
            "rows": [
                {
                    "row": row.row_number,
                    "provider_id": row.provider.id,
                    "units": [[component_id, units] for component_id, units in row.units.items()],
                    "notes": row.notes,
                }
                for row in parsed.rows
            ],
            "done_heading": "Claims made",
            "not_done_heading": "Not claimed",
        },
    )


def _rows(session: DbSession, params: dict[str, Any]) -> list[BulkRow]:
    providers = {
        organisation.id: organisation
        for organisation in session.scalars(
            select(Organisation).where(
                Organisation.id.in_({int(r["provider_id"]) for r in params["rows"]})
            )
        )
    }
    return [
        BulkRow(
            int(r["row"]),
            providers[int(r["provider_id"])],
            {int(c): (int(u) if u is not None else None) for c, u in r["units"]},
            r.get("notes"),
        )
        for r in params["rows"]
    ]


def _made(claim: Claim, row: BulkRow) -> jobs.ItemOutcome:
    value = f", £{claim.value:,.2f}" if claim.value is not None else ""
    return jobs.ItemOutcome(
        row.row_number,
        True,
        claim.reference,
        f"/claims/{claim.id}",
        f"Row {row.row_number}: {row.provider.display_name}{value}",
    )


def _not_made(row: BulkRow, reason: str) -> jobs.ItemOutcome:
    return jobs.ItemOutcome(
        row.row_number, False, f"Row {row.row_number}: {row.provider.display_name}", None, reason
    )


def _claim_step(
    session: DbSession, actor: User, parsed: ParsedUpload, upload: BulkUpload
) -> list[jobs.ItemOutcome]:
    """Claim ``parsed.rows`` (one step), each row's refusal an outcome (flush only)."""
    offered = lock_offers(session, parsed.option.scheme, parsed.rows)
    outcomes = []
    for row in parsed.rows:
        if row.provider.id not in offered:
            outcomes.append(_not_made(row, "The provider no longer has an active offer"))
            continue
        try:
            with session.begin_nested():
                claim = create_row_claim(session, actor, parsed, upload, row)
        except ClaimInvalid as error:
            outcomes.append(_not_made(row, "; ".join(p.message for p in error.problems)))
            continue
        outcomes.append(_made(claim, row))
    return outcomes


@job(BULK_CLAIMS_JOB)
def run_bulk_claims(context: JobContext, job_id: int) -> str:
    """Claim the job's rows a step at a time (see the module doc); then tell its owner."""
    from claims_portal.hosts import public_base_url

    while True:
        taken = jobs.take_job(db.session, job_id, now())
        if taken is None:
            db.session.commit()
            return "nothing left to do"
        job_row, done = taken
        try:
            summary = _step(job_row, done, public_base_url())
        except Exception:
            db.session.rollback()
            stop_after_error(
                job_id,
                public_base_url(),
                items="rows",
                rest="the rest were not claimed",
                summarise=_summary,
            )
            raise
        db.session.commit()
        if summary is not None:
            return summary


def _step(job_row: Job, done: set[int], base_url: str) -> str | None:
    """One step of the job under its lock (the caller commits); its summary once ended."""
    actor = db.session.get(User, job_row.owner_id)
    organisation = (
        db.session.get(Organisation, job_row.organisation_id)
        if job_row.organisation_id is not None
        else None
    )
    upload = db.session.get(BulkUpload, job_row.params["upload_id"])
    assert actor is not None
    assert organisation is not None
    assert upload is not None
    rows = _rows(db.session, job_row.params)
    remaining = [row for row in rows if row.row_number not in done][:STEP]
    option = find_option(db.session, actor, organisation, today(), job_row.params["window_id"])
    if not remaining:
        return _finish(job_row, actor, upload, option, rows, base_url)
    if option is None:  # their role ended, or the window closed: the rest are not claimed
        reason = "You can no longer claim in bulk for this window"
        left = [_not_made(row, reason) for row in rows if row.row_number not in done]
        jobs.record_items(db.session, job_row, left)
        return None
    parsed = ParsedUpload(option, upload.filename, upload.sha256, remaining)
    jobs.record_items(db.session, job_row, _claim_step(db.session, actor, parsed, upload))
    return None


def _finish(
    job_row: Job,
    actor: User,
    upload: BulkUpload,
    option: BulkOption | None,
    rows: list[BulkRow],
    base_url: str,
) -> str:
    claims = list(
        db.session.scalars(
            select(Claim)
            .join(BulkUploadClaim, BulkUploadClaim.claim_id == Claim.id)
            .where(BulkUploadClaim.upload_id == upload.id)
            .order_by(BulkUploadClaim.row_number)
        )
    )
    if claims:
        upload.claim_count = len(claims)
        if option is None:
            option = BulkOption(upload.scheme, upload.window)
        parsed = ParsedUpload(option, upload.filename, upload.sha256, rows)
        finish_upload(db.session, actor, parsed, upload, claims, base_url=base_url)
    else:
        db.session.delete(upload)  # nothing made: no upload row, as for a refused upload
    summary = _summary(jobs.items_of(db.session, job_row))
    jobs.end_job(db.session, job_row, succeeded=True, summary=summary, now=now())
    tell_owner(job_row, summary, base_url)
    return summary


def _summary(items: list[jobs.ItemOutcome]) -> str:
    made = sum(item.ok for item in items)
    return f"{made} claim{'s' if made != 1 else ''} made, {len(items) - made} not claimed"
