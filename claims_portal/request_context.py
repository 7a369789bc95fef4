"""The id of the request (or CLI command) being served, for logs and the audit trail."""

from __future__ import annotations

import contextvars
import uuid

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
