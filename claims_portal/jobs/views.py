"""``/jobs/<id>``: the page of a job a person started (a bulk approval of many claims).

While it runs, the page shows how far it has got, updated every few seconds in its status
region by ``static/job_progress.js`` (a module with the page's CSP nonce, reading
``/jobs/<id>/progress``; not a timed page refresh, which WCAG 2.2.1 and axe refuse; without
scripts the page's own link updates it); once ended, what the job did, item by item. The
person may leave it: they are told in their messages when the job ends, with a link back
here. Only the person who started it sees it (404 for anyone else). A job that made a file
(an export of a long list) offers it for download at ``/jobs/<id>/file`` once it has
finished, to its owner only, until the file expires.
"""

from __future__ import annotations

from flask import abort, current_app, jsonify, render_template
from flask.typing import ResponseReturnValue

from claims_portal.access import current
from claims_portal.claims.evidence.errors import EvidenceNotFound
from claims_portal.claims.evidence.serving import evidence_response
from claims_portal.claims.evidence.storage import store_from_config
from claims_portal.extensions import db
from claims_portal.jobs import bp
from claims_portal.jobs import services as jobs
from claims_portal.jobs.models import Job, JobStatus
from claims_portal.routes import signed_in

#: Seconds between the running page's progress updates.
REFRESH_SECONDS = 3


def _own_job(job_id: int) -> Job:
    """The signed-in person's job; 404 for anyone else's (or none)."""
    job = jobs.job_of(db.session, job_id, current.person().id)
    if job is None:
        abort(404)
    return job


@bp.get("/jobs/<int:job_id>")
@signed_in
def job_page(job_id: int) -> ResponseReturnValue:
    """The owner's job (404 for anyone else's)."""
    job = _own_job(job_id)
    items = jobs.items_of(db.session, job) if job.ended else []
    return render_template(
        "jobs/job.html",
        job=job,
        done=[i for i in items if i.ok],
        not_done=[i for i in items if not i.ok],
        refresh=None if job.ended else REFRESH_SECONDS,
        keep_days=current_app.config.get("EXPORT_KEEP_DAYS"),
    )


@bp.get("/jobs/<int:job_id>/file")
@signed_in
def job_file(job_id: int) -> ResponseReturnValue:
    """The file the owner's job made, as an attachment (404 for anyone else's job, before
    it has finished, and once the file has expired)."""
    job = _own_job(job_id)
    if job.status is not JobStatus.SUCCEEDED or not job.result_key or not job.result_filename:
        abort(404)
    store = store_from_config(current_app.config)
    try:
        response = evidence_response(
            store,
            job.result_key,
            filename=job.result_filename,
            content_type=str(job.params.get("content_type") or "application/octet-stream"),
        )
    except EvidenceNotFound:
        abort(404)
    finally:
        store.close()
    # Our own file of a known type (evidence_response serves only evidence types as such).
    response.headers["Content-Type"] = str(
        job.params.get("content_type") or "application/octet-stream"
    )
    return response


@bp.get("/jobs/<int:job_id>/progress")
@signed_in
def job_progress(job_id: int) -> ResponseReturnValue:
    """How far the owner's job has got, as JSON (404 for anyone else's)."""
    job = _own_job(job_id)
    return jsonify(
        status=job.status.name,
        outcome=job.status.value,
        done=job.done,
        total=job.total,
        ended=job.ended,
        summary=job.summary,
    )
