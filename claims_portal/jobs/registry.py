"""Every job the workers run, by name, and how one run goes (``execute``).

A job is a plain function ``function(context, **kwargs)`` registered with :func:`job`; the
Celery tasks (``jobs.celery_app``) and the in-process runner (``jobs.dispatch``) both call
:func:`execute`, so a job behaves the same on a worker and in ``make run``'s web process.
A job commits its own work (it is not a request); a scheduled job's run is recorded in
``job_run`` around it, once per slot of its schedule.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from claims_portal import clock, request_context
from claims_portal.extensions import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobContext:
    """What a job is told about its run."""

    task_id: str
    config: Mapping[str, Any]


@dataclass(frozen=True)
class JobSpec:
    name: str
    function: Callable[..., str | None]
    #: Run by the scheduler, each run recorded in ``job_run`` once per slot.
    scheduled: bool
    #: A setting that, when false, stops the job being handed over after commit.
    enabled_by: str | None


JOBS: dict[str, JobSpec] = {}


def job(
    name: str, *, scheduled: bool = False, enabled_by: str | None = None
) -> Callable[[Callable[..., str | None]], Callable[..., str | None]]:
    """Register ``function`` as the job ``name`` (it returns what to record, or None)."""

    def register(function: Callable[..., str | None]) -> Callable[..., str | None]:
        JOBS[name] = JobSpec(name, function, scheduled, enabled_by)
        return function

    return register


def execute(name: str, kwargs: Mapping[str, Any], task_id: str, config: Mapping[str, Any]) -> Any:
    """Run job ``name`` in the current app context. Raises what the job raises (an
    unscheduled job; a scheduled one records the failure in its run instead)."""
    from claims_portal import metrics

    spec = JOBS[name]
    context = JobContext(task_id, config)
    started = time.perf_counter()
    outcome = "failed"
    with request_context.job(name):  # every line it logs carries a job id
        log.info("job %s started (task %s)", name, task_id, extra={"job": name})
        try:
            if not spec.scheduled:
                result = spec.function(context, **kwargs)
                outcome = "succeeded"
            else:
                result = _run_scheduled(spec, context, dict(kwargs))
                outcome = str(result)  # succeeded, failed or skipped
        finally:
            metrics.job_finished(name, outcome, time.perf_counter() - started)
        log.info("job %s: %s", name, result, extra={"job": name, "outcome": result})
        return result


def _run_scheduled(spec: JobSpec, context: JobContext, kwargs: dict[str, Any]) -> str:
    from claims_portal.jobs.models import JobRun
    from claims_portal.jobs.schedule import parse_schedule
    from claims_portal.jobs.services import claim_run, finish_run

    started = clock.now()
    given = kwargs.pop("scheduled_for", None)
    if given is not None:
        scheduled_for = dt.datetime.fromisoformat(given)
    else:
        when = parse_schedule(context.config["JOBS_SCHEDULE"]).get(spec.name)
        scheduled_for = when.slot(started) if when is not None else started
    run = claim_run(db.session, spec.name, scheduled_for, context.task_id, started)
    db.session.commit()
    if run is None:
        log.info("job %s for %s: already run by another task", spec.name, scheduled_for)
        return "skipped"
    run_id = run.id
    try:
        detail = spec.function(context, **kwargs) or ""
        succeeded = True
    except Exception as exc:
        db.session.rollback()
        log.exception("job %s for %s failed", spec.name, scheduled_for)
        detail = f"{type(exc).__name__}: {exc}"
        succeeded = False
    except SystemExit as exc:  # a command's sys.exit(1): failed, with what it said
        db.session.rollback()
        detail = str(exc.code)
        succeeded = False
    run = db.session.get(JobRun, run_id)
    assert run is not None
    finish_run(db.session, run, succeeded=succeeded, detail=detail, now=clock.now())
    db.session.commit()
    return "succeeded" if succeeded else "failed"
