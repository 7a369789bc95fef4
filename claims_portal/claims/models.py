"""Claims against local schemes: the claim, its lines, answers, evidence (and files the
virus check quarantined) and history;
bulk uploads (the claims a spreadsheet made); the index the claim lists sort by.

A :class:`Claim` is made by a provider (a practice, or a PCN or federation offered a scheme)
for one scheme and one claim period. Its status moves only through
``claims.services.lifecycle.transition`` (see ``docs/claims.md`` for the state diagram); every
move writes a :class:`ClaimEvent` (the history the claim page shows) and an audit event.

Money is ``db.Money`` (``Numeric(12, 2)``) read as ``Decimal``, computed only by
``claims_portal.calculation``. Enumerations (``db.enum_column``) are stored by member name
(stable) and shown by value (what users read).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from claims_portal.access.models import User
from claims_portal.db import Money, UTCDateTime, created_at, enum_column, intpk, utcnow
from claims_portal.extensions import db
from claims_portal.inputs import parse_id
from claims_portal.organisations.models import Organisation
from claims_portal.schemes.models import (
    ClaimWindow,
    Component,
    Scheme,
    SupplementaryQuestion,
    Tariff,
)


class ClaimStatus(enum.StrEnum):
    """Where a claim stands, named as users read it."""

    DRAFT = "Draft"
    #: Two-step practices: waiting for the practice's provider approver.
    AWAITING_PROVIDER_APPROVAL = "Awaiting provider approval"
    #: Sent back by the provider approver with a reason; the practice edits and resubmits.
    RETURNED_BY_PROVIDER = "Returned by provider approver"
    #: Commissioner tier 1 vets the claim and its evidence.
    AWAITING_COMMISSIONER_REVIEW = "Awaiting commissioner review"
    #: Commissioner tier 2 approves it financially.
    AWAITING_PAYMENT_APPROVAL = "Awaiting payment approval"
    #: Above the ICB's finance threshold: the finance approver signs it off.
    AWAITING_FINANCE_APPROVAL = "Awaiting finance approval"
    APPROVED_FOR_PAYMENT = "Approved for payment"
    #: In a payment file the payments agency has accepted (payments/).
    SENT_FOR_PAYMENT = "Sent for payment"
    #: Finance holds it out of the payment runs, with a reason.
    PAYMENT_ON_HOLD = "Payment on hold"
    PAID = "Paid"
    #: Declined by the commissioner with a reason; the practice edits and resubmits.
    DECLINED = "Declined"
    WITHDRAWN = "Withdrawn"


#: The practice may change the claim (lines, answers, evidence) and submit it.
EDITABLE_STATUSES = frozenset(
    {ClaimStatus.DRAFT, ClaimStatus.DECLINED, ClaimStatus.RETURNED_BY_PROVIDER}
)
#: Sent back to the practice with a reason, to change and submit again.
SENT_BACK_STATUSES = frozenset({ClaimStatus.DECLINED, ClaimStatus.RETURNED_BY_PROVIDER})
#: Submitted and not sent back: these claims count towards caps (prior claims).
COUNTED_STATUSES = frozenset(
    {
        ClaimStatus.AWAITING_PROVIDER_APPROVAL,
        ClaimStatus.AWAITING_COMMISSIONER_REVIEW,
        ClaimStatus.AWAITING_PAYMENT_APPROVAL,
        ClaimStatus.AWAITING_FINANCE_APPROVAL,
        ClaimStatus.APPROVED_FOR_PAYMENT,
        ClaimStatus.SENT_FOR_PAYMENT,
        ClaimStatus.PAYMENT_ON_HOLD,
        ClaimStatus.PAID,
    }
)
#: Waiting for someone at the commissioner.
COMMISSIONER_QUEUE_STATUSES = frozenset(
    {
        ClaimStatus.AWAITING_COMMISSIONER_REVIEW,
        ClaimStatus.AWAITING_PAYMENT_APPROVAL,
        ClaimStatus.AWAITING_FINANCE_APPROVAL,
    }
)


class ClaimAction(enum.StrEnum):
    """What can happen to a claim (one row of the transition table each)."""

    START = "started"
    SUBMIT = "submitted"
    #: A tier 1 commissioner's bulk upload submitting the claim on the provider's behalf.
    BULK_SUBMIT = "submitted in bulk"
    PROVIDER_APPROVE = "approved by the provider approver"
    PROVIDER_RETURN = "returned by the provider approver"
    TIER_1_APPROVE = "approved at tier 1"
    TIER_1_DECLINE = "declined at tier 1"
    TIER_2_APPROVE = "approved at tier 2"
    TIER_2_DECLINE = "declined at tier 2"
    FINANCE_APPROVE = "approved by finance"
    FINANCE_DECLINE = "declined by finance"
    WITHDRAW = "withdrawn"
    #: The payments agency accepted the claim's row of a payment file.
    SEND_FOR_PAYMENT = "sent for payment"
    #: The payments agency rejected the claim's row (or its file): back to finance.
    PAYMENT_REJECTED = "payment rejected"
    #: Finance sends a rejected payment again (in the next run).
    RESEND_PAYMENT = "payment sent again"
    HOLD_PAYMENT = "payment held"
    RELEASE_PAYMENT = "payment released"
    #: A scheme not paid through the agency: finance records the payment made.
    RECORD_PAYMENT = "payment recorded"
    MARK_PAID = "paid"

    def done_by(self, who: str | None) -> str:
        """The step as the claim's history reads it: "Returned by Tom Okafor (provider
        approver)", "Approved at tier 2 by Ama Mensah"; ``who`` None is the payments system."""
        return _DONE_BY[self].format(who=who or "the payments system")


