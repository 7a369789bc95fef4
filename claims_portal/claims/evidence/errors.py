"""Exceptions raised by the evidence-file subsystem.

Every message is written for practice staff: plain English, saying what is wrong and, where
possible, what to do. Technical detail travels in ``__cause__`` and the logs, never in the
message shown on a page.
"""

from __future__ import annotations

from enum import StrEnum


class RejectionCode(StrEnum):
    """Why an upload was refused, for audit records and tests (the message is for people)."""

    EMPTY = "empty"
    TOO_LARGE = "too-large"
    TYPE_NOT_ALLOWED = "type-not-allowed"
    CONTENT_MISMATCH = "content-mismatch"
    DAMAGED = "damaged"
    MACROS = "macros"
    ACTIVE_CONTENT = "active-content"
    PASSWORD_PROTECTED = "password-protected"  # noqa: S105 - a reason code, not a password
    ZIP_BOMB = "zip-bomb"
    VIRUS = "virus"
    PATIENT_DATA = "patient-data"


class EvidenceError(Exception):
    """Base class for every error of the evidence subsystem."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class EvidenceRejected(EvidenceError):
    """An uploaded file is refused; ``reason`` says why in plain words, ``code`` for machines."""

    def __init__(self, code: RejectionCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason

    def __repr__(self) -> str:
        return f"EvidenceRejected({self.code.value!r}, {self.reason!r})"


class EvidenceStorageError(EvidenceError):
    """The evidence store failed (unreachable, refused, misconfigured); safe to show."""


class EvidenceNotFound(EvidenceStorageError):
    """No stored object has this key (a view turns this into 404)."""
