"""Demo payments for ``make run``: the paycodes the demo schemes are paid under (added by the
demo ICB's administrator through the service, so audited like any other); the demo ICB's
payments settings; and a real payment run over the demo's approved claims, answered by the
agency in process: one claim paid, the other's row rejected, waiting for finance."""

from __future__ import annotations

from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.db import DbSession
from claims_portal.organisations.models import Organisation
from claims_portal.payments import services
from claims_portal.payments.models import Paycode
from claims_portal.payments.transport import DropFolder

#: (code, description, subjective code, contract types). Our own examples: the agency's
#: list is not public.
DEMO_PAYCODES = (
    ("LESHC01", "Local enhanced service: NHS Health Checks", "521100", ("GMS", "PMS", "APMS")),
    ("LISQI02", "Local incentive scheme: diabetes care quality", "521200", ("GMS", "PMS")),
    ("LESPHL3", "Local enhanced service: phlebotomy", "521300", ("GMS", "PMS", "APMS")),
    ("LESEA04", "Local enhanced service: enhanced access sessions", "521400", ("GMS", "PMS")),
    ("LISAPMS1", "Local incentive scheme: APMS access", "521500", ("APMS",)),
)


def load_demo_paycodes(session: DbSession, *, administrator_email: str, icb_code: str) -> int:
    """Add the demo paycodes that are missing; returns how many were added."""
    administrator = session.scalar(select(User).where(User.email == administrator_email))
    icb = session.scalar(select(Organisation).where(Organisation.ods_code == icb_code))
    if administrator is None or icb is None:
        return 0
    have = set(session.scalars(select(Paycode.code)))
    created = 0
    for code, description, subjective_code, contract_types in DEMO_PAYCODES:
        if code in have:
            continue
        services.add_paycode(
            session,
            actor=administrator,
            organisation=icb,
            code=code,
            description=description,
            subjective_code=subjective_code,
            contract_types=contract_types,
        )
        created += 1
    return created


DEMO_AGENCY_ACCOUNT = "PCSE-QXV-0001"
DEMO_REJECTION = "Practice not set up for this paycode"


def load_demo_payments(session: DbSession, *, icb_code: str, finance_email: str) -> int:
    """The ICB's payments settings and, once, a demo payment run (see the module doc);
    returns how many records were added."""
    import tempfile

    from claims_portal.clock import now, today
    from claims_portal.payments.models import IcbPaymentSettings, Payment, PaymentRunKind
    from claims_portal.payments.services import answers, run

    icb = session.scalar(select(Organisation).where(Organisation.ods_code == icb_code))
    finance = session.scalar(select(User).where(User.email == finance_email))
    if icb is None or finance is None:
        return 0
    created = 0
    if (
        session.scalar(select(IcbPaymentSettings).where(IcbPaymentSettings.icb_id == icb.id))
        is None
    ):
        session.add(
            IcbPaymentSettings(
                icb_id=icb.id,
                agency_account=DEMO_AGENCY_ACCOUNT,
                finance_contacts=[finance_email],
                cut_off_working_days=8,
                payment_day=20,
                updated_by_id=finance.id,
            )
        )
        session.commit()
        created += 1
    if session.scalar(select(Payment.id).limit(1)) is not None:
        return created
    moment = now()
    with tempfile.TemporaryDirectory() as folder:
        transport = DropFolder(folder)
        outcome = run.run_payments(
            session,
            transport,
            run_date=today(),
            now=moment,
            kind=PaymentRunKind.BY_HAND,
            icb=icb,
            by=finance,
            slot=f"demo:{icb_code}",
        )
        if not outcome.files:
            return created
        _answer_as_the_agency(session, transport, outcome.files[0])
        answers.read_answers(session, transport, moment, base_url="")
    return created + outcome.rows


def _answer_as_the_agency(session: DbSession, transport: DropFolder, file_id: int) -> None:
    """Accept the file; reject its first row; pay the others (an acknowledgement and a
    remittance in the transport's incoming area, as the agency would leave them)."""
    import io

    from claims_portal.clock import today
    from claims_portal.payments import responses
    from claims_portal.payments.models import Payment, PaymentFile

    file = session.get(PaymentFile, file_id)
    assert file is not None
    payments = list(
        session.scalars(select(Payment).where(Payment.file_id == file_id).order_by("reference"))
    )
    rejected = payments[0].reference if len(payments) > 1 else None
    rows = tuple(
        responses.RowOutcome(
            p.reference,
            responses.Outcome.REJECTED if p.reference == rejected else responses.Outcome.ACCEPTED,
            DEMO_REJECTION if p.reference == rejected else "",
        )
        for p in payments
    )
    ack = io.BytesIO()
    responses.write_acknowledgement(
        responses.Acknowledgement(file.sha256, responses.Outcome.ACCEPTED, "", rows), ack
    )
    paid = io.BytesIO()
    responses.write_remittance(
        [
            responses.PaidRow(p.reference, today(), f"PCSE-{p.id:06d}", p.amount)
            for p in payments
            if p.reference != rejected
        ],
        paid,
    )
    transport.put("incoming", f"ack-{file.sha256}-1.csv", [ack.getvalue()])
    transport.put("incoming", f"remittance-{file.sha256}.csv", [paid.getvalue()])
