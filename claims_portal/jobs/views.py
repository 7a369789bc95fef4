"""``/jobs/<id>``: the page of a job a person started (a bulk approval of many claims).

While it runs, the page shows how far it has got, updated every few seconds in its status
region by ``static/job_progress.js`` (a module with the page's CSP nonce, reading
``/jobs/<id>/progress``; not a timed page refresh, which WCAG 2.2.1 and axe refuse; without
scripts the page's own link updates it); once ended, what the job did, item by item. The
person may leave it: they are told in their messages when the job ends, with a link back
here. Only the person who started it sees it (404 for anyone else).
"""

from __future__ import annotations

from flask import abort, jsonify, render_template
from flask.typing import ResponseReturnValue

from claims_portal.access import current
from claims_portal.extensions import db
from claims_portal.jobs import bp
from claims_portal.jobs import services as jobs
from claims_portal.routes import signed_in

#: Seconds between the running page's progress updates.
REFRESH_SECONDS = 3


@bp.get("/jobs/<int:job_id>")
@signed_in
def job_page(job_id: int) -> ResponseReturnValue:
    """The owner's job (404 for anyone else's)."""
    job = jobs.job_of(db.session, job_id, current.person().id)
    if job is None:
        abort(404)
    items = jobs.items_of(db.session, job) if job.ended else []
    return render_template(
        "jobs/job.html",
        job=job,
        done=[i for i in items if i.ok],
        not_done=[i for i in items if not i.ok],
        refresh=None if job.ended else REFRESH_SECONDS,
    )


@bp.get("/jobs/<int:job_id>/progress")
@signed_in
def job_progress(job_id: int) -> ResponseReturnValue:
    """How far the owner's job has got, as JSON (404 for anyone else's)."""
    job = jobs.job_of(db.session, job_id, current.person().id)
    if job is None:
        abort(404)
    return jsonify(
        status=job.status.name,
        outcome=job.status.value,
        done=job.done,
        total=job.total,
        ended=job.ended,
        summary=job.summary,
    )
