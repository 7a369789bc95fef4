"""The demo's payment run (make run): the demo ICB can pay (its agency account), one claim was
paid through a real run and remittance, the other's row was rejected and waits for finance."""

from __future__ import annotations

from sqlalchemy import select

from claims_portal.claims.models import Claim, ClaimStatus
from claims_portal.demo import load_demo_data
from claims_portal.organisations.models import Organisation
from claims_portal.payments.demo import DEMO_AGENCY_ACCOUNT, DEMO_REJECTION
from claims_portal.payments.models import (
    Payment,
    PaymentFile,
    PaymentFileStatus,
    PaymentStatus,
)
from claims_portal.payments.services import payment_settings, rejected_payments


def test_the_demo_run_paid_one_claim_and_left_one_for_finance(db_session):
    load_demo_data(db_session)
    icb = db_session.scalar(select(Organisation).where(Organisation.ods_code == "QXV"))
    assert payment_settings(db_session, icb).agency_account == DEMO_AGENCY_ACCOUNT
    file = db_session.scalar(select(PaymentFile))
    assert file.status is PaymentFileStatus.PARTLY_REJECTED
    payments = db_session.scalars(select(Payment).order_by(Payment.reference)).all()
    assert [p.status for p in payments] == [PaymentStatus.REJECTED, PaymentStatus.PAID]
    assert payments[0].reason == DEMO_REJECTION
    paid = db_session.get(Claim, payments[1].claim_id)
    assert paid.status is ClaimStatus.PAID
    back = db_session.get(Claim, payments[0].claim_id)
    assert back.status is ClaimStatus.APPROVED_FOR_PAYMENT
    assert [r.claim_id for r in rejected_payments(db_session, icb)] == [back.id]
    # loading again adds nothing
    load_demo_data(db_session)
    assert len(db_session.scalars(select(Payment)).all()) == 2
