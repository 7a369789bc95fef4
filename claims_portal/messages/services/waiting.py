"""Everything waiting for the person, in one place (the message centre's *Pending actions*
page and the header's "Pending actions (N)"):

- claims at their step (``tasks``), but those a bulk upload made;
- bulk uploads to review: each upload with claims waiting for this tier 1 approver (the
  second review), one item however many claims it made;
- offers to answer: Pending offers to the current organisation, for people who answer
  offers; for the commissioner's administrators, offers a provider asked for again;
- access requests to decide (``access_requests.pending_for``);
- offers of national services to answer (``national.services.offer_lists``).

The header's count is the number of items the page lists: claims, uploads, offers and
access requests, each counted once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select

from claims_portal.access.models import AccessRequest, Membership, User
from claims_portal.access.roles import Capability
from claims_portal.access.services import access_requests
from claims_portal.access.services.permissions import has_capability
from claims_portal.claims.models import BulkUpload, BulkUploadClaim, Claim, ClaimStatus
from claims_portal.db import DbSession
from claims_portal.formatting import COUNTED_UP_TO
from claims_portal.messages.services import (
    TASKS_SHOWN,
    Task,
    _task_condition,
    may_have_tasks,
    task_count,
    tasks_and_count,
)
from claims_portal.national.models import ServiceOffer
from claims_portal.national.services.offer_lists import offers_to_answer
from claims_portal.organisations.models import Organisation, OrganisationKind
from claims_portal.payments.models import Payment, PaymentFile, PaymentFileStatus, PaymentStatus
from claims_portal.schemes.models import Offer, OfferStatus, Scheme
from claims_portal.schemes.services import commissioner_scope

REVIEW = ClaimStatus.AWAITING_COMMISSIONER_REVIEW


@dataclass(frozen=True)
class UploadToReview:
    upload_id: int
    filename: str
    uploaded_by: str
    uploaded_at: dt.datetime
    scheme_id: int
    scheme_name: str
    claims: int
    value: Decimal


@dataclass
class Waiting:
    claims: list[Task] = field(default_factory=list)
    #: Claims waiting, those of uploads aside (more than ``claims`` when the list is cut).
    claim_count: int = 0
    uploads: list[UploadToReview] = field(default_factory=list)
    offers_to_answer: list[Offer] = field(default_factory=list)
    offers_asked_again: list[Offer] = field(default_factory=list)
    access_requests: list[AccessRequest] = field(default_factory=list)
    #: Finance: the ICB's payment files the agency never acknowledged, and its payments the
    #: agency rejected that finance has not yet sent again or held (one item for them all).
    failed_payment_files: list[PaymentFile] = field(default_factory=list)
    rejected_payments: int = 0
    #: Offers of national services waiting for this person's answer.
    national_offers: list[ServiceOffer] = field(default_factory=list)

    @property
    def total(self) -> int:
        return (
            self.claim_count
            + len(self.uploads)
            + len(self.offers_to_answer)
            + len(self.offers_asked_again)
            + len(self.access_requests)
            + len(self.failed_payment_files)
            + (1 if self.rejected_payments else 0)
            + len(self.national_offers)
        )


def _payment_tasks(
    session: DbSession, user: User, organisation: Organisation
) -> tuple[list[PaymentFile], int]:
    """Finance's payment tasks in its ICB (an ICB's own finance only, as the pages)."""
    if organisation.kind is not OrganisationKind.ICB or not has_capability(
        user, Capability.MANAGE_PAYMENTS, organisation
    ):
        return [], 0
    failed = list(
        session.scalars(
            select(PaymentFile)
            .where(
                PaymentFile.icb_id == organisation.id,
                PaymentFile.status == PaymentFileStatus.FAILED,
            )
            .order_by(PaymentFile.id)
        )
    )
    rejected = session.scalar(
        select(func.count(Payment.id)).where(
            Payment.icb_id == organisation.id,
            Payment.status == PaymentStatus.REJECTED,
            Payment.settled_at.is_(None),
        )
    )
    return failed, int(rejected or 0)


def may_have_any(
    user: User, organisation: Organisation | None, memberships: Sequence[Membership]
) -> bool:
    """Cheap (no query): whether anything can ever wait for the person here."""
    return (
        may_have_tasks(user, organisation)
        or access_requests.may_decide_any(user, memberships)
        or (
            organisation is not None
            and has_capability(user, Capability.RESPOND_TO_NATIONAL_OFFER, organisation)
        )
    )


def _uploads(session: DbSession, user: User, organisation: Organisation) -> list[UploadToReview]:
    condition = _task_condition(user, organisation)
    if condition is None:
        return []
    rows = session.execute(
        select(
            BulkUpload.id,
            BulkUpload.filename,
            User.full_name,
            BulkUpload.uploaded_at,
            Scheme.id,
            Scheme.name,
            func.count(Claim.id),
            func.coalesce(func.sum(Claim.value), 0),
        )
        .join(BulkUploadClaim, BulkUploadClaim.upload_id == BulkUpload.id)
        .join(Claim, Claim.id == BulkUploadClaim.claim_id)
        .join(User, User.id == BulkUpload.uploaded_by_id)
        .join(Scheme, Scheme.id == BulkUpload.scheme_id)
        .where(condition, Claim.status == REVIEW)
        .group_by(BulkUpload.id, User.full_name, Scheme.id)
        .order_by(BulkUpload.uploaded_at, BulkUpload.id)
    ).all()
    uploads = []
    for (
        upload_id,
        filename,
        uploaded_by,
        uploaded_at,
        scheme_id,
        scheme_name,
        claims,
        value,
    ) in rows:
        uploads.append(
            UploadToReview(
                upload_id,
                filename,
                uploaded_by,
                uploaded_at,
                scheme_id,
                scheme_name,
                claims,
                value=Decimal(value or 0),
            )
        )
    return uploads


def _offers(
    session: DbSession, user: User, organisation: Organisation
) -> tuple[list[Offer], list[Offer]]:
    to_answer: list[Offer] = []
    asked_again: list[Offer] = []
    if has_capability(user, Capability.RESPOND_TO_OFFER, organisation):
        to_answer = list(
            session.scalars(
                select(Offer)
                .where(Offer.provider_id == organisation.id, Offer.status == OfferStatus.PENDING)
                .order_by(Offer.offered_at, Offer.id)
            )
        )
    if has_capability(user, Capability.CONFIGURE_SCHEMES, organisation):
        scope = commissioner_scope(session, organisation)
        asked_again = list(
            session.scalars(
                select(Offer)
                .join(Scheme, Scheme.id == Offer.scheme_id)
                .where(Scheme.commissioner_id.in_(scope), Offer.status == OfferStatus.RE_REQUESTED)
                .order_by(Offer.status_changed_at, Offer.id)
            )
        )
    return to_answer, asked_again


def waiting_for(
    session: DbSession,
    user: User,
    organisation: Organisation | None,
    *,
    limit: int = TASKS_SHOWN,
) -> Waiting:
    """Everything waiting for ``user`` acting for ``organisation`` (see the module)."""
    waiting = Waiting(access_requests=access_requests.pending_for(session, user))
    if organisation is None:
        return waiting
    if may_have_tasks(user, organisation):
        waiting.uploads = _uploads(session, user, organisation)
        in_uploads = sum(upload.claims for upload in waiting.uploads)
        tasks, count = tasks_and_count(session, user, organisation, limit=limit + in_uploads)
        reviews = [t.claim.id for t in tasks if t.claim.status is REVIEW]
        grouped = _upload_claim_ids(session, reviews) if in_uploads else set()
        waiting.claims = [t for t in tasks if t.claim.id not in grouped][:limit]
        # A count that stopped (more than COUNTED_UP_TO) stays as it is: "more than".
        waiting.claim_count = count if count > COUNTED_UP_TO else count - in_uploads
    waiting.offers_to_answer, waiting.offers_asked_again = _offers(session, user, organisation)
    waiting.failed_payment_files, waiting.rejected_payments = _payment_tasks(
        session, user, organisation
    )
    waiting.national_offers = offers_to_answer(session, user, organisation)
    return waiting


def pending_count(
    session: DbSession,
    user: User,
    organisation: Organisation | None,
    memberships: Sequence[Membership],
) -> int | None:
    """The header's "Pending actions (N)": the number of items :func:`waiting_for` lists,
    by counting queries (up to ``COUNTED_UP_TO + 1``); ``None`` for people nothing can wait
    for here."""
    if not may_have_any(user, organisation, memberships):
        return None
    count = len(access_requests.pending_for(session, user))
    if organisation is None:
        return count
    if may_have_tasks(user, organisation):
        uploads = _uploads(session, user, organisation)
        claims = task_count(session, user, organisation)
        if claims <= COUNTED_UP_TO:
            claims -= sum(u.claims for u in uploads)
        count += claims + len(uploads)
    to_answer, asked_again = _offers(session, user, organisation)
    failed, rejected = _payment_tasks(session, user, organisation)
    count += len(failed) + (1 if rejected else 0)
    count += len(offers_to_answer(session, user, organisation))
    return min(count + len(to_answer) + len(asked_again), COUNTED_UP_TO + 1)


def _upload_claim_ids(session: DbSession, claim_ids: list[int]) -> set[int]:
    if not claim_ids:
        return set()
    return set(
        session.scalars(
            select(BulkUploadClaim.claim_id).where(BulkUploadClaim.claim_id.in_(claim_ids))
        )
    )