_DONE_BY = {
    ClaimAction.START: "Started by {who}",
    ClaimAction.SUBMIT: "Submitted by {who}",
    ClaimAction.BULK_SUBMIT: "Submitted in bulk by {who}",
    ClaimAction.PROVIDER_APPROVE: "Approved by {who} (provider approver)",
    ClaimAction.PROVIDER_RETURN: "Returned by {who} (provider approver)",
    ClaimAction.TIER_1_APPROVE: "Approved at tier 1 by {who}",
    ClaimAction.TIER_1_DECLINE: "Declined at tier 1 by {who}",
    ClaimAction.TIER_2_APPROVE: "Approved at tier 2 by {who}",
    ClaimAction.TIER_2_DECLINE: "Declined at tier 2 by {who}",
    ClaimAction.FINANCE_APPROVE: "Approved by {who} (finance)",
    ClaimAction.FINANCE_DECLINE: "Declined by {who} (finance)",
    ClaimAction.WITHDRAW: "Withdrawn by {who}",
    ClaimAction.SEND_FOR_PAYMENT: "Sent for payment by {who}",
    ClaimAction.PAYMENT_REJECTED: "Payment rejected by {who}",
    ClaimAction.RESEND_PAYMENT: "Payment sent again by {who} (finance)",
    ClaimAction.HOLD_PAYMENT: "Payment held by {who} (finance)",
    ClaimAction.RELEASE_PAYMENT: "Payment released by {who} (finance)",
    ClaimAction.RECORD_PAYMENT: "Payment recorded by {who} (finance)",
    ClaimAction.MARK_PAID: "Marked as paid by {who}",
}


REFERENCE_PREFIX = "CLM-"
_REFERENCE = re.compile(r"^\s*(?:CLM-?)?0*([0-9]{1,12})\s*$", re.IGNORECASE)

#: One live claim per provider, scheme and period (and ``scope``): withdrawn ones don't count.
LIVE_CLAIM = text("status != 'WITHDRAWN' AND scope IS NOT NULL")
#: ``Claim.scope`` of a claim holding every component of its scheme.
WHOLE_SCHEME_SCOPE = "scheme"


def component_scope(component_id: int) -> str:
    """``Claim.scope`` of a single-service claim for one component."""
    return f"component:{component_id}"


def parse_reference(reference: str) -> int | None:
    """The claim id in ``CLM-000123`` (or ``123``); None when it is not a reference (or
    names a number no claim id can be: the search must not overflow the database)."""
    match = _REFERENCE.match(reference or "")
    return parse_id(match.group(1)) if match else None


