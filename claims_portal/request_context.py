"""What a request carries below the web layer: its id (or a CLI command's), for logs and the
audit trail; who is acting, for logs; the id of a job being run; and the session key of the
organisation chosen.

Context variables, so that services, the audit module and the log formatter
(``claims_portal/logs.py``) read them without the request.
"""

from __future__ import annotations

import contextvars
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

#: The session key holding the organisation a person chose to act for (``web.py`` resolves it;
#: the page cache reads it before that, to find a stored page).
CURRENT_ORGANISATION_KEY = "organisation_id"

#: An ``X-Request-ID`` given by a client or a proxy is kept only if it looks like this (it is
#: written to logs and the audit trail, whose column holds 64 characters).
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{8,64}")

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "claims_portal_request_id", default=None
)
#: The signed-in person's user id and the organisation they act for (ids only: logs never
#: carry an email address or a name).
_acting: contextvars.ContextVar[tuple[int | None, int | None]] = contextvars.ContextVar(
    "claims_portal_acting", default=(None, None)
)
_job_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "claims_portal_job_id", default=None
)


def new_request_id(prefix: str = "req") -> str:
    request_id = f"{prefix}-{uuid.uuid4().hex}"
    _request_id.set(request_id)
    return request_id


def adopt_request_id(given: str | None) -> str:
    """The request's id: ``given`` (an incoming ``X-Request-ID``) when it matches
    :data:`SAFE_REQUEST_ID`, else a new one."""
    if given is not None and SAFE_REQUEST_ID.fullmatch(given):
        _request_id.set(given)
        return given
    return new_request_id()


def set_request_id(request_id: str | None) -> None:
    _request_id.set(request_id)


def current_request_id() -> str | None:
    return _request_id.get()


def set_acting(user_id: int | None, organisation_id: int | None) -> None:
    """Record who the request acts as (``web.py``, once the person is known)."""
    _acting.set((user_id, organisation_id))


def acting() -> tuple[int | None, int | None]:
    """The acting user id and organisation id, each ``None`` when there is none."""
    return _acting.get()


def current_job_id() -> str | None:
    return _job_id.get()


@contextmanager
def job(kind: str) -> Iterator[str]:
    """Run the block as one job of ``kind`` (``mail.send-queued``): every log line inside
    carries its id, ``<kind>-<12 hex digits>``, which this yields."""
    job_id = f"{kind}-{uuid.uuid4().hex[:12]}"
    token = _job_id.set(job_id)
    try:
        yield job_id
    finally:
        _job_id.reset(token)


def forget() -> None:
    """The request is over: nothing of it is left for the next one on this thread."""
    _request_id.set(None)
    _acting.set((None, None))
