"""The Celery application, made from the Flask app's configuration (one per Flask app).

Tasks are the registered jobs (``jobs.registry``), each run inside an app context.
Acknowledged late and rejected (so delivered again) when the worker running them dies:
with jobs idempotent by design, a worker killed mid-way costs a rerun, never a lost job.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from celery.signals import worker_process_init
from flask import Flask

from claims_portal.jobs.registry import JOBS, execute
from claims_portal.jobs.schedule import parse_schedule


def broker_url(config: Any) -> str | None:
    return config.get("CELERY_BROKER_URL") or config.get("REDIS_URL")


def make_celery(app: Flask) -> Celery:
    config = app.config

    class AppTask(Task):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return super().__call__(*args, **kwargs)

    celery = Celery(app.import_name, task_cls=AppTask, set_as_current=False)
    visibility = int(config["JOBS_VISIBILITY_TIMEOUT_SECONDS"])
    transport: dict[str, Any] = {
        # A message a vanished worker took comes back after this (Redis keeps it unacked).
        "visibility_timeout": visibility,
        # Workers look for such messages every third of it (at most a minute), not kombu's
        # 100 seconds, so a short timeout is honoured.
        "unacked_restore_interval": max(1, min(60, visibility // 3)),
        "unacked_restore_throttle": 1,
    }
    if config.get("JOBS_KEY_PREFIX"):
        transport["global_keyprefix"] = config["JOBS_KEY_PREFIX"]
    celery.conf.update(
        broker_url=broker_url(config) or "memory://",
        broker_transport_options=transport,
        broker_connection_retry_on_startup=True,
        task_default_queue=config["JOBS_QUEUE"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.5,
            "interval_max": 1,
        },
        worker_prefetch_multiplier=1,
        # Our logging (claims_portal.logs) stays as the app set it up, and standard output
        # stays the stream it writes to (redirected, its lines would be lost in a loop).
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        timezone="Europe/London",
        enable_utc=True,
        beat_schedule=beat_schedule(config),
    )
    for spec in JOBS.values():
        celery.task(name=spec.name, bind=True)(_task_body(spec.name, app))

    @worker_process_init.connect(weak=False)
    def _fresh_connections(**_: Any) -> None:
        # A forked worker process must not share the parent's database connections.
        from claims_portal.extensions import db

        with app.app_context():
            db.engine.dispose(close=False)

    return celery


def _task_body(name: str, app: Flask) -> Any:
    def run(task: Task, **kwargs: Any) -> Any:
        return execute(name, kwargs, task.request.id, app.config)

    run.__name__ = name.replace(".", "_").replace("-", "_")
    return run


def beat_schedule(config: Any) -> dict[str, dict[str, Any]]:
    """Celery beat's entries from ``JOBS_SCHEDULE``."""
    scheduled = {name for name, spec in JOBS.items() if spec.scheduled}
    return {
        kind: {"task": kind, "schedule": when.beat(), "options": {"queue": config["JOBS_QUEUE"]}}
        for kind, when in parse_schedule(config["JOBS_SCHEDULE"], scheduled).items()
    }
