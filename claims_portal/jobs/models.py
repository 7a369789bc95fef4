"""Runs of scheduled jobs, as the database keeps them (one row a run, visible to admins)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from claims_portal.db import UTCDateTime, enum_column, intpk
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
