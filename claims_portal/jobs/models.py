"""Runs of scheduled jobs, as the database keeps them (one row a run, visible to admins),
and jobs people start (a bulk approval too big to wait for, an export of a long list), with
their progress."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from claims_portal.db import UTCDateTime, created_at, enum_column, intpk
from claims_portal.extensions import db


class JobOutcome(enum.StrEnum):
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


class JobRun(db.Model):  # type: ignore[name-defined,misc]
    """One run of a scheduled job (``jobs.schedule``): the outbox sweep, the evidence sweep,
    the audit check.

    ``(kind, scheduled_for)`` is unique: the run of one slot of the schedule is claimed by
    inserting its row, so two schedulers (or a trigger sent twice) give one run. The row is
    committed before the work starts (``Running``) and finished after it, so a run whose
    worker died is seen unfinished; the same task delivered again (``task_id``) takes it on.
    """

    __tablename__ = "job_run"
    __table_args__ = (
        Index("ix_job_run_kind_scheduled_for", "kind", "scheduled_for", unique=True),
        Index("ix_job_run_started_at", "started_at"),
        CheckConstraint(
            "(outcome = 'RUNNING') = (finished_at IS NULL)", name="finished_unless_running"
        ),
    )

    id: Mapped[intpk]
    #: The job's name (``audit.verify``, ``mail.sweep-outbox``, ...).
    kind: Mapped[str] = mapped_column(String(60))
    #: The schedule's slot this run is for (UTC): the time it was due.
    scheduled_for: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: The Celery task id of the message that runs it (or ``cli-...`` when run by hand).
    task_id: Mapped[str] = mapped_column(String(155))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[JobOutcome] = mapped_column(
        enum_column(JobOutcome, "job_outcome"), default=JobOutcome.RUNNING
    )
    #: What the job reported (its command's output, or the error).
    detail: Mapped[str | None] = mapped_column(Text)


class JobStatus(enum.StrEnum):
    QUEUED = "Waiting to start"
    RUNNING = "In progress"
    SUCCEEDED = "Finished"
    FAILED = "Failed"


class Job(db.Model):  # type: ignore[name-defined,misc]
    """Work a person started that runs on a worker (a bulk approval of many claims): its
    page (``/jobs/<id>``) shows its progress, then its outcome; the person is told in their
    messages when it ends.

    ``params`` is what to do (JSON); the work is done in steps, each step's items recorded
    in ``job_item`` in the same transaction as their effect, so a job run again after its
    worker died carries on where the last committed step ended (each item done once).
    """

    __tablename__ = "job"
    __table_args__ = (
        Index("ix_job_owner_id", "owner_id", "id"),
        CheckConstraint("done >= 0 AND done <= total", name="done_within_total"),
        CheckConstraint(
            "(status IN ('SUCCEEDED', 'FAILED')) = (finished_at IS NOT NULL)",
            name="finished_when_ended",
        ),
    )

    id: Mapped[intpk]
    #: The job's name in the registry (``claims.bulk-approve``).
    kind: Mapped[str] = mapped_column(String(60))
    #: Who started it: the only person who sees its page.
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    #: The organisation they acted for.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    #: What its page calls it ("Approving 500 claims at tier 1").
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[JobStatus] = mapped_column(
        enum_column(JobStatus, "job_status"), default=JobStatus.QUEUED
    )
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The outcome in a sentence, once ended ("480 approved, 20 not approved").
    summary: Mapped[str | None] = mapped_column(Text)
    #: Where the evidence store keeps the file the job made (an export of a long list,
    #: under ``exports/``), once it has succeeded; cleared when the file expires
    #: (``EXPORT_KEEP_DAYS``). Its owner downloads it at ``/jobs/<id>/file``.
    result_key: Mapped[str | None] = mapped_column(String(512))
    #: The name the file is downloaded under (``claims-2026-12-01.csv``).
    result_filename: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[created_at]
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    @property
    def ended(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)


class JobItem(db.Model):  # type: ignore[name-defined,misc]
    """One item a job has done (a claim approved, or why not), written with its effect."""

    __tablename__ = "job_item"
    __table_args__ = (Index("ix_job_item_job_id_item_id", "job_id", "item_id", unique=True),)

    id: Mapped[intpk]
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"))
    #: The item's own id (a claim's id).
    item_id: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON)
