"""Logs: one line per event on standard output, JSON in production (``LOG_FORMAT``).

Every line carries the time (UTC), level, logger, message, and the request id, user id and
organisation id of the request it belongs to (``request_context``; ids only, never an
email address or a name), or the job id of the command run as a job. Each request also gets
one access line (logger ``claims_portal.requests``): its route (the URL rule, with
placeholders instead of ids), endpoint, method, status and duration in milliseconds. The
fields are listed in ``docs/operations.md``.

Email addresses are kept out at the source (log the outbox row id or the user id); as a
safety net, the formatters also blank anything shaped like one, such as an address quoted by
an SMTP server in an exception's message.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import sys
import time
from collections.abc import Callable
from typing import IO, Any, ParamSpec, TypeVar

from flask import Flask, g, request, request_finished, request_started
from pythonjsonlogger.json import JsonFormatter

from claims_portal import request_context

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMATS = ("json", "text")
#: The logger of the one access line per request.
ACCESS_LOGGER = "claims_portal.requests"
#: Each line's context, from ``request_context`` (``job_id`` only when set).
CONTEXT_FIELDS = ("request_id", "user_id", "organisation_id", "job_id")

_EMAIL_ADDRESS = re.compile(r"[^\s@<>()\[\]{}'\",;:]+@[^\s@<>()\[\]{}'\",;:]+\.[A-Za-z]{2,}")
_REDACTED = "[email address]"

log = logging.getLogger(__name__)
access_log = logging.getLogger(ACCESS_LOGGER)

P = ParamSpec("P")
R = TypeVar("R")


def without_email_addresses(text: str) -> str:
    """``text`` with anything shaped like an email address replaced."""
    return _EMAIL_ADDRESS.sub(_REDACTED, text)


class _Context(logging.Filter):
    """Adds the request's (or job's) context to every record the handler writes."""

    def filter(self, record: logging.LogRecord) -> bool:
        user_id, organisation_id = request_context.acting()
        context = {
            "request_id": request_context.current_request_id(),
            "user_id": user_id,
            "organisation_id": organisation_id,
            "job_id": request_context.current_job_id(),
        }
        for name, value in context.items():
            # A value given with ``extra=`` (the access line's) is kept.
            if value is not None and not hasattr(record, name):
                setattr(record, name, value)
        return True


class JsonLogFormatter(JsonFormatter):
    """One JSON object per line: the fixed fields first, then what ``extra=`` gave."""

    def __init__(self) -> None:
        super().__init__([], json_ensure_ascii=False)
        self._skip_fields.update({"message", *CONTEXT_FIELDS})

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["time"] = dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(
            timespec="milliseconds"
        )
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.message
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None or name != "job_id":
                log_data[name] = value
        super().add_fields(log_data, record, message_dict)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {
            key: without_email_addresses(value) if isinstance(value, str) else value
            for key, value in log_data.items()
        }


class TextLogFormatter(logging.Formatter):
    """A line for people (``LOG_FORMAT=text``, ``make run``): time, level, logger, request or
    job id, message."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s%(job_id)s] %(message)s",
            defaults={"request_id": "", "job_id": ""},
        )

    def format(self, record: logging.LogRecord) -> str:
        return without_email_addresses(super().format(record))


class _StandardOutput(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stdout`` is when a line is written (as ``logging``'s last
    resort does with standard error), so a test capturing it reads the lines."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> IO[str]:
        return sys.stdout

    @stream.setter
    def stream(self, _value: IO[str]) -> None:
        pass


def configure(level: str, log_format: str) -> None:
    """Send every logger's lines at ``level`` and above to standard output, formatted as
    ``log_format`` (``json`` or ``text``). Calling it again replaces the portal's handler.

    Raises ValueError for a level or format not in :data:`LEVELS` or :data:`FORMATS`."""
    if level.upper() not in LEVELS:
        raise ValueError(f"LOG_LEVEL must be one of {', '.join(LEVELS)}, not {level!r}")
    if log_format.lower() not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be json or text, not {log_format!r}")
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StandardOutput)]:
        root.removeHandler(handler)
    handler = _StandardOutput()
    handler.addFilter(_Context())
    formatter = JsonLogFormatter() if log_format.lower() == "json" else TextLogFormatter()
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Python's warnings (a library's, such as Celery's about running as root) become log
    # lines too (logger ``py.warnings``), so that everything on standard output is JSON.
    logging.captureWarnings(True)


def as_job(kind: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run a command as a job of ``kind``: its log lines carry a job id, and it logs when it
    starts and how it ended (with its duration). Put it under the ``click`` decorators."""

    def decorate(command: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(command)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            with request_context.job(kind):
                started = time.perf_counter()
                log.info("job %s started", kind, extra={"job": kind})
                outcome = "failed"
                try:
                    result = command(*args, **kwargs)
                    outcome = "succeeded"
                    return result
                except SystemExit as exit_:
                    outcome = "succeeded" if exit_.code in (None, 0) else f"exited {exit_.code}"
                    raise
                finally:
                    log.info(
                        "job %s %s",
                        kind,
                        outcome,
                        extra={"job": kind, "outcome": outcome, "duration_ms": _since(started)},
                    )
                    from claims_portal import metrics  # the application's, loaded by now

                    metrics.job_finished(kind, outcome, time.perf_counter() - started)

        return run

    return decorate


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


# --- The access line ------------------------------------------------------------------------

_STARTED = "log_request_started"


def _request_started(_sender: Flask, **_extra: Any) -> None:
    setattr(g, _STARTED, time.perf_counter())


def _request_finished(_sender: Flask, response: Any, **_extra: Any) -> None:
    started = g.get(_STARTED)
    rule = request.url_rule
    route = rule.rule if rule is not None else None
    status = response.status_code
    user_id, organisation_id = request_context.acting()
    duration = _since(started) if started is not None else None
    access_log.info(
        "%s %s %s in %s ms",
        request.method,
        route or "(no route)",
        status,
        duration,
        extra={
            "request_id": request_context.current_request_id(),
            "user_id": user_id,
            "organisation_id": organisation_id,
            "route": route,
            "endpoint": request.endpoint,
            "method": request.method,
            "status": status,
            "duration_ms": duration,
        },
    )


def init_app(app: Flask) -> None:
    """Configure logging from ``LOG_LEVEL`` and ``LOG_FORMAT``, and log each request."""
    configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    request_started.connect(_request_started, app)
    request_finished.connect(_request_finished, app)
