"""Access pages, one module per area; importing this package attaches them to ``bp``."""

from __future__ import annotations

from claims_portal.access.views import account, mailbox_checks, people, requests, sign_in
from claims_portal.access.views._common import install

__all__ = [
    "account",
    "install",
    "mailbox_checks",
    "people",
    "requests",
    "sign_in",
]
