"""A bulk approval job on a real worker, killed half-way: the message comes back, the job
carries on from its last committed step, and every claim is approved once."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, text

from claims_portal.claims.models import ClaimAction, ClaimEvent
from claims_portal.claims.services import bulk_job
from claims_portal.extensions import db
from claims_portal.jobs import services as jobs
from claims_portal.jobs.models import Job, JobItem, JobStatus
from tests.claims.helpers import at_tier_1
from tests.factories.claims import claim_scene
from tests.jobs.helpers import Process, start_worker, wait_until

A = ClaimAction


@pytest.fixture
def bulk_worker(worker_env, log_dir, redis_prefix) -> Iterator[tuple[Process, str]]:
    """A worker with one pool process, on a queue of its own."""
    queue = f"{redis_prefix}bulk"
    process = start_worker({**worker_env, "JOBS_QUEUE": queue}, log_dir / "bulk.log", concurrency=1)
    wait_until(lambda: len(process.children()) == 1, "the pool", process=process)
    yield process, queue
    process.stop()


def _job(session, job_id: int) -> Job:
    session.expire_all()
    found = session.get(Job, job_id)
    assert found is not None
    return found


def test_a_worker_killed_mid_bulk_approval_approves_each_claim_once(
    queue_db, queue_app, bulk_worker
):
    worker, queue = bulk_worker
    first = claim_scene(two_step=False)
    claims = [at_tier_1(queue_db, first)]
    claims += [
        at_tier_1(queue_db, claim_scene(two_step=False, icb=first.icb))
        for _ in range(bulk_job.STEP + 4)
    ]
    job = bulk_job.start_bulk_approval(
        queue_db, first.tier_1, first.icb, A.TIER_1_APPROVE, [(c.id, c.version) for c in claims]
    )
    queue_db.info.pop(jobs.PENDING, None)  # sent below, to this test's worker
    queue_db.commit()
    job_id = job.id
    ids = sorted(c.id for c in claims)
    # Another connection holds a claim of the second step: the worker commits the first
    # step, then waits on that claim, part-way through the second.
    holder = db.engine.connect()
    held = holder.begin()
    holder.execute(text("SELECT id FROM claim WHERE id = :id FOR UPDATE"), {"id": ids[-2]})
    try:
        queue_app.extensions["celery"].send_task(
            bulk_job.BULK_JOB, kwargs={"job_id": job_id}, queue=queue
        )
        wait_until(
            lambda: _job(queue_db, job_id).done == bulk_job.STEP, "the first step", 60, worker
        )
        queue_db.commit()
        wait_until(
            lambda: queue_db.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ),
            "the second step waiting on the held claim",
            30,
            worker,
        )
        queue_db.commit()
        (child,) = worker.children()
        os.kill(child, signal.SIGKILL)  # mid-step: its approvals are never committed
    finally:
        held.rollback()
        holder.close()
    wait_until(
        lambda: _job(queue_db, job_id).status is JobStatus.SUCCEEDED,
        "the job finished by the message delivered again",
        60,
        worker,
    )
    finished = _job(queue_db, job_id)
    assert finished.summary == f"{len(claims)} approved, 0 not approved"
    approvals = dict(
        queue_db.execute(
            select(ClaimEvent.claim_id, func.count())
            .where(ClaimEvent.action == A.TIER_1_APPROVE, ClaimEvent.claim_id.in_(ids))
            .group_by(ClaimEvent.claim_id)
        ).all()
    )
    assert approvals == dict.fromkeys(ids, 1)
    assert queue_db.scalar(
        select(func.count()).select_from(JobItem).where(JobItem.job_id == job_id)
    ) == len(claims)
    queue_db.execute(text("DELETE FROM job_item WHERE job_id = :id"), {"id": job_id})
    queue_db.commit()
