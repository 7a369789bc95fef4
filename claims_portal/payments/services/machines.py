"""The statuses of payment files and payments, as transition tables (``statemachine``):
the run, the agency's answers and finance's withdrawal move them only through :func:`move`,
and docs/architecture.md draws the tables from here.

A payment recorded by hand (a scheme not paid through the agency) is made *Paid* at once:
it has no file to travel in, so it takes none of these steps.
"""

from __future__ import annotations

import enum
from typing import Any, TypeVar

from claims_portal.access.roles import Capability
from claims_portal.payments.models import PaymentFileStatus as F
from claims_portal.payments.models import PaymentStatus as P
from claims_portal.payments.services.finance import PaymentsConflict
from claims_portal.statemachine import Machine, Step, set_status

S = TypeVar("S", bound=enum.Enum)

_SYSTEM = "the payment run"
_AGENCY = "the agency's acknowledgement"
_ANSWERABLE = frozenset({F.SENT, F.FAILED})

PAYMENT_FILE: Machine[F] = Machine(
    object_type="payment_file",
    title="Payment file",
    initial=F.WRITTEN,
    created="written",
    creator=None,
    creator_who=_SYSTEM,
    final=frozenset({F.ACCEPTED, F.PARTLY_REJECTED, F.REJECTED, F.WITHDRAWN}),
    steps=(
        Step(
            "send", frozenset({F.WRITTEN}), F.SENT, None, "sent", "It was sent already",
            who=_SYSTEM,
        ),
        Step(
            "accept", _ANSWERABLE, F.ACCEPTED, None, "accepted", "It was answered already",
            who=_AGENCY,
        ),
        Step(
            "partly_reject", _ANSWERABLE, F.PARTLY_REJECTED, None, "partly_rejected",
            "It was answered already", who=_AGENCY,
        ),
        Step(
            "reject", _ANSWERABLE, F.REJECTED, None, "rejected", "It was answered already",
            who=_AGENCY,
        ),
        Step(
            "fail", frozenset({F.SENT}), F.FAILED, None, "failed",
            "Only a file waiting for its acknowledgement can fail",
            who="the payment run, after the last resend",
        ),
        Step(
            "withdraw", frozenset({F.FAILED}), F.WITHDRAWN, Capability.MANAGE_PAYMENTS,
            "withdrawn", "Only a failed file can be withdrawn",
        ),
    ),
)  # fmt: skip

PAYMENT: Machine[P] = Machine(
    object_type="payment",
    title="Payment",
    initial=P.PENDING,
    created="written",
    creator=None,
    creator_who=_SYSTEM + " (a payment by hand is recorded Paid)",
    final=frozenset({P.PAID, P.REJECTED, P.WITHDRAWN}),
    steps=(
        Step(
            "accept", frozenset({P.PENDING}), P.ACCEPTED, None, "accepted",
            "It was answered already", who=_AGENCY, audit=None,
        ),
        Step(
            "reject", frozenset({P.PENDING}), P.REJECTED, None, "rejected",
            "It was answered already", who=_AGENCY, audit=None,
        ),
        Step(
            "pay", frozenset({P.ACCEPTED}), P.PAID, None, "paid",
            "Only a payment the agency accepted can be paid", who="the agency's remittance",
        ),
        Step(
            "withdraw", frozenset({P.PENDING}), P.WITHDRAWN, Capability.MANAGE_PAYMENTS,
            "withdrawn", "Only a payment in a failed file can be withdrawn", audit=None,
        ),
    ),
)  # fmt: skip


def move(machine: Machine[Any], row: Any, name: str) -> Any:
    """Take step ``name`` of ``machine`` on ``row`` (whose lock the caller holds); raises
    :class:`PaymentsConflict` with the step's refusal from another status."""
    step = machine.step(name)
    if not machine.allows(row.status, name):
        raise PaymentsConflict(f"{step.refusal}. Nothing was changed.")
    return set_status(row, step.target)
