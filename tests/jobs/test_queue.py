"""The queue's behaviour with a real worker (subprocess) against the real Redis: jobs
handed over after commit only, email delivered once, a worker killed half-way, one run
of a scheduled job however many times it is triggered."""

from __future__ import annotations

import datetime as dt
import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import func, select, text

from claims_portal.jobs import services as jobs
from claims_portal.jobs.models import JobOutcome, JobRun
from claims_portal.mail import services as mail
from claims_portal.mail.kinds import EmailKind
from claims_portal.mail.models import EmailMessage, EmailStatus
from tests.jobs.helpers import (
    HoldingMailbox,
    Process,
    start_scheduler,
    start_worker,
    wait_until,
)
from tests.smtp_fixtures import free_port


def _queue_email(session: Any, to: str) -> int:
    message = mail.enqueue(
        session, to=to, subject=f"Hello {to}", body="Body", kind=EmailKind.PASSWORD_RESET
    )
    assert message is not None
    return message.id


def _insert_unannounced(session: Any, to: str) -> int:
    """An outbox row committed without any job asking for it (as if its job was lost)."""
    message_id = session.scalar(
        text(
            "INSERT INTO email_message (recipient, subject, body, kind, status, attempts,"
            " created_at) VALUES (:to, :subject, 'Body', 'password_reset', 'QUEUED', 0, now())"
            " RETURNING id"
        ),
        {"to": to, "subject": f"Hello {to}"},
    )
    session.commit()
    return int(message_id)


def _status(session: Any, message_id: int) -> EmailMessage:
    session.expire_all()
    message = session.get(EmailMessage, message_id)
    session.commit()
    return message


def _celery(app: Flask) -> Any:
    return app.extensions["celery"]


def test_an_email_is_delivered_once_by_the_worker(queue_db, queue_app, worker, mailbox):
    message_id = _queue_email(queue_db, "aisha.rahman@nhs.net")
    queue_db.commit()  # handed to the queue now
    arrived = mailbox.wait_for("aisha.rahman@nhs.net", "Hello", timeout=30)
    assert arrived["X-Claims-Portal-Message"] == str(message_id)
    wait_until(lambda: _status(queue_db, message_id).status is EmailStatus.SENT, "SENT")
    # The same job delivered again (a broker redelivery, a sweep) sends nothing more.
    for _ in range(2):
        _celery(queue_app).send_task(
            "mail.deliver", kwargs={"ids": [message_id]}, queue=queue_app.config["JOBS_QUEUE"]
        )
    marker = _queue_email(queue_db, "marker@nhs.net")
    queue_db.commit()
    mailbox.wait_for("marker@nhs.net", "Hello", timeout=30)
    wait_until(lambda: _status(queue_db, marker).status is EmailStatus.SENT, "marker SENT")
    assert len(mailbox.to("aisha.rahman@nhs.net")) == 1
    message = _status(queue_db, message_id)
    assert message.attempts == 1
    assert message.claimed_by is None


def test_a_job_asked_for_in_a_rolled_back_transaction_never_runs(queue_db, worker, mailbox):
    waiting = _insert_unannounced(queue_db, "never@nhs.net")
    # Deliver the committed row: asked for, then rolled back.
    jobs.enqueue_ids(queue_db, "mail.deliver", [waiting])
    _queue_email(queue_db, "rolled-back@nhs.net")
    queue_db.rollback()
    # A later transaction's job, committed, runs: the queue and the worker are working.
    marker = _queue_email(queue_db, "marker@nhs.net")
    queue_db.commit()
    mailbox.wait_for("marker@nhs.net", "Hello", timeout=30)
    wait_until(lambda: _status(queue_db, marker).status is EmailStatus.SENT, "marker SENT")
    assert _status(queue_db, waiting).status is EmailStatus.QUEUED
    assert mailbox.to("never@nhs.net") == []
    assert mailbox.to("rolled-back@nhs.net") == []
    assert queue_db.scalar(select(func.count()).select_from(EmailMessage)) == 2


