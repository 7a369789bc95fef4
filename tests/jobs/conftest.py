"""The queue's tests: a database of their own whose work really commits (a worker process
cannot see a test's savepoint), the machine's Redis, and a real Celery worker."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from claims_portal.extensions import db
from tests.helpers import migrated_app
from tests.jobs.helpers import (
    REDIS_URL,
    Process,
    forget_keys,
    process_env,
    redis_problem,
    start_worker,
    wait_until,
)


@pytest.fixture(scope="session")
def redis_prefix() -> Iterator[str]:
    if problem := redis_problem():
        pytest.fail(problem, pytrace=False)
    prefix = f"claims-portal-test-{os.getpid()}:"
    yield prefix
    forget_keys(prefix)


@pytest.fixture(scope="session")
def queue_app(redis_prefix: str) -> Iterator[Flask]:
    """An app on its own committed database that hands jobs to the queue (not in
    process): its queue and Redis keys are this run's own."""
    with migrated_app(
        "_jobs",
        JOBS_RUN_IN_PROCESS=False,
        CELERY_BROKER_URL=REDIS_URL,
        JOBS_QUEUE=f"{redis_prefix}jobs",
        JOBS_KEY_PREFIX=redis_prefix,
    ) as application:
        yield application


@pytest.fixture(scope="session")
def worker_env(queue_app: Flask, smtp_server: Any, redis_prefix: str) -> dict[str, str]:
    return process_env(
        queue_app.config["SQLALCHEMY_DATABASE_URI"],
        queue_app.config["MIGRATION_DATABASE_URL"],
        CELERY_BROKER_URL=REDIS_URL,
        JOBS_QUEUE=queue_app.config["JOBS_QUEUE"],
        JOBS_KEY_PREFIX=redis_prefix,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_server.port,
    )


@pytest.fixture(scope="session")
def worker(
    worker_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Process]:
    """A real ``celery worker`` (two processes) on the run's queue, for the whole session."""
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    process = start_worker(worker_env, log)
    wait_until(lambda: len(process.children()) == 2, "the worker's pool", process=process)
    yield process
    process.stop()


@pytest.fixture
def queue_db(queue_app: Flask) -> Iterator[Any]:
    """The queue app's session in an app context; the rows the test committed are removed
    afterwards."""
    with queue_app.app_context():
        yield db.session
        db.session.rollback()
        db.session.execute(text("DELETE FROM email_message"))
        db.session.execute(text("DELETE FROM job_run"))
        db.session.commit()


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    return tmp_path
