"""Claims approved for payment, payments the agency rejected and paid claims, built straight
into the database for finance's tests (the run that would make them is the lead's)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from claims_portal.claims.models import Claim, ClaimStatus
from claims_portal.clock import today
from claims_portal.db import utcnow
from claims_portal.extensions import db
from claims_portal.payments.files import financial_year_of
from claims_portal.payments.models import (
    Payment,
    PaymentFile,
    PaymentFileStatus,
    PaymentRun,
    PaymentRunKind,
    PaymentStatus,
)
from tests.factories.claims import ClaimFactory, ClaimScene

S = ClaimStatus
_numbers = itertools.count(1)


def approved_claims(
    scene: ClaimScene, count: int = 1, *, status: ClaimStatus = S.APPROVED_FOR_PAYMENT, **kwargs
) -> list[Claim]:
    """Claims of the scene's practice and scheme at ``status`` (approved two days ago)."""
    now = utcnow()
    defaults: dict[str, Any] = {
        "provider": scene.practice,
        "scheme": scene.scheme,
        "window": scene.window,
        "scope": None,
        "status": status,
        "created_by": scene.user,
        "submitted_at": now - dt.timedelta(days=3),
        "submitted_by": scene.user,
        "reached_commissioner_at": now - dt.timedelta(days=3),
        "approved_at": now - dt.timedelta(days=2),
        "value": Decimal("100.00"),
    }
    defaults.update(kwargs)
    claims = [ClaimFactory(**defaults) for _ in range(count)]
    db.session.commit()
    return claims


def payment_file(icb: Any) -> PaymentFile:
    n = next(_numbers)
    run = PaymentRun(
        slot=f"test-{n}-{id(icb)}", kind=PaymentRunKind.SCHEDULED, run_date=today(), icb_id=None
    )
    db.session.add(run)
    db.session.flush()
    file = PaymentFile(
        run_id=run.id,
        icb_id=icb.id,
        agency_account="ACC-1",
        name=f"TEST-{run.id:06d}.csv",
        sha256=f"{run.id:064x}",
        row_count=1,
        total=Decimal("100.00"),
        status=PaymentFileStatus.PARTLY_REJECTED,
    )
    db.session.add(file)
    db.session.flush()
    return file


def _figures(claim: Claim) -> dict[str, Any]:
    day = today()
    return {
        "claim_id": claim.id,
        "provider_id": claim.provider_id,
        "icb_id": claim.icb_id,
        "scheme_id": claim.scheme_id,
        "paycode": claim.scheme.paycode or "",
        "amount": claim.value,
        "payment_month": f"{day:%Y-%m}",
        "financial_year": financial_year_of(day),
        "approved_date": day,
    }


def rejected_payment(claim: Claim, reason: str = "Unknown practice code") -> Payment:
    """The claim's row of a file, rejected by the agency and waiting for finance."""
    payment = Payment(
        reference=f"PAY-T-{next(_numbers):06d}",
        file_id=payment_file(claim.scheme.commissioner).id,
        status=PaymentStatus.REJECTED,
        reason=reason,
        **_figures(claim),
    )
    db.session.add(payment)
    db.session.commit()
    return payment


def pending_payment(claim: Claim) -> Payment:
    """The claim's row of a file waiting for the agency's acknowledgement."""
    payment = Payment(
        reference=f"PAY-T-{next(_numbers):06d}",
        file_id=payment_file(claim.scheme.commissioner).id,
        status=PaymentStatus.PENDING,
        **_figures(claim),
    )
    db.session.add(payment)
    db.session.commit()
    return payment


def paid_claim(scene: ClaimScene, value: str = "100.00") -> Claim:
    """A claim Paid, with its payment recorded by hand by the scene's finance person."""
    (claim,) = approved_claims(scene, status=S.PAID, value=Decimal(value), paid_at=utcnow())
    payment = Payment(
        reference=f"MAN-T-{next(_numbers):06d}",
        recorded_by_id=scene.finance.id,
        status=PaymentStatus.PAID,
        paid_date=today(),
        agency_reference="BACS-1",
        **_figures(claim),
    )
    db.session.add(payment)
    db.session.commit()
    return claim
