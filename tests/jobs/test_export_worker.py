"""An export job on a real worker, killed after it stored its file and before it recorded it:
the message comes back, the job writes the file afresh and records that one, and the file the
dead worker left (no row names it) is removed with the rest when export files expire."""

from __future__ import annotations

import datetime as dt
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from claims_portal.claims.evidence import store_from_config
from claims_portal.claims.services import export_job, listing
from claims_portal.db import utcnow
from claims_portal.extensions import db
from claims_portal.jobs import services as jobs
from claims_portal.jobs.models import Job, JobStatus
from tests.claims.helpers import at_tier_1
from tests.factories.claims import claim_scene
from tests.jobs.helpers import Process, start_worker, wait_until

LOCK_WAITS = (
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


@pytest.fixture
def export_worker(
    worker_env, log_dir, redis_prefix, tmp_path
) -> Iterator[tuple[Process, str, Path]]:
    """A worker with one pool process, on a queue of its own, keeping files in a folder of
    this test's own."""
    queue = f"{redis_prefix}export"
    folder = tmp_path / "evidence"
    env = {**worker_env, "JOBS_QUEUE": queue, "EVIDENCE_LOCAL_DIR": str(folder)}
    process = start_worker(env, log_dir / "export.log", concurrency=1)
    wait_until(lambda: len(process.children()) == 1, "the pool", process=process)
    yield process, queue, folder
    process.stop()


def _job(session, job_id: int) -> Job:
    session.expire_all()
    found = session.get(Job, job_id)
    assert found is not None
    return found


def _files(folder: Path) -> list[str]:
    exports = folder / "exports"
    return (
        sorted(p.relative_to(folder).as_posix() for p in exports.rglob("*") if p.is_file())
        if exports.exists()
        else []
    )


def test_a_worker_killed_before_it_recorded_its_file_leaves_one_file_recorded(
    queue_db, queue_app, export_worker
):
    worker, queue, folder = export_worker
    first = claim_scene(two_step=False)
    for _ in range(4):
        at_tier_1(queue_db, claim_scene(two_step=False, icb=first.icb))
    job = export_job.start_export(
        queue_db, first.tier_1, first.icb, listing.parse_filter({}), "csv", at_least=1
    )
    queue_db.info.pop(jobs.PENDING, None)  # sent below, to this test's worker
    queue_db.commit()
    job_id = job.id
    # The rows' query waits on a lock of the scheme table; meanwhile the job's row is locked
    # by another connection, so the worker, once it has stored its file, waits to record it.
    rows_held = db.engine.connect()
    rows_lock = rows_held.begin()
    rows_held.execute(text("LOCK TABLE scheme IN ACCESS EXCLUSIVE MODE"))
    job_held = db.engine.connect()
    job_lock = job_held.begin()
    try:
        queue_app.extensions["celery"].send_task(
            export_job.EXPORT_JOB, kwargs={"job_id": job_id}, queue=queue
        )
        wait_until(lambda: _job(queue_db, job_id).total == 4, "the rows counted", 60, worker)
        wait_until(lambda: queue_db.scalar(text(LOCK_WAITS)), "the rows' query", 30, worker)
        queue_db.commit()
        job_held.execute(text("SELECT id FROM job WHERE id = :id FOR UPDATE"), {"id": job_id})
        rows_lock.rollback()
        wait_until(lambda: _files(folder), "the file stored", 30, worker)
        wait_until(lambda: queue_db.scalar(text(LOCK_WAITS)), "the file's record", 30, worker)
        queue_db.commit()
        (child,) = worker.children()
        os.kill(child, signal.SIGKILL)  # the file stored, its key never recorded
    finally:
        job_lock.rollback()
        job_held.close()
        rows_held.close()
    wait_until(
        lambda: _job(queue_db, job_id).status is JobStatus.SUCCEEDED,
        "the job finished by the message delivered again",
        60,
        worker,
    )
    finished = _job(queue_db, job_id)
    assert finished.summary == "4 rows written"
    assert (finished.done, finished.total) == (4, 4)
    left = _files(folder)
    assert len(left) == 2  # the dead worker's, and the one recorded
    assert finished.result_key in left
    lines = (folder / finished.result_key).read_bytes().decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + 4

    store = store_from_config({"EVIDENCE_STORE": "local", "EVIDENCE_LOCAL_DIR": str(folder)})
    keep = dt.timedelta(days=queue_app.config["EXPORT_KEEP_DAYS"])
    later = utcnow() + keep + dt.timedelta(minutes=1)
    expired = export_job.expire_exports(queue_db, store, keep=keep, now=later)
    queue_db.commit()
    assert sorted(expired.deleted) == left
    assert _files(folder) == []
    assert _job(queue_db, job_id).result_key is None