class Claim(db.Model):  # type: ignore[name-defined,misc]
    """One provider's claim under one scheme for one claim period.

    ``version`` goes up by one with every change (edits, evidence, transitions); forms carry
    the version they were rendered with, and a change made meanwhile is a conflict. ``round``
    counts submissions to the commissioner chain: a declined or returned claim resubmitted
    starts a new round, and the history keeps every round.
    """

    __tablename__ = "claim"
    __table_args__ = (
        Index(
            "uq_claim_live_scope",
            "provider_id",
            "scheme_id",
            "period_start",
            "scope",
            unique=True,
            postgresql_where=LIVE_CLAIM,
            sqlite_where=LIVE_CLAIM,
        ),
        Index("ix_claim_status_changed", "status", "status_changed_at"),
        CheckConstraint("period_end >= period_start", name="period_in_order"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("round >= 1", name="round_positive"),
        CheckConstraint("value IS NULL OR value >= 0", name="value_not_negative"),
        CheckConstraint(
            "status IN ('DRAFT', 'WITHDRAWN') OR submitted_at IS NOT NULL",
            name="submitted_unless_draft",
        ),
    )

    id: Mapped[intpk]
    #: The practice (or PCN, federation) claiming.
    provider_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: The commissioners the claim is made to, kept on the claim when it is started (from
    #: the provider's place in the tree then, ``organisations.services.commissioners_of``):
    #: the ICB and the sub-location above the provider. A commissioner's lists and tasks
    #: are scoped by one of them, through an index, instead of walking the tree per query.
    icb_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    sub_location_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"), index=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("claim_window.id"), index=True)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    #: What the claim covers, for the one-live-claim rule: ``scheme`` (every component of a
    #: multi-service or participation scheme), ``component:<id>`` (a single-service claim),
    #: or null (ad hoc schemes allow several claims in their period).
    scope: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[ClaimStatus] = mapped_column(
        enum_column(ClaimStatus, "claim_status"), default=ClaimStatus.DRAFT
    )
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    round: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: The last submission (first set when the claim leaves Draft).
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: The claim's value as calculated at its last submission (pounds).
    value: Mapped[Decimal | None] = mapped_column(Money)
    #: The claim has been sent to the commissioner at least once (commissioners may see it).
    reached_commissioner_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    provider: Mapped[Organisation] = relationship(foreign_keys=[provider_id])
    scheme: Mapped[Scheme] = relationship()
    window: Mapped[ClaimWindow] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    lines: Mapped[list[ClaimLine]] = relationship(
        back_populates="claim", order_by="ClaimLine.id", cascade="all, delete-orphan"
    )
    answers: Mapped[list[ClaimAnswer]] = relationship(
        back_populates="claim", order_by="ClaimAnswer.id", cascade="all, delete-orphan"
    )
    evidence: Mapped[list[ClaimEvidence]] = relationship(
        back_populates="claim", order_by="ClaimEvidence.id"
    )
    events: Mapped[list[ClaimEvent]] = relationship(
        back_populates="claim", order_by="ClaimEvent.id"
    )

    def __repr__(self) -> str:
        return f"<Claim {self.reference} {self.status.name} v{self.version}>"

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        """The claim ID people quote, like ``CLM-000123``."""
        return f"{REFERENCE_PREFIX}{self.id:06d}"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def period_label(self) -> str:
        return self.window.period_label

    @property
    def current_evidence(self) -> list[ClaimEvidence]:
        return [e for e in self.evidence if e.removed_at is None]

    @property
    def sent_back_by(self) -> ClaimEvent | None:
        """For a declined or returned claim, the step that sent it back (its reason, who
        and when: shown at the top of the claim and edit pages); else ``None``."""
        if self.status not in SENT_BACK_STATUSES:
            return None
        return next((e for e in reversed(self.events) if e.to_status == self.status), None)


class ClaimLine(db.Model):  # type: ignore[name-defined,misc]
    """A component claimed: the units entered and, once submitted, what the calculation
    returned (tariff, gross value, units and value paid after caps, why a cap bit)."""

    __tablename__ = "claim_line"
    __table_args__ = (
        UniqueConstraint("claim_id", "component_id", name="uq_claim_line_claim_component"),
        CheckConstraint("units IS NULL OR units >= 0", name="units_not_negative"),
        CheckConstraint("payable_units IS NULL OR payable_units >= 0", name="paid_not_negative"),
    )

    id: Mapped[intpk]
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), index=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("scheme_component.id"), index=True)
    #: As entered; null until the practice enters a figure.
    units: Mapped[int | None] = mapped_column(Integer)
    # Set at submission from the calculation (cleared while the claim is edited again).
    tariff_id: Mapped[int | None] = mapped_column(ForeignKey("scheme_tariff.id"), index=True)
    unit_value: Mapped[Decimal | None] = mapped_column(Money)
    gross_value: Mapped[Decimal | None] = mapped_column(Money)
    payable_units: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[Decimal | None] = mapped_column(Money)
    capped_amount: Mapped[Decimal | None] = mapped_column(Money)
    cap_note: Mapped[str | None] = mapped_column(Text)

    claim: Mapped[Claim] = relationship(back_populates="lines")
    component: Mapped[Component] = relationship()
    tariff: Mapped[Tariff | None] = relationship()

    def __repr__(self) -> str:
        return f"<ClaimLine {self.component_id} x{self.units}>"


