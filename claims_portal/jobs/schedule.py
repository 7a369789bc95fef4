"""The schedule of the scheduler (``JOBS_SCHEDULE``) and the slot each run belongs to.

``JOBS_SCHEDULE`` is one setting, entries separated by ``;``, each ``KIND=WHEN`` where WHEN
is ``daily at HH:MM`` (England's wall clock, GMT or BST: Celery beat runs in Europe/London)
or ``every N seconds|minutes|hours`` (aligned to the epoch, so every scheduler started
anywhere fires at the same instants). An empty WHEN (``audit.verify=``) takes the entry out.

A run's slot is the latest instant of its schedule at or before the moment it starts; the
slot is what makes a run unique (``job_run``), so two schedulers, or one trigger delivered
twice, give one run per slot.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from celery.schedules import crontab, schedstate, schedule

from claims_portal.clock import ENGLAND

#: The schedule when ``JOBS_SCHEDULE`` is not set (docs/operations.md lists it).
DEFAULT_SCHEDULE = (
    "mail.sweep-outbox=every 5 minutes; jobs.sweep=every 5 minutes; "
    "claims.sweep-evidence=daily at 02:00; "
    "audit.verify=daily at 03:00; mail.daily-digest=daily at 07:00; "
    "payments.statements=daily at 06:00; "
    "payments.run=daily at 15:00; payments.answers=daily at 16:00"
)

_EVERY = re.compile(r"^every\s+(\d+)\s+(second|minute|hour)s?$")
_DAILY = re.compile(r"^daily\s+at\s+([01]\d|2[0-3]):([0-5]\d)$")
_UNITS = {"second": 1, "minute": 60, "hour": 3600}


class ScheduleError(ValueError):
    """``JOBS_SCHEDULE`` could not be read; the message says which entry and why."""


@dataclass(frozen=True)
class Every:
    """Every ``seconds``, at the multiples of it since the epoch."""

    seconds: int

    def slot(self, moment: dt.datetime) -> dt.datetime:
        stamp = int(moment.timestamp()) // self.seconds * self.seconds
        return dt.datetime.fromtimestamp(stamp, dt.UTC)

    def beat(self) -> Any:
        return AlignedEvery(self.seconds)

    def __str__(self) -> str:
        return f"every {self.seconds} seconds"


@dataclass(frozen=True)
class DailyAt:
    """Once a day at ``hour``:``minute`` in England."""

    hour: int
    minute: int

    def slot(self, moment: dt.datetime) -> dt.datetime:
        local = moment.astimezone(ENGLAND)
        day = local.date()
        at = dt.time(self.hour, self.minute)
        candidate = dt.datetime.combine(day, at, tzinfo=ENGLAND)
        if candidate > local:
            candidate = dt.datetime.combine(day - dt.timedelta(days=1), at, tzinfo=ENGLAND)
        return candidate.astimezone(dt.UTC)

    def beat(self) -> Any:
        return crontab(hour=self.hour, minute=self.minute)

    def __str__(self) -> str:
        return f"daily at {self.hour:02}:{self.minute:02}"


When = Every | DailyAt


def parse_when(text: str) -> When:
    """``daily at 02:30`` or ``every 5 minutes``; raises :class:`ScheduleError`."""
    words = " ".join(text.lower().split())
    if match := _DAILY.match(words):
        return DailyAt(int(match.group(1)), int(match.group(2)))
    if match := _EVERY.match(words):
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
        if seconds <= 0:
            raise ScheduleError(f"{text!r}: the interval must be more than 0")
        return Every(seconds)
    raise ScheduleError(f"{text!r} is neither 'daily at HH:MM' nor 'every N minutes'")


def parse_schedule(text: str, known: set[str] | None = None) -> dict[str, When]:
    """``JOBS_SCHEDULE`` read into kind -> when; raises :class:`ScheduleError` naming the
    entry that is wrong (an unknown kind, when ``known`` is given)."""
    entries: dict[str, When] = {}
    for raw in text.split(";"):
        entry = raw.strip()
        if not entry:
            continue
        kind, sep, when = (part.strip() for part in entry.partition("="))
        if not sep or not kind:
            raise ScheduleError(f"JOBS_SCHEDULE entry {entry!r} is not KIND=WHEN")
        if known is not None and kind not in known:
            raise ScheduleError(
                f"JOBS_SCHEDULE names {kind!r}, not a scheduled job ({', '.join(sorted(known))})"
            )
        if not when:
            entries.pop(kind, None)
            continue
        try:
            entries[kind] = parse_when(when)
        except ScheduleError as exc:
            raise ScheduleError(f"JOBS_SCHEDULE entry for {kind}: {exc}") from None
    return entries


class AlignedEvery(schedule):  # type: ignore[misc]
    """Celery beat's schedule for :class:`Every`: due at each multiple of ``seconds`` since
    the epoch (Celery's own interval counts from the scheduler's start, so two schedulers
    would fire at different instants and their runs fall in different slots)."""

    def __init__(self, seconds: int, nowfun: Any = None, app: Any = None) -> None:
        self.period = seconds
        super().__init__(run_every=dt.timedelta(seconds=seconds), nowfun=nowfun, app=app)

    def is_due(self, last_run_at: dt.datetime) -> Any:
        now = self.now().timestamp()
        if last_run_at.tzinfo is None:
            last_run_at = last_run_at.replace(tzinfo=dt.UTC)
        next_in = self.period - (now % self.period)
        due = int(now // self.period) > int(last_run_at.timestamp() // self.period)
        return schedstate(due, next_in)

    def __reduce__(self) -> Any:
        return self.__class__, (self.period, self.nowfun)

    def __repr__(self) -> str:
        return f"<aligned every {self.period}s>"
