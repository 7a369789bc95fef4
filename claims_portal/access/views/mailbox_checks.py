"""Shared-mailbox checks shown to the person deciding (access requests, invitations)."""

from __future__ import annotations

from claims_portal.access import bp
from claims_portal.access.services import policy
from claims_portal.service_settings import access_settings


def _names() -> policy.MailboxWords:
    return access_settings().generic_mailbox_names


@bp.app_template_global()
def shared_mailbox_warning(email: str) -> str | None:
    """What the decider should check about ``email``, or ``None``.

    A borderline address (``policy.email_warning``) asks the decider to check; an address
    refused since it was given (the word list grew) says approval will be refused.
    """
    names = _names()
    if policy.email_problem(email, names):
        return (
            f"{email} looks like a shared or team mailbox: this request cannot be approved. "
            "Reject it and ask the person to apply with their own email address."
        )
    return policy.email_warning(email, names)


def invitation_warning(email: str) -> str | None:
    return policy.email_warning(email, _names())