class ClaimAnswer(db.Model):  # type: ignore[name-defined,misc]
    """The answer to a scheme's supplementary question, kept as text in a canonical form
    (numbers as digits, yes/no as ``yes``/``no``, dates ISO; see ``services.answers``)."""

    __tablename__ = "claim_answer"
    __table_args__ = (
        UniqueConstraint("claim_id", "question_id", name="uq_claim_answer_claim_question"),
    )

    id: Mapped[intpk]
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("supplementary_question.id"), index=True)
    value: Mapped[str | None] = mapped_column(Text)

    claim: Mapped[Claim] = relationship(back_populates="answers")
    question: Mapped[SupplementaryQuestion] = relationship()


class ClaimEvidence(db.Model):  # type: ignore[name-defined,misc]
    """An evidence file of a claim. The bytes are in the evidence store under ``key``.

    Files removed after the claim was first submitted keep their row (``removed_at``) and
    object, so the history shows what each round was decided on.
    """

    __tablename__ = "claim_evidence"
    __table_args__ = (CheckConstraint("size > 0", name="size_positive"),)

    id: Mapped[intpk]
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), index=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    #: The sanitised name the file was uploaded with (offered back on download).
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    #: The claim's round when the file was added.
    round: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: The component the file is evidence for (one of the claim's lines), when the scheme
    #: asks for evidence per component; null for a file about the whole claim.
    component_id: Mapped[int | None] = mapped_column(ForeignKey("scheme_component.id"), index=True)

    claim: Mapped[Claim] = relationship(back_populates="evidence")
    component: Mapped[Component | None] = relationship()
    uploaded_by: Mapped[User] = relationship(foreign_keys=[uploaded_by_id])
    removed_by: Mapped[User | None] = relationship(foreign_keys=[removed_by_id])


class QuarantinedEvidence(db.Model):  # type: ignore[name-defined,misc]
    """A file uploaded to a claim that the virus check found infected: refused, never part of
    the claim, and kept in the evidence store's quarantine folder under ``key`` (no
    ``claim_evidence`` row points there, so nothing serves it) for the ICB's administrators,
    who were told (``claims.services.quarantine``)."""

    __tablename__ = "quarantined_evidence"
    __table_args__ = (CheckConstraint("size > 0", name="size_positive"),)

    id: Mapped[intpk]
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), index=True)
    #: The ICB whose administrators were told (the claim's, when it was uploaded).
    icb_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    #: Which scanner found it ("clamav") and the engine's name for what it found.
    scanner: Mapped[str] = mapped_column(String(40))
    signature: Mapped[str | None] = mapped_column(String(255))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    claim: Mapped[Claim] = relationship()
    uploaded_by: Mapped[User] = relationship()


class ClaimEvent(db.Model):  # type: ignore[name-defined,misc]
    """One step in a claim's history: who moved it from which status to which, and why."""

    __tablename__ = "claim_event"

    id: Mapped[intpk]
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    action: Mapped[ClaimAction] = mapped_column(enum_column(ClaimAction, "claim_action"))
    from_status: Mapped[ClaimStatus | None] = mapped_column(
        enum_column(ClaimStatus, "claim_status")
    )
    to_status: Mapped[ClaimStatus] = mapped_column(enum_column(ClaimStatus, "claim_status"))
    #: Null for the system (the payments batch).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    #: The claim's value after the step (set from submission on).
    value: Mapped[Decimal | None] = mapped_column(Money)
    #: The claim's version after the step.
    version: Mapped[int] = mapped_column(Integer)
    #: For submissions: what was submitted (each line's units, tariff and value), so that
    #: every round stays readable after the claim is edited again.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    claim: Mapped[Claim] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()

    @property
    def summary(self) -> str:
        """What happened and who did it, for the history (``ClaimAction.done_by``)."""
        return self.action.done_by(self.actor.full_name if self.actor is not None else None)

    def __repr__(self) -> str:
        return f"<ClaimEvent {self.action.name} {self.from_status} -> {self.to_status}>"


