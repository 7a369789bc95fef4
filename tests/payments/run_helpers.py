"""Claims approved for payment, committed for real, for the payment run's tests on databases
of their own (races between connections, a run killed part way)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from claims_portal.claims.models import ClaimStatus
from claims_portal.extensions import db
from claims_portal.payments.models import IcbPaymentSettings
from tests.factories.claims import ClaimFactory
from tests.factories.organisations import IcbFactory, PracticeFactory, SubLocationFactory
from tests.factories.schemes import ClaimWindowFactory, SchemeFactory

APPROVED_AT = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def commit_approved_claims(icbs: int, each: int, value: str = "10.00") -> list[int]:
    """``icbs`` ICBs, each with an agency account, a practice and ``each`` claims approved
    for payment (committed; call in an app context); returns the claims' ids."""
    made = []
    for _ in range(icbs):
        icb = IcbFactory()
        practice = PracticeFactory(parent=SubLocationFactory(parent=icb))
        scheme = SchemeFactory(commissioner=icb)
        window = ClaimWindowFactory(scheme=scheme)
        for index in range(each):
            claim = ClaimFactory(
                provider=practice,
                scheme=scheme,
                window=window,
                scope=f"component:{index}",
                status=ClaimStatus.APPROVED_FOR_PAYMENT,
                value=Decimal(value),
                submitted_at=APPROVED_AT,
                approved_at=APPROVED_AT,
            )
            made.append(claim.id)
        db.session.add(
            IcbPaymentSettings(
                icb_id=icb.id,
                agency_account="A1",
                finance_contacts=[],
                cut_off_working_days=8,
                payment_day=20,
            )
        )
    db.session.commit()
    db.session.remove()
    return made
