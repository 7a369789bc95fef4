"""Jobs handed over after commit: to the queue (Redis, a worker runs them), or, with
``JOBS_RUN_IN_PROCESS`` (``make run`` on a machine without Redis, and the test suite's
default app), run by this process right after the request.

Listens to SQLAlchemy's session events, as the unit of work's callbacks do: the jobs a
transaction asked for (``jobs.services.enqueue``) are handed over once its outermost
transaction commits and dropped when it rolls back. Handing a job to the queue never fails
the request: if the broker cannot be reached the job is logged and left, and what it
would have done is still in the database for the sweeps (``mail.sweep-outbox``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any, cast

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from claims_portal.jobs.registry import JOBS, execute
from claims_portal.jobs.services import PENDING, Pending

log = logging.getLogger(__name__)

_COMMITTED = "jobs_committed"


def _after_commit(session: Session) -> None:
    pending: list[Pending] | None = session.info.pop(PENDING, None)
    if not pending:
        return
    if has_app_context() and not current_app.config.get("JOBS_RUN_IN_PROCESS"):
        app = cast(Flask, current_app)  # used here, inside the app context
        for job in pending:
            publish(app, job)
    else:
        session.info.setdefault(_COMMITTED, []).extend(pending)


def _after_rollback(session: Session, previous_transaction: Any) -> None:
    if not previous_transaction.nested:
        session.info.pop(PENDING, None)


def _messages(app: Flask, job: Pending) -> Iterator[dict[str, Any]]:
    if job.ids is None:
        yield job.kwargs
        return
    size = int(app.config.get("JOBS_IDS_PER_MESSAGE", 100))
    ids = sorted(set(job.ids))
    for start in range(0, len(ids), size):
        yield {**job.kwargs, "ids": ids[start : start + size]}


def _enabled(app: Flask, job: Pending) -> bool:
    spec = JOBS.get(job.kind)
    if spec is None:
        log.error("job %s is not a job: dropped", job.kind)
        return False
    return spec.enabled_by is None or bool(app.config.get(spec.enabled_by, True))


def publish(app: Flask, job: Pending) -> None:
    """Send ``job`` to the queue; a broker that cannot be reached is logged, not raised."""
    if not _enabled(app, job):
        return
    celery = app.extensions["celery"]
    for kwargs in _messages(app, job):
        try:
            celery.send_task(job.kind, kwargs=kwargs, queue=app.config["JOBS_QUEUE"])
        except Exception:
            log.exception(
                "job %s not queued (the broker is unreachable); left for the sweep", job.kind
            )


def run_committed(app: Flask) -> None:
    """In-process mode: run the jobs committed so far in this app's session, now."""
    from claims_portal.extensions import db

    committed: list[Pending] | None = db.session.info.pop(_COMMITTED, None)
    for job in committed or []:
        if not _enabled(app, job):
            continue
        for kwargs in _messages(app, job):
            try:
                execute(job.kind, kwargs, f"in-process-{uuid.uuid4()}", app.config)
            except Exception:
                log.exception("job %s failed in process; the database keeps its work", job.kind)


_listening = False


def install(app: Flask) -> None:
    global _listening
    if not _listening:
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_rollback)
        _listening = True

    @app.after_request
    def _run_in_process(response: Any) -> Any:
        if app.config.get("JOBS_RUN_IN_PROCESS"):
            run_committed(app)
        return response
