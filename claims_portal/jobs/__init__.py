"""Jobs: work done off the request by Celery workers, with Redis as the broker, and the
scheduler (Celery beat) that starts the periodic ones.

- ``services``: ask for a job in a unit of work (:func:`~.services.enqueue`), handed over
  after its commit; the runs of scheduled jobs (``job_run``).
- ``dispatch``: after commit, to the queue, or in this process (``JOBS_RUN_IN_PROCESS``).
- ``registry``, ``tasks``: the jobs and how one runs; ``celery_app``: the Celery app made
  from the Flask app's configuration; ``schedule``: ``JOBS_SCHEDULE``.
- ``views``: ``/jobs/<id>``, the page of a job a person started (its progress, then what
  it did, item by item), for its owner only;
- ``cli``: ``claims-portal worker``, ``claims-portal scheduler``, ``claims-portal jobs``;
  ``worker``: the module ``celery -A claims_portal.jobs.worker`` loads.

docs/operations.md says how to run them and why a job may run twice but never be lost.
"""

from __future__ import annotations

from flask import Blueprint, Flask

#: The page of a job a person started (``/jobs/<id>``: progress, then outcome).
bp = Blueprint("jobs", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    from claims_portal.jobs import dispatch
    from claims_portal.jobs import tasks as _tasks  # noqa: F401 - registers the jobs
    from claims_portal.jobs.celery_app import make_celery
    from claims_portal.jobs.cli import register_commands

    app.extensions["celery"] = make_celery(app)
    dispatch.install(app)
    register_commands(app)
