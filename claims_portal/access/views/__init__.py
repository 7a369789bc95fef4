"""Access pages, one module per area; importing this package attaches them to ``bp``."""

from __future__ import annotations

from claims_portal.access.views import account, mailbox_checks, people, requests, sign_in
from claims_portal.access.views._common import install

#: Endpoints anyone may reach without signing in (the convention tests read this).
PUBLIC_ENDPOINTS = sign_in.PUBLIC_ENDPOINTS | requests.PUBLIC_ENDPOINTS

__all__ = [
    "PUBLIC_ENDPOINTS",
    "account",
    "install",
    "mailbox_checks",
    "people",
    "requests",
    "sign_in",
]
