"""An export of a claim list longer than ``EXPORT_IN_REQUEST`` rows runs as a job
(``claims.export``) on a worker: the person asks for it on a page of its own (a ``POST``:
following a link starts nothing), is taken to the job's page, which shows the rows written
so far, and once it has finished downloads the file there (``/jobs/<id>/file``).

The job reads the list again when it runs, as its owner may see it then
(:func:`~.listing.scope_for` for the organisation they acted for: a person who has lost
the role gets no file), with the filter and sort they chose. It writes the whole file (CSV
or XLSX, exactly as an export in a request writes it), puts it in the evidence store under
``exports/`` (``{prefix}exports/{yyyy}/{mm}/{uuid}``: not a key the orphan sweep of
evidence touches) and then, under the job row's lock, records its key on the job: the
object first, then the row. A worker that dies while writing leaves no row pointing at a
file; the job, delivered again, writes the file afresh; a job already finished is left
alone (a second worker's file is deleted again). Files are removed once older than
``EXPORT_KEEP_DAYS`` (:func:`expire_exports`, run by the nightly evidence sweep), and
their keys cleared, so the job's page says the file has expired.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import update

from claims_portal.access.models import User
from claims_portal.claims.evidence.errors import EvidenceStorageError
from claims_portal.claims.evidence.lifecycle import discard_quietly
from claims_portal.claims.evidence.storage import (
    EvidenceStore,
    new_evidence_key,
    normalise_prefix,
    store_from_config,
)
from claims_portal.claims.services import listing
from claims_portal.claims.services.job_outcomes import tell_owner
from claims_portal.claims.services.listing import ClaimFilter, ListNotAllowed, ListScope
from claims_portal.clock import now, today
from claims_portal.db import DbSession
from claims_portal.extensions import db
from claims_portal.jobs import services as jobs
from claims_portal.jobs.models import Job, JobStatus
from claims_portal.jobs.registry import JobContext, job
from claims_portal.organisations.models import Organisation

EXPORT_JOB = "claims.export"
#: The folder of export files in the evidence store (under its key prefix).
EXPORTS_FOLDER = "exports/"
#: Rows written between two commits of the job's progress.
PROGRESS_EVERY = listing.EXPORT_CHUNK

#: Each format's writer and content type.
FORMATS: dict[str, tuple[Any, str]] = {
    "csv": (listing.csv_file, "text/csv; charset=utf-8"),
    "xlsx": (
        listing.xlsx_file,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
}


def runs_as_job(
    session: DbSession, scope: ListScope, chosen: ClaimFilter, *, in_request: int
) -> bool:
    """Whether the filtered list holds more than ``in_request`` rows
    (``EXPORT_IN_REQUEST``); the count stops there."""
    return listing.count(session, scope, chosen, at_most=in_request + 1) > in_request


def start_export(
    session: DbSession,
    actor: User,
    organisation: Organisation,
    chosen: ClaimFilter,
    file_format: str,
    *,
    at_least: int,
) -> Job:
    """The job writing the list on ``chosen`` as ``file_format`` (``csv`` or ``xlsx``),
    handed to a worker once the caller commits (flushes). ``at_least``: the rows known to
    be on the list (the job counts them all when it runs). Raises ``ValueError`` for an
    unknown format."""
    if file_format not in FORMATS:
        raise ValueError(f"no export format {file_format!r}")
    return jobs.start_job(
        session,
        EXPORT_JOB,
        owner_id=actor.id,
        organisation_id=organisation.id,
        title=f"Claims list as {file_format.upper()}"
        + (": filtered" if chosen.is_filtered else ""),
        total=max(at_least, 1),
        params={
            "format": file_format,
            "filter": chosen.query_args(page=1),
            "filename": listing.export_filename(file_format, today()),
            "content_type": FORMATS[file_format][1],
        },
    )


def export_prefix(store: EvidenceStore) -> str:
    """Where export files go in ``store``: ``{key prefix}exports/``."""
    return normalise_prefix(store.key_prefix + EXPORTS_FOLDER)


def _write(job_row: Job, scope: ListScope) -> tuple[IO[bytes], int]:
    """The job's file, written whole, and its rows; the rows are counted first, so the
    page says how many there are to write."""
    chosen = listing.parse_filter(job_row.params.get("filter") or {})
    total = max(listing.count(db.session, scope, chosen, at_most=2**31 - 1), 1)
    job_row.total = total
    job_row.done = 0
    job_id = job_row.id
    writer = FORMATS[job_row.params["format"]][0]
    db.session.commit()  # the page now says "0 of <total> done so far"
    written = 0

    def rows() -> Iterator[listing.ClaimRow]:
        nonlocal written
        for row in listing.iter_rows(db.session, scope, chosen):
            yield row
            written += 1
            if written % PROGRESS_EVERY == 0:
                _progress(job_id, min(written, total))

    file = writer(rows())
    return file, written


def _progress(job_id: int, done: int) -> None:
    """Commit the rows written so far (the job's page reads ``done``); called between rows,
    and :func:`~.listing.iter_rows` fetches each chunk whole, so no cursor is cut short."""
    db.session.execute(
        update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING).values(done=done)
    )
    db.session.commit()


@job(EXPORT_JOB)
def run_export(context: JobContext, job_id: int) -> str:
    """Write the job's list into the evidence store (see the module doc); tell its owner."""
    taken = jobs.take_job(db.session, job_id, now())
    if taken is None:
        db.session.commit()
        return "nothing left to do"
    job_row, _ = taken
    scope = _scope_now(job_row)
    if scope is None:
        return _end(job_id, None, "You may no longer see these claims, so no file was made")
    store = store_from_config(context.config)
    try:
        return _export(job_row, scope, store)
    except Exception:
        db.session.rollback()
        _end(job_id, None, "Stopped by an error: no file was made")
        raise
    finally:
        store.close()


def _export(job_row: Job, scope: ListScope, store: EvidenceStore) -> str:
    job_id = job_row.id
    content_type = FORMATS[job_row.params["format"]][1]
    file, rows = _write(job_row, scope)
    key = new_evidence_key(export_prefix(store), now())
    try:
        with file:
            store.put(key, file, content_type)
    except EvidenceStorageError:
        db.session.rollback()
        return _end(job_id, None, "The file could not be stored. Try again later")
    try:
        return _end(job_id, (key, rows), f"{rows:,} row{'s' if rows != 1 else ''} written")
    except _AlreadyEnded:
        discard_quietly(store, key)  # another run of the job finished first
        return "ended by another run"
    except Exception:
        discard_quietly(store, key)  # no row points at it
        raise


def _scope_now(job_row: Job) -> ListScope | None:
    """The list its owner may see now, for the organisation they acted for."""
    owner = db.session.get(User, job_row.owner_id)
    organisation = (
        db.session.get(Organisation, job_row.organisation_id)
        if job_row.organisation_id is not None
        else None
    )
    if owner is None:
        return None
    try:
        return listing.scope_for(owner, organisation)
    except ListNotAllowed:
        return None


def _end(job_id: int, result: tuple[str, int] | None, summary: str) -> str:
    """Under the job's lock, record how it ended (with the file's key when it made one) and
    tell its owner; a job another worker ended meanwhile is left as it is (and this run's
    file is the caller's to delete: raised as :class:`_AlreadyEnded`)."""
    from claims_portal.hosts import public_base_url

    taken = jobs.take_job(db.session, job_id, now())
    if taken is None:
        db.session.commit()
        if result is not None:
            raise _AlreadyEnded(result[0])
        return "nothing left to do"
    job_row, _ = taken
    if result is not None:
        key, rows = result
        job_row.result_key = key
        job_row.result_filename = job_row.params.get("filename")
        job_row.total = max(rows, 1)
        job_row.done = rows
    jobs.end_job(db.session, job_row, succeeded=result is not None, summary=summary, now=now())
    tell_owner(job_row, summary, public_base_url(), ended="ready to download")
    db.session.commit()
    return summary


class _AlreadyEnded(Exception):
    """Another run of the job finished it first: this run's file (``key``) is not needed."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


# --- Expiry --------------------------------------------------------------------------------


@dataclass
class ExpiryReport:
    """What :func:`expire_exports` did."""

    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    kept: int = 0


def expire_exports(
    session: DbSession,
    store: EvidenceStore,
    *,
    keep: dt.timedelta,
    now: dt.datetime,
) -> ExpiryReport:
    """Delete export files older than ``keep`` (by the store's own time, so files a dead
    worker left, which no job names, go too) and clear the keys of the jobs that named
    them (flushes; the caller commits). Raises
    :class:`~claims_portal.claims.evidence.errors.EvidenceStorageError` when the store
    cannot be listed; a failed delete is reported and tried again at the next sweep."""
    cutoff = now - keep
    report = ExpiryReport()
    for listed in store.list_objects(export_prefix(store)):
        if listed.last_modified > cutoff:
            report.kept += 1
        elif discard_quietly(store, listed.key):
            report.deleted.append(listed.key)
        else:
            report.failed.append(listed.key)
    if report.deleted:
        session.execute(
            update(Job).where(Job.result_key.in_(report.deleted)).values(result_key=None)
        )
        session.flush()
    return report
