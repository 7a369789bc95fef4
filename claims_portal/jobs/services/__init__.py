"""Jobs: work asked for inside a unit of work, done after its commit by a worker.

A service calls :func:`enqueue` (or :func:`enqueue_ids`) in the caller's transaction; the
job is handed to the queue only once that transaction commits, and forgotten if it rolls
back (``jobs.dispatch``), so a job never sees work that was not committed. Jobs read their
work from the database and record their outcome there: the queue's message only says
which job to run, so a message lost delays the work (a sweep finds it) and a message run
twice does no harm.

Scheduled jobs record each run in ``job_run`` (:func:`claim_run`, :func:`finish_run`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from claims_portal.db import DbSession
from claims_portal.jobs.models import Job, JobItem, JobOutcome, JobRun, JobStatus
from claims_portal.statemachine import Machine, Step, set_status

#: ``session.info`` key of the jobs asked for in the session's current transaction.
PENDING = "jobs_pending"


@dataclass
class Pending:
    """A job asked for and not yet handed to the queue. Jobs over ids (``ids`` set) of
    one kind asked for in one transaction are merged into one."""

    kind: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    ids: list[int] | None = None


def enqueue(session: DbSession, kind: str, **kwargs: Any) -> None:
    """Run job ``kind`` with ``kwargs`` (JSON values) once the caller's transaction has
    committed; never if it rolls back."""
    session.info.setdefault(PENDING, []).append(Pending(kind, dict(kwargs)))


def enqueue_ids(session: DbSession, kind: str, ids: Iterable[int]) -> None:
    """Run job ``kind`` over the rows ``ids`` after commit: the ids of every call in one
    transaction go together (split into messages of ``JOBS_IDS_PER_MESSAGE`` ids)."""
    pending: list[Pending] = session.info.setdefault(PENDING, [])
    for job in pending:
        if job.kind == kind and job.ids is not None:
            job.ids.extend(ids)
            return
    pending.append(Pending(kind, ids=list(ids)))


# --- Runs of scheduled jobs ----------------------------------------------------------------


def claim_run(
    session: DbSession, kind: str, scheduled_for: dt.datetime, task_id: str, now: dt.datetime
) -> JobRun | None:
    """The run of ``kind`` for the slot ``scheduled_for``, or ``None`` when another task
    has it already (a second scheduler, a trigger sent twice). The same task delivered
    again after its worker died (``task_id``) gets its unfinished run back. The caller
    commits at once, so that other workers see the claim (flush only here)."""
    try:
        with session.begin_nested():
            run = JobRun(
                kind=kind,
                scheduled_for=scheduled_for,
                task_id=task_id,
                started_at=now,
                outcome=JobOutcome.RUNNING,
            )
            session.add(run)
        return run
    except IntegrityError:
        pass
    existing = session.scalars(
        select(JobRun)
        .where(JobRun.kind == kind, JobRun.scheduled_for == scheduled_for)
        .with_for_update()
    ).one()
    if existing.task_id == task_id and existing.outcome is JobOutcome.RUNNING:
        existing.started_at = now
        session.flush()
        return existing
    return None


def finish_run(
    session: DbSession, run: JobRun, *, succeeded: bool, detail: str, now: dt.datetime
) -> None:
    """Record how ``run`` ended (flush only)."""
    run.outcome = JobOutcome.SUCCEEDED if succeeded else JobOutcome.FAILED
    run.finished_at = now
    run.detail = detail[-4000:]
    session.flush()


def recent_runs(session: DbSession, limit: int = 50) -> list[JobRun]:
    """The latest runs, newest first."""
    return list(session.scalars(select(JobRun).order_by(JobRun.started_at.desc()).limit(limit)))


# --- Jobs people start ---------------------------------------------------------------------

#: A job's life: taken by a worker, then finished or stopped (by an error, or because its
#: owner may no longer do it). Taken by the workers, not by people: no capability, and not
#: audited itself (what the job does is: each claim's approval, the export's file).
JOB = Machine(
    object_type="job",
    title="Job",
    initial=JobStatus.QUEUED,
    created="started",
    creator=None,
    creator_who="the person whose work it does (a bulk approval, bulk claims, an export)",
    final=frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED}),
    steps=(
        Step(
            "take",
            frozenset({JobStatus.QUEUED}),
            JobStatus.RUNNING,
            None,
            "taken",
            who="a worker",
            audit=None,
        ),
        Step(
            "finish",
            frozenset({JobStatus.RUNNING}),
            JobStatus.SUCCEEDED,
            None,
            "finished",
            who="a worker",
            audit=None,
        ),
        Step(
            "stop",
            frozenset({JobStatus.QUEUED, JobStatus.RUNNING}),
            JobStatus.FAILED,
            None,
            "stopped",
            who="a worker",
            audit=None,
        ),
    ),
)


def _step(job: Job, name: str) -> None:
    """Take the step ``name`` of :data:`JOB` (the caller holds the job's row lock)."""
    if not JOB.allows(job.status, name):
        raise ValueError(f"job {job.id} is {job.status.value}: it cannot {name}")
    set_status(job, JOB.step(name).target)


@dataclass(frozen=True)
class ItemOutcome:
    """One item a job did, as its page lists it: done (``ok``) or not, and why."""

    item_id: int
    ok: bool
    label: str
    link: str | None = None
    detail: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "label": self.label, "link": self.link, "detail": self.detail}


