"""National quality services' jobs:

- ``national.load-extract``: an uploaded achievement extract checked and, when clean or
  when the person chose its valid rows, loaded (``services/extracts.py``), with its
  progress on the job's page (``/jobs/<id>``: rows read so far, committed on a connection
  of its own, as the load itself is one transaction).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from sqlalchemy import update

from claims_portal import clock
from claims_portal.claims.evidence.storage import store_from_config
from claims_portal.claims.services.job_outcomes import tell_owner
from claims_portal.extensions import db
from claims_portal.hosts import public_base_url
from claims_portal.jobs import services as jobs
from claims_portal.jobs.models import Job, JobStatus
from claims_portal.jobs.registry import JobContext, job
from claims_portal.national.models import AchievementLoad
from claims_portal.national.services import extracts


def _progress(job_id: int, total: int) -> Callable[[int], None]:
    def report(rows: int) -> None:
        with db.engine.connect() as connection:
            connection.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == JobStatus.RUNNING)
                .values(done=min(rows, total))
            )
            connection.commit()

    return report


@job(extracts.LOAD_JOB)
def load_extract(context: JobContext, job_id: int) -> str:
    """Check (and load) the job's extract: one transaction; on an error it is rolled back,
    the load marked *Failed* and the data left as they were."""
    taken = jobs.take_job(db.session, job_id, clock.now())
    if taken is None:
        db.session.commit()
        return "nothing left to do"
    job_row, _ = taken
    db.session.commit()  # the page says it has started
    params = dict(job_row.params)
    load_id = int(params["load_id"])
    total = int(job_row.total)
    store = store_from_config(current_app.config)
    succeeded, summary = False, "Stopped by an error: nothing was loaded"
    try:
        load = db.session.get(AchievementLoad, load_id)
        if load is None or load.storage_key is None:
            summary = "The load or its file is no longer there: nothing was loaded"
        else:
            with store.open(load.storage_key) as stream:
                outcome = extracts.process(
                    db.session,
                    load,
                    params,
                    stream,
                    now=clock.now(),
                    progress=_progress(job_id, total),
                )
            succeeded, summary = True, outcome.summary
    except Exception:
        db.session.rollback()
        extracts.fail(db.session, load_id, clock.now())
        raise
    finally:
        ended = db.session.get(Job, job_id)
        if ended is not None and not ended.ended:
            ended.done = ended.total
            jobs.end_job(db.session, ended, succeeded=succeeded, summary=summary, now=clock.now())
            tell_owner(ended, summary, public_base_url())
        db.session.commit()
        store.close()
    return summary