class IcbClaimSettings(db.Model):  # type: ignore[name-defined,misc]
    """Claim settings of one ICB. Without a row the defaults from configuration apply."""

    __tablename__ = "icb_claim_settings"
    __table_args__ = (
        CheckConstraint("finance_threshold >= 0", name="finance_threshold_not_negative"),
    )

    id: Mapped[intpk]
    icb_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), unique=True)
    #: Claims worth strictly more than this need finance approval after tier 2 (pounds).
    finance_threshold: Mapped[Decimal] = mapped_column(Money)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    icb: Mapped[Organisation] = relationship(foreign_keys=[icb_id])


# Bulk claims: a tier 1 commissioner's uploaded spreadsheet and the claims it created. The
# claims themselves are ordinary Claim rows, created by the commissioner (``created_by``) on
# the providers' behalf; these tables only remember which upload made which claim, from
# which row, so the claim page and the audit can say so.


class BulkUpload(db.Model):  # type: ignore[name-defined,misc]
    """One accepted bulk claims spreadsheet (a refused one leaves no row)."""

    __tablename__ = "bulk_claim_upload"
    __table_args__ = (CheckConstraint("claim_count >= 1", name="claims_made"),)

    id: Mapped[intpk]
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"), index=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("claim_window.id"))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: The sanitised file name and the file's SHA-256 (the file itself is not kept).
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    claim_count: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    scheme: Mapped[Scheme] = relationship()
    window: Mapped[ClaimWindow] = relationship()
    uploaded_by: Mapped[User] = relationship()
    claims: Mapped[list[BulkUploadClaim]] = relationship(
        back_populates="upload", order_by="BulkUploadClaim.row_number"
    )


class BulkUploadClaim(db.Model):  # type: ignore[name-defined,misc]
    """A claim made from one row of a bulk upload."""

    __tablename__ = "bulk_claim_upload_claim"

    id: Mapped[intpk]
    upload_id: Mapped[int] = mapped_column(ForeignKey("bulk_claim_upload.id"), index=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), unique=True)
    #: The spreadsheet row the claim came from (as Excel numbers rows).
    row_number: Mapped[int] = mapped_column(Integer)

    upload: Mapped[BulkUpload] = relationship(back_populates="claims")
    claim: Mapped[Claim] = relationship()


#: The lists' default order (newest submission first, ``services.listing``): read backwards,
#: this index gives a commissioner's first page of tens of thousands of claims without
#: sorting them all (about 2 ms instead of 20 ms for 20,000 claims).
Index("ix_claim_submitted_at_id", Claim.submitted_at, Claim.id)
#: A commissioner's list in the default order, by its scope (``services.listing``): the
#: first page of 100,000 claims read from the index's end.
_REACHED = text("reached_commissioner_at IS NOT NULL")
Index(
    "ix_claim_icb_submitted",
    Claim.icb_id,
    Claim.submitted_at,
    Claim.id,
    postgresql_where=_REACHED,
    sqlite_where=_REACHED,
)
Index(
    "ix_claim_sub_location_submitted",
    Claim.sub_location_id,
    Claim.submitted_at,
    Claim.id,
    postgresql_where=_REACHED,
    sqlite_where=_REACHED,
)
#: The claims a person acted on, and their approvals (task counts, messages).
Index("ix_claim_event_actor_claim", ClaimEvent.actor_id, ClaimEvent.claim_id)
Index(
    "ix_claim_event_actor_action_claim", ClaimEvent.actor_id, ClaimEvent.action, ClaimEvent.claim_id
)
#: A list filtered by scheme and status (a scheme's claims waiting for tier 1, say).
Index(
    "ix_claim_scheme_status_submitted", Claim.scheme_id, Claim.status, Claim.submitted_at, Claim.id
)