def test_the_outbox_sweep_delivers_what_no_job_asked_for(queue_db, queue_app, worker, mailbox):
    lost = _insert_unannounced(queue_db, "lost-job@nhs.net")
    _celery(queue_app).send_task(
        "mail.sweep-outbox", kwargs={}, queue=queue_app.config["JOBS_QUEUE"]
    )
    mailbox.wait_for("lost-job@nhs.net", "Hello", timeout=30)
    wait_until(lambda: _status(queue_db, lost).status is EmailStatus.SENT, "SENT")
    run = queue_db.scalars(select(JobRun).where(JobRun.kind == "mail.sweep-outbox")).one()
    assert run.outcome is JobOutcome.SUCCEEDED
    assert run.detail == "1 message(s) handed to mail.deliver"


def test_two_triggers_of_one_slot_make_one_run(queue_db, queue_app, worker):
    slot = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC).isoformat()
    for _ in range(2):  # two schedulers, or one trigger delivered twice, at once
        _celery(queue_app).send_task(
            "mail.sweep-outbox",
            kwargs={"scheduled_for": slot},
            queue=queue_app.config["JOBS_QUEUE"],
        )
    later = dt.datetime(2026, 12, 1, 3, 5, tzinfo=dt.UTC).isoformat()
    _celery(queue_app).send_task(
        "mail.sweep-outbox", kwargs={"scheduled_for": later}, queue=queue_app.config["JOBS_QUEUE"]
    )

    def finished() -> list[JobRun]:
        queue_db.expire_all()
        runs = list(queue_db.scalars(select(JobRun).order_by(JobRun.scheduled_for)))
        queue_db.commit()
        return runs if all(r.outcome is not JobOutcome.RUNNING for r in runs) else []

    wait_until(lambda: len(finished()) == 2, "two runs")
    # Both messages for the first slot were taken by the two pool processes by now (the
    # later slot's message was sent after them); still one run per slot.
    runs = finished()
    assert [r.scheduled_for.isoformat() for r in runs] == [slot, later]
    assert {r.outcome for r in runs} == {JobOutcome.SUCCEEDED}


# --- A worker killed half-way ----------------------------------------------------------------


@pytest.fixture
def holding_smtp() -> Iterator[tuple[HoldingMailbox, int]]:
    handler = HoldingMailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    handler.release()
    controller.stop()


@pytest.fixture
def lone_worker(worker_env, holding_smtp, log_dir, redis_prefix) -> Iterator[Process]:
    """A worker with one pool process, on a queue of its own, mailing the holding server."""
    _handler, port = holding_smtp
    env = {**worker_env, "MAIL_PORT": str(port), "JOBS_QUEUE": f"{redis_prefix}lone"}
    process = start_worker(env, log_dir / "lone.log", concurrency=1)
    wait_until(lambda: len(process.children()) == 1, "the pool", process=process)
    yield process
    process.stop()


def _kill_the_pool_process(worker: Process) -> int:
    (child,) = worker.children()
    os.kill(child, signal.SIGKILL)
    wait_until(lambda: worker.children() not in ([], [child]), "a new pool process", process=worker)
    return child


def _deliver_on(app: Flask, queue: str, message_id: int) -> None:
    _celery(app).send_task("mail.deliver", kwargs={"ids": [message_id]}, queue=queue)


def test_a_worker_killed_before_the_server_accepted_delivers_once_when_retried(
    queue_db, queue_app, lone_worker, holding_smtp, redis_prefix
):
    handler, _port = holding_smtp
    handler.hold_at = "rcpt"
    message_id = _insert_unannounced(queue_db, "killed@nhs.net")
    _deliver_on(queue_app, f"{redis_prefix}lone", message_id)
    wait_until(lambda: handler.holding, "the SMTP exchange", process=lone_worker)
    # Marked before the exchange, committed: whoever looks sees it being sent.
    held = _status(queue_db, message_id)
    assert held.status is EmailStatus.SENDING
    assert held.claimed_by is not None
    _kill_the_pool_process(lone_worker)
    handler.release()
    # The message goes back to the queue (acknowledged late, rejected when its worker was
    # lost); the same task takes its SENDING row back at once and delivers it.
    wait_until(
        lambda: _status(queue_db, message_id).status is EmailStatus.SENT,
        "SENT after the retry",
        process=lone_worker,
    )
    assert len(handler.messages) == 1
    message = _status(queue_db, message_id)
    assert message.attempts == 2
    assert message.claimed_by is None


