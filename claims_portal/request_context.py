"""What a request carries below the web layer: its id (or a CLI command's), for logs and the
audit trail, and the session key of the organisation chosen."""

from __future__ import annotations

import contextvars
import uuid

#: The session key holding the organisation a person chose to act for (``web.py`` resolves it;
#: the page cache reads it before that, to find a stored page).
CURRENT_ORGANISATION_KEY = "organisation_id"

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "claims_portal_request_id", default=None
)


def new_request_id(prefix: str = "req") -> str:
    request_id = f"{prefix}-{uuid.uuid4().hex}"
    _request_id.set(request_id)
    return request_id


def set_request_id(request_id: str | None) -> None:
    _request_id.set(request_id)


def current_request_id() -> str | None:
    return _request_id.get()
