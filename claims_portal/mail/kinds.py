"""The kinds of email the portal sends, and whether people may turn each one off.

Later features add kinds here. ``always`` kinds (security and account set-up messages, and
the outcome of a person's own access request) ignore notification preferences. A kind with a
``digest`` heading may instead be gathered into one email a day (``mail.daily-digest``), when
the person chose that (:class:`Delivery`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class EmailKind(enum.StrEnum):
    REGISTRATION_LINK = "registration_link"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - an email kind
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - an email kind
    ACCESS_REQUEST_RECEIVED = "access_request_received"
    ACCESS_REQUEST_DECIDED = "access_request_decided"
    ACCESS_REQUEST_TO_DECIDE = "access_request_to_decide"
    ACCESS_CHANGED = "access_changed"
    CLAIM_TO_APPROVE = "claim_to_approve"
    CLAIM_OUTCOME = "claim_outcome"
    OFFER_TO_PROVIDER = "offer_to_provider"
    OFFER_ANSWERED = "offer_answered"
    SCHEME_CLOSED = "scheme_closed"
    EVIDENCE_QUARANTINED = "evidence_quarantined"
    JOB_FINISHED = "job_finished"
    PAYMENT_STATEMENT = "payment_statement"
    #: A payment file the agency never acknowledged (issue 15): finance must act.
    PAYMENT_FILE_FAILED = "payment_file_failed"
    #: The daily email listing what a person chose to get that way (``mail.daily-digest``).
    DAILY_DIGEST = "daily_digest"


class Delivery(enum.StrEnum):
    """How a person gets email of a kind that may be gathered into the daily email."""

    EACH = "each"
    DIGEST = "digest"
    OFF = "off"


@dataclass(frozen=True)
class KindInfo:
    #: What the person reads on the "Email notifications" page.
    description: str
    #: Sent unless the person turned it off (ignored when ``always``).
    default: bool = True
    #: Sent whatever the preferences say.
    always: bool = False
    #: The heading its items have in the daily email, for a kind people may have gathered
    #: into one email a day instead of one email each (``None``: one email each or none).
    digest: str | None = None
    #: Listed on the "Email notifications" page (the daily email itself is not: it is sent
    #: only to people who chose it for another kind).
    listed: bool = True


KINDS: dict[EmailKind, KindInfo] = {
    EmailKind.REGISTRATION_LINK: KindInfo("Links to set up your account", always=True),
    EmailKind.PASSWORD_RESET: KindInfo("Password reset links", always=True),
    EmailKind.PASSWORD_CHANGED: KindInfo("Your password was changed", always=True),
    EmailKind.ACCESS_REQUEST_RECEIVED: KindInfo(
        "Confirmation that your access request was received", always=True
    ),
    EmailKind.ACCESS_REQUEST_DECIDED: KindInfo("The decision on your access request", always=True),
    EmailKind.ACCESS_REQUEST_TO_DECIDE: KindInfo(
        "A new access request is waiting for your decision"
    ),
    EmailKind.ACCESS_CHANGED: KindInfo(
        "Your access to an organisation was given or removed by an administrator"
    ),
    EmailKind.CLAIM_TO_APPROVE: KindInfo(
        "A claim is waiting for your approval", digest="Claims waiting for your approval"
    ),
    EmailKind.CLAIM_OUTCOME: KindInfo(
        "A claim of your organisation was approved for payment, declined or returned"
    ),
    EmailKind.OFFER_TO_PROVIDER: KindInfo(
        "A scheme was offered to your organisation, or its offer withdrawn, cancelled or reissued"
    ),
    EmailKind.OFFER_ANSWERED: KindInfo(
        "A provider rejected a scheme's offer, or asked for it again"
    ),
    EmailKind.SCHEME_CLOSED: KindInfo(
        "A scheme your organisation has claims in progress under was closed"
    ),
    # A security event: the administrators are told whatever their preferences.
    EmailKind.EVIDENCE_QUARANTINED: KindInfo(
        "A file uploaded to one of your ICB's claims was quarantined by the virus check",
        always=True,
    ),
    EmailKind.JOB_FINISHED: KindInfo("Work you started, such as a bulk approval, has finished"),
    EmailKind.PAYMENT_STATEMENT: KindInfo("Your organisation's monthly payment statement is ready"),
    # Money may not reach practices: finance is told whatever their preferences.
    EmailKind.PAYMENT_FILE_FAILED: KindInfo(
        "A payment file of your ICB was not acknowledged by the payments agency", always=True
    ),
    EmailKind.DAILY_DIGEST: KindInfo(
        "The daily email listing what you chose to get once a day", always=True, listed=False
    ),
}

#: The kinds people may have gathered into the daily email.
DIGEST_KINDS = tuple(kind for kind, info in KINDS.items() if info.digest)