def test_a_worker_killed_after_the_server_accepted_sends_at_most_one_duplicate(
    queue_db, queue_app, lone_worker, holding_smtp, redis_prefix
):
    handler, _port = holding_smtp
    handler.hold_at = "data"
    message_id = _insert_unannounced(queue_db, "accepted@nhs.net")
    _deliver_on(queue_app, f"{redis_prefix}lone", message_id)
    wait_until(lambda: handler.holding, "the server's answer", process=lone_worker)
    _kill_the_pool_process(lone_worker)
    handler.release()
    wait_until(
        lambda: _status(queue_db, message_id).status is EmailStatus.SENT,
        "SENT after the retry",
        process=lone_worker,
    )
    # Accepted once before the kill and once by the retry: one duplicate, nothing lost.
    assert len(handler.messages) == 2
    assert _status(queue_db, message_id).attempts == 2


# --- Two schedulers ---------------------------------------------------------------------------


def test_two_schedulers_give_one_run_per_slot(queue_db, worker_env, worker, log_dir):
    env = {**worker_env, "JOBS_SCHEDULE": "mail.sweep-outbox=every 2 seconds"}
    schedulers = [
        start_scheduler(env, log_dir / f"beat-{n}.log", log_dir / f"beat-{n}.state") for n in (1, 2)
    ]
    try:

        def sent() -> list[int]:
            return [s.output().count("Sending due task mail.sweep-outbox") for s in schedulers]

        wait_until(lambda: min(sent()) >= 3, "both schedulers sending", timeout=45)
    finally:
        for scheduler in schedulers:
            scheduler.stop()
    sends = sent()

    def settled() -> list[JobRun]:
        queue_db.expire_all()
        runs = list(queue_db.scalars(select(JobRun).where(JobRun.kind == "mail.sweep-outbox")))
        queue_db.commit()
        return runs if all(r.outcome is not JobOutcome.RUNNING for r in runs) else []

    runs = wait_until(settled, "the runs to finish")
    slots = [r.scheduled_for for r in runs]
    assert len(slots) == len(set(slots))
    # Each scheduler sent every slot; the runs are one per slot, not one per message.
    assert len(runs) <= max(sends) + 1
    assert sum(sends) > len(runs)
    assert {r.outcome for r in runs} == {JobOutcome.SUCCEEDED}
    assert all(s.timestamp() % 2 == 0 for s in slots)


def test_a_whole_worker_killed_mid_job_is_redelivered_to_the_next_worker(
    queue_db, queue_app, worker_env, holding_smtp, log_dir, redis_prefix
):
    """The worker and its pool killed at once (a host lost, an OOM kill): the message,
    taken but never acknowledged, goes to a worker started later, once the visibility
    timeout has passed; the same task takes its row back and delivers it."""
    handler, port = holding_smtp
    env = {
        **worker_env,
        "MAIL_PORT": str(port),
        "JOBS_QUEUE": f"{redis_prefix}vanishing",
        "JOBS_VISIBILITY_TIMEOUT_SECONDS": "3",
    }
    first = start_worker(env, log_dir / "first.log", concurrency=1)
    handler.hold_at = "rcpt"
    message_id = _insert_unannounced(queue_db, "vanished@nhs.net")
    _deliver_on(queue_app, f"{redis_prefix}vanishing", message_id)
    try:
        wait_until(lambda: handler.holding, "the SMTP exchange", process=first)
    finally:
        os.killpg(first.popen.pid, signal.SIGKILL)
        first.popen.wait(timeout=10)
        first.stop()
    handler.release()
    assert _status(queue_db, message_id).status is EmailStatus.SENDING
    second = start_worker(env, log_dir / "second.log", concurrency=1)
    try:
        wait_until(
            lambda: _status(queue_db, message_id).status is EmailStatus.SENT,
            "SENT by the next worker",
            timeout=60,
            process=second,
        )
    finally:
        second.stop()
    assert len(handler.messages) == 1
    assert _status(queue_db, message_id).attempts == 2
