"""The claims transition table: every allowed (status, action), the capability it needs,
whether a reason is required and where it leads; the audit verbs of the steps. Read by
``lifecycle.transition`` (the one way a status changes) and drawn in docs/architecture.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from claims_portal.access.roles import Capability
from claims_portal.claims.models import ClaimAction, ClaimStatus

S = ClaimStatus
A = ClaimAction

#: Commissioner approvals: one person may give only one of them on a claim.
COMMISSIONER_APPROVALS = frozenset({A.TIER_1_APPROVE, A.TIER_2_APPROVE, A.FINANCE_APPROVE})
#: Approvals the creator or submitter of a claim may not give.
APPROVALS = COMMISSIONER_APPROVALS | {A.PROVIDER_APPROVE}


@dataclass(frozen=True)
class Rule:
    """One allowed step. ``to_status`` None means routed (submit, tier 2 approval)."""

    capability: Capability | None
    to_status: ClaimStatus | None
    reason_required: bool = False
    #: Shown on the button and in messages.
    label: str = ""
    #: Offered on the claim page (bulk submission is taken only by a bulk upload).
    offered: bool = True
    #: The step emails the people concerned (a bulk upload sends one email for the file).
    notifies: bool = True


_SUBMIT = Rule(Capability.CREATE_CLAIM, None, label="Submit")
_WITHDRAW = Rule(Capability.CREATE_CLAIM, S.WITHDRAWN, label="Withdraw")

#: (current status, action) -> the rule. Anything else is not allowed.
TRANSITIONS: dict[tuple[ClaimStatus, ClaimAction], Rule] = {
    (S.DRAFT, A.SUBMIT): _SUBMIT,
    (S.DECLINED, A.SUBMIT): _SUBMIT,
    (S.RETURNED_BY_PROVIDER, A.SUBMIT): _SUBMIT,
    (S.DRAFT, A.BULK_SUBMIT): Rule(
        Capability.APPROVE_CLAIM_TIER_1,
        S.AWAITING_COMMISSIONER_REVIEW,
        label="Submit in bulk",
        offered=False,
        notifies=False,
    ),
    (S.AWAITING_PROVIDER_APPROVAL, A.PROVIDER_APPROVE): Rule(
        Capability.APPROVE_CLAIM_PROVIDER,
        S.AWAITING_COMMISSIONER_REVIEW,
        label="Approve and send to the commissioner",
    ),
    (S.AWAITING_PROVIDER_APPROVAL, A.PROVIDER_RETURN): Rule(
        Capability.APPROVE_CLAIM_PROVIDER, S.RETURNED_BY_PROVIDER, True, "Return to the practice"
    ),
    (S.AWAITING_COMMISSIONER_REVIEW, A.TIER_1_APPROVE): Rule(
        Capability.APPROVE_CLAIM_TIER_1, S.AWAITING_PAYMENT_APPROVAL, label="Approve (tier 1)"
    ),
    (S.AWAITING_COMMISSIONER_REVIEW, A.TIER_1_DECLINE): Rule(
        Capability.APPROVE_CLAIM_TIER_1, S.DECLINED, True, "Decline"
    ),
    (S.AWAITING_PAYMENT_APPROVAL, A.TIER_2_APPROVE): Rule(
        Capability.APPROVE_CLAIM_TIER_2, None, label="Approve for payment (tier 2)"
    ),
    (S.AWAITING_PAYMENT_APPROVAL, A.TIER_2_DECLINE): Rule(
        Capability.APPROVE_CLAIM_TIER_2, S.DECLINED, True, "Decline"
    ),
    (S.AWAITING_FINANCE_APPROVAL, A.FINANCE_APPROVE): Rule(
        Capability.APPROVE_CLAIM_FINANCE, S.APPROVED_FOR_PAYMENT, label="Approve (finance)"
    ),
    (S.AWAITING_FINANCE_APPROVAL, A.FINANCE_DECLINE): Rule(
        Capability.APPROVE_CLAIM_FINANCE, S.DECLINED, True, "Decline"
    ),
    (S.DRAFT, A.WITHDRAW): _WITHDRAW,
    (S.DECLINED, A.WITHDRAW): _WITHDRAW,
    (S.RETURNED_BY_PROVIDER, A.WITHDRAW): _WITHDRAW,
    # The payment run (payments/): no person's capability, actor is None.
    (S.APPROVED_FOR_PAYMENT, A.SEND_FOR_PAYMENT): Rule(
        None, S.SENT_FOR_PAYMENT, label="Send for payment", offered=False, notifies=False
    ),
    (S.APPROVED_FOR_PAYMENT, A.PAYMENT_REJECTED): Rule(
        None, S.APPROVED_FOR_PAYMENT, True, "Reject the payment", offered=False, notifies=False
    ),
    (S.SENT_FOR_PAYMENT, A.MARK_PAID): Rule(None, S.PAID, label="Mark as paid", offered=False),
    # Finance, from the payments pages (payments/services), never the claim page's buttons.
    (S.APPROVED_FOR_PAYMENT, A.RESEND_PAYMENT): Rule(
        Capability.MANAGE_PAYMENTS,
        S.APPROVED_FOR_PAYMENT,
        label="Send again",
        offered=False,
        notifies=False,
    ),
    (S.APPROVED_FOR_PAYMENT, A.HOLD_PAYMENT): Rule(
        Capability.MANAGE_PAYMENTS,
        S.PAYMENT_ON_HOLD,
        True,
        "Hold the payment",
        offered=False,
        notifies=False,
    ),
    (S.PAYMENT_ON_HOLD, A.RELEASE_PAYMENT): Rule(
        Capability.MANAGE_PAYMENTS,
        S.APPROVED_FOR_PAYMENT,
        label="Release",
        offered=False,
        notifies=False,
    ),
    (S.APPROVED_FOR_PAYMENT, A.RECORD_PAYMENT): Rule(
        Capability.MANAGE_PAYMENTS, S.PAID, label="Record as paid", offered=False, notifies=False
    ),
}

#: Where a claim is approved for payment from (a payment step back to it is no approval).
APPROVAL_QUEUES = frozenset({S.AWAITING_PAYMENT_APPROVAL, S.AWAITING_FINANCE_APPROVAL})
#: Steps the payment run takes with no person (``actor`` None).
SYSTEM_STEPS = frozenset({A.SEND_FOR_PAYMENT, A.PAYMENT_REJECTED, A.MARK_PAID})

#: Steps that submit a claim (price it and record who submitted it).
SUBMISSIONS = frozenset({A.SUBMIT, A.BULK_SUBMIT})

#: The audit action of each step is ``claim.<verb>`` (past tense, docs/architecture.md).
AUDIT_VERBS: dict[ClaimAction, str] = {
    A.START: "started",
    A.SUBMIT: "submitted",
    A.BULK_SUBMIT: "bulk_submitted",
    A.PROVIDER_APPROVE: "provider_approved",
    A.PROVIDER_RETURN: "provider_returned",
    A.TIER_1_APPROVE: "tier_1_approved",
    A.TIER_1_DECLINE: "tier_1_declined",
    A.TIER_2_APPROVE: "tier_2_approved",
    A.TIER_2_DECLINE: "tier_2_declined",
    A.FINANCE_APPROVE: "finance_approved",
    A.FINANCE_DECLINE: "finance_declined",
    A.WITHDRAW: "withdrawn",
    A.SEND_FOR_PAYMENT: "sent_for_payment",
    A.PAYMENT_REJECTED: "payment_rejected",
    A.RESEND_PAYMENT: "payment_resent",
    A.HOLD_PAYMENT: "payment_held",
    A.RELEASE_PAYMENT: "payment_released",
    A.RECORD_PAYMENT: "payment_recorded",
    A.MARK_PAID: "paid",
}


def audit_action(action: ClaimAction) -> str:
    """``claim.tier_1_approved`` for ``TIER_1_APPROVE``."""
    return f"claim.{AUDIT_VERBS[action]}"


#: Statuses a step can lead to (for the state diagram test in tests/claims).
ROUTED_TARGETS = {
    A.SUBMIT: {S.AWAITING_PROVIDER_APPROVAL, S.AWAITING_COMMISSIONER_REVIEW},
    A.TIER_2_APPROVE: {S.AWAITING_FINANCE_APPROVAL, S.APPROVED_FOR_PAYMENT},
}


def rule_for(status: ClaimStatus, action: ClaimAction) -> Rule | None:
    return TRANSITIONS.get((status, action))