def start_job(
    session: DbSession,
    kind: str,
    *,
    owner_id: int,
    organisation_id: int | None,
    title: str,
    total: int,
    params: dict[str, Any],
) -> Job:
    """A job for its owner, handed to a worker once the caller commits (flushes)."""
    job = Job(
        kind=kind,
        owner_id=owner_id,
        organisation_id=organisation_id,
        title=title[:200],
        status=JobStatus.QUEUED,
        total=total,
        done=0,
        params=params,
    )
    session.add(job)
    session.flush()
    enqueue(session, kind, job_id=job.id)
    return job


def due_again(
    session: DbSession, now: dt.datetime, *, waiting: dt.timedelta, running: dt.timedelta
) -> list[Job]:
    """Jobs to hand to the workers again: asked for more than ``waiting`` ago and never
    taken, or started more than ``running`` ago and not ended."""
    return list(
        session.scalars(
            select(Job)
            .where(
                ((Job.status == JobStatus.QUEUED) & (Job.created_at < now - waiting))
                | ((Job.status == JobStatus.RUNNING) & (Job.started_at < now - running))
            )
            .order_by(Job.id)
        )
    )


def job_of(session: DbSession, job_id: int, owner_id: int) -> Job | None:
    """The job, if ``owner_id`` started it (nobody else sees it)."""
    job = session.get(Job, job_id)
    return job if job is not None and job.owner_id == owner_id else None


def take_job(session: DbSession, job_id: int, now: dt.datetime) -> tuple[Job, set[int]] | None:
    """Lock the job for one step of its work (a second worker given the same job waits
    here, then sees what the first did), mark it started, and return it with the items
    already done; ``None`` when it has ended or does not exist."""
    job = session.scalars(select(Job).where(Job.id == job_id).with_for_update()).one_or_none()
    if job is None or job.ended:
        return None
    if job.status is JobStatus.QUEUED:
        _step(job, "take")
        job.started_at = now
    done = set(session.scalars(select(JobItem.item_id).where(JobItem.job_id == job_id)))
    return job, done


def record_items(session: DbSession, job: Job, outcomes: Iterable[ItemOutcome]) -> None:
    """Record items done in this step, in the transaction of their effect (flushes)."""
    added = 0
    for outcome in outcomes:
        session.add(JobItem(job_id=job.id, item_id=outcome.item_id, outcome=outcome.as_json()))
        added += 1
    job.done = min(job.total, job.done + added)
    session.flush()


def end_job(
    session: DbSession, job: Job, *, succeeded: bool, summary: str, now: dt.datetime
) -> None:
    _step(job, "finish" if succeeded else "stop")
    job.summary = summary
    job.finished_at = now
    session.flush()


def items_of(session: DbSession, job: Job) -> list[ItemOutcome]:
    """What the job did, item by item, in the order it did them."""
    return [
        ItemOutcome(
            item.item_id,
            bool(item.outcome.get("ok")),
            str(item.outcome.get("label", item.item_id)),
            item.outcome.get("link"),
            item.outcome.get("detail"),
        )
        for item in session.scalars(
            select(JobItem).where(JobItem.job_id == job.id).order_by(JobItem.id)
        )
    ]
