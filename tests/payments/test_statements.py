"""What practices see of their payments (payments/services/statements.py and
views/statements.py): the monthly statement read from the payments, statements issued once
with the practice told, the scheduled job's days, the payments page and the downloads.

``Payment`` rows are made directly (the run is not needed to show them); dates are given,
never read from the clock."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from claims_portal.access.roles import Role
from claims_portal.audit.models import AuditEvent
from claims_portal.claims.models import Claim, ClaimStatus
from claims_portal.extensions import db
from claims_portal.jobs.registry import JOBS, JobContext
from claims_portal.mail.models import EmailMessage, Notice
from claims_portal.payments import services
from claims_portal.payments.models import (
    Payment,
    PaymentFile,
    PaymentFileStatus,
    PaymentRecovery,
    PaymentRun,
    PaymentRunKind,
    PaymentStatement,
    PaymentStatus,
    RecoveryStatus,
)
from claims_portal.payments.services import statements as statement_services
from claims_portal.payments.statements import LineKind
from claims_portal.schemes.models import ClaimWindow, SchemeStatus
from tests.admin.helpers import Tenant, make_tenant
from tests.factories.access import user_with_role
from tests.factories.claims import ClaimFactory
from tests.factories.schemes import ClaimWindowFactory, SchemeFactory
from tests.helpers import counted_queries, sign_in

NOV = dt.date(2026, 11, 1)
PAID_ON = dt.date(2026, 11, 20)
BASE = "https://claims.example.nhs.uk"
_numbers = itertools.count(1)
S = ClaimStatus


def _october(scheme) -> ClaimWindow:
    found = db.session.scalar(
        select(ClaimWindow).where(
            ClaimWindow.scheme_id == scheme.id, ClaimWindow.period_start == dt.date(2026, 10, 1)
        )
    )
    return found or ClaimWindowFactory(
        scheme=scheme, period_start=dt.date(2026, 10, 1), period_end=dt.date(2026, 10, 31)
    )


def _claim(tenant: Tenant, scheme, status: ClaimStatus, value: str, **kwargs) -> Claim:
    window = kwargs.pop("window", None) or _october(scheme)
    return ClaimFactory(
        provider=tenant.practice,
        scheme=scheme,
        window=window,
        status=status,
        # One live claim per practice, scheme, period and scope: a scope each.
        scope=f"test-{next(_numbers)}",
        value=Decimal(value),
        submitted_at=dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC),
        approved_at=dt.datetime(2026, 11, 3, 10, 0, tzinfo=dt.UTC),
        **kwargs,
    )


def _file(db_session, tenant: Tenant, *, answered_at: dt.datetime | None = None) -> PaymentFile:
    n = next(_numbers)
    run = PaymentRun(
        slot=f"test-run-{n}", kind=PaymentRunKind.SCHEDULED, run_date=dt.date(2026, 11, 4)
    )
    db_session.add(run)
    db_session.flush()
    payment_file = PaymentFile(
        run_id=run.id,
        icb_id=tenant.icb.id,
        agency_account="ACC-1",
        name=f"TEST-{n:06d}.csv",
        sha256=f"{n:064x}",
        row_count=1,
        total=Decimal("1.00"),
        status=PaymentFileStatus.ACCEPTED,
        sends=1,
        answered_at=answered_at or dt.datetime(2026, 11, 5, 16, 0, tzinfo=dt.UTC),
    )
    db_session.add(payment_file)
    db_session.flush()
    return payment_file


def _pay(
    db_session,
    claim: Claim,
    amount: str,
    payment_file: PaymentFile,
    *,
    status: PaymentStatus = PaymentStatus.PAID,
    paid: dt.date | None = PAID_ON,
    recovery: PaymentRecovery | None = None,
) -> Payment:
    n = next(_numbers)
    payment = Payment(
        reference=f"{'REC' if recovery else 'PAY'}-2026-{n:06d}",
        claim_id=claim.id,
        recovery_id=recovery.id if recovery is not None else None,
        file_id=payment_file.id,
        provider_id=claim.provider_id,
        icb_id=claim.icb_id,
        scheme_id=claim.scheme_id,
        paycode=claim.scheme.paycode,
        amount=Decimal(amount),
        payment_month="2026-11",
        financial_year="2026/27",
        approved_date=dt.date(2026, 11, 3),
        status=status,
        paid_date=paid if status is PaymentStatus.PAID else None,
        agency_reference=f"PCSE-{n:06d}" if status is PaymentStatus.PAID else None,
    )
    db_session.add(payment)
    db_session.flush()
    return payment


def _recovery(db_session, tenant: Tenant, claim: Claim, amount: str) -> PaymentRecovery:
    second = user_with_role(Role.FINANCE, tenant.icb)
    recovery = PaymentRecovery(
        claim_id=claim.id,
        amount=Decimal(amount),
        reason="Counted twice <b>by mistake</b>",
        status=RecoveryStatus.RECOVERED,
        raised_by_id=tenant.finance.id,
        decided_by_id=second.id,
    )
    db_session.add(recovery)
    db_session.flush()
    return recovery


class Scene:
    """Our practice: two schemes; in November 100.00 and 50.00 paid and 20.00 recovered;
    a payment paid in October; one sent for payment (accepted); one expected. Another
    practice of another ICB paid 7.00 in November."""

    def __init__(self, db_session) -> None:
        self.ours = make_tenant()
        self.theirs = make_tenant()
        ours = self.ours
        self.flu = SchemeFactory(
            commissioner=ours.icb, status=SchemeStatus.PUBLISHED, code="LES-FLU", paycode="PCFLU"
        )
        self.diab = SchemeFactory(
            commissioner=ours.icb,
            status=SchemeStatus.PUBLISHED,
            code="LES-DIAB",
            name="Diabetes reviews",
            paycode="PCDIAB",
        )
        paid_file = _file(db_session, ours)
        self.flu_claim = _claim(ours, self.flu, S.PAID, "100.00")
        self.diab_claim = _claim(ours, self.diab, S.PAID, "50.00")
        self.flu_paid = _pay(db_session, self.flu_claim, "100.00", paid_file)
        self.diab_paid = _pay(db_session, self.diab_claim, "50.00", paid_file)
        recovery = _recovery(db_session, ours, self.flu_claim, "20.00")
        self.recovered = _pay(
            db_session,
            self.flu_claim,
            "-20.00",
            _file(db_session, ours),
            paid=dt.date(2026, 11, 25),
            recovery=recovery,
        )
        october = _claim(ours, self.flu, S.PAID, "11.00")
        self.october_paid = _pay(
            db_session, october, "11.00", paid_file, paid=dt.date(2026, 10, 30)
        )
        self.sent_claim = _claim(ours, self.flu, S.SENT_FOR_PAYMENT, "40.00")
        self.sent = _pay(
            db_session,
            self.sent_claim,
            "40.00",
            _file(db_session, ours, answered_at=dt.datetime(2026, 11, 27, 16, 5, tzinfo=dt.UTC)),
            status=PaymentStatus.ACCEPTED,
        )
        self.expected_claim = _claim(ours, self.flu, S.APPROVED_FOR_PAYMENT, "30.00")
        theirs = self.theirs
        their_scheme = SchemeFactory(commissioner=theirs.icb, status=SchemeStatus.PUBLISHED)
        their_claim = _claim(theirs, their_scheme, S.PAID, "7.00")
        self.their_paid = _pay(db_session, their_claim, "7.00", _file(db_session, theirs))
        db_session.commit()


@pytest.fixture
def scene(db_session) -> Scene:
    return Scene(db_session)


# --- The statement -------------------------------------------------------------------------


def test_the_statement_lists_the_months_payments_and_recoveries_with_totals(db_session, scene):
    statement = services.statement_for(
        db_session, scene.ours.practice, NOV, generated=dt.date(2026, 12, 1)
    )
    assert statement.practice_code == scene.ours.practice.ods_code
    assert statement.icb_code == scene.ours.icb.ods_code
    assert [line.payment_reference for line in statement.lines] == [
        scene.flu_paid.reference,
        scene.diab_paid.reference,
        scene.recovered.reference,
    ]
    recovery = statement.lines[2]
    assert recovery.kind is LineKind.RECOVERY
    assert recovery.amount == Decimal("-20.00")
    assert recovery.claim_reference == scene.flu_claim.reference
    assert recovery.period == "October 2026"
    assert statement.lines[0].agency_reference == scene.flu_paid.agency_reference
    assert statement.total == Decimal("130.00")
    assert statement.payments_total == Decimal("150.00")
    assert statement.recoveries_total == Decimal("-20.00")
    assert {t.code: t.amount for t in statement.by_scheme} == {
        "LES-FLU": Decimal("80.00"),
        "LES-DIAB": Decimal("50.00"),
    }
    assert {t.code: (t.lines, t.amount) for t in statement.by_paycode} == {
        "PCFLU": (2, Decimal("80.00")),
        "PCDIAB": (1, Decimal("50.00")),
    }
    # Any day of the month names the month; a month with nothing has no lines.
    assert services.statement_for(db_session, scene.ours.practice, dt.date(2026, 11, 17)).lines
    assert services.statement_for(db_session, scene.ours.practice, dt.date(2026, 9, 1)).lines == ()


def test_statements_are_issued_once_and_each_practice_told_once(db_session, scene):
    assert services.issue_statements(db_session, NOV, BASE) == 2
    db_session.commit()
    ours = db_session.scalar(
        select(PaymentStatement).where(PaymentStatement.provider_id == scene.ours.practice.id)
    )
    assert (ours.month, ours.payments, ours.total) == (NOV, 3, Decimal("130.00"))
    notices = db_session.scalars(
        select(Notice).where(Notice.organisation_id == scene.ours.practice.id)
    ).all()
    assert [n.user_id for n in notices] == [scene.ours.provider.id]
    assert notices[0].link == "/payments/statements"
    assert "November 2026" in notices[0].subject
    (email,) = db_session.scalars(
        select(EmailMessage).where(
            EmailMessage.kind == "payment_statement",
            EmailMessage.recipient == scene.ours.provider.email,
        )
    ).all()
    assert f"{BASE}/payments/statements" in email.body
    assert "£130.00" in email.body
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "payment_statement.issued")
    ).all()
    assert {e.organisation_id for e in events} == {
        scene.ours.practice.id,
        scene.theirs.practice.id,
    }
    # Again: nothing issued twice, nobody told twice.
    assert services.issue_statements(db_session, NOV, BASE) == 0
    db_session.commit()
    assert db_session.scalar(select(func.count(PaymentStatement.id))) == 2
    assert db_session.scalar(select(func.count(Notice.id))) == 2
    assert (
        db_session.scalar(
            select(func.count(EmailMessage.id)).where(EmailMessage.kind == "payment_statement")
        )
        == 2
    )
    # A month nobody was paid in issues nothing.
    assert services.issue_statements(db_session, dt.date(2026, 9, 1), BASE) == 0


@pytest.mark.parametrize(
    ("day", "due"),
    [
        (dt.date(2026, 12, 1), NOV),  # a Tuesday
        (dt.date(2026, 12, 2), None),
        (dt.date(2026, 11, 30), None),
        (dt.date(2027, 1, 1), None),  # New Year's Day
        (dt.date(2027, 1, 4), dt.date(2026, 12, 1)),  # the first working day of 2027
        (dt.date(2026, 8, 1), None),  # a Saturday
        (dt.date(2026, 8, 3), dt.date(2026, 7, 1)),
    ],
)
def test_statements_are_due_on_the_first_working_day_of_a_month(day, due):
    assert services.statements_due(day) == due


def test_the_job_does_nothing_on_other_days_and_issues_on_the_first_working_day(
    app, db_session, scene, monkeypatch
):
    spec = JOBS[services.STATEMENTS_JOB]
    assert spec.scheduled
    context = JobContext("test", app.config)
    detail = spec.function(context, today="2026-12-02")
    assert "nothing to do" in detail
    assert db_session.scalar(select(func.count(PaymentStatement.id))) == 0
    # Without a date the job reads the clock (claims_portal.clock).
    monkeypatch.setattr(statement_services.clock, "today", lambda: dt.date(2026, 12, 1))
    assert spec.function(context) == "2 statement(s) for November 2026 issued"
    db_session.expire_all()
    assert db_session.scalar(select(func.count(PaymentStatement.id))) == 2
    assert spec.function(context) == "0 statement(s) for November 2026 issued"


# --- The payments page and the downloads -----------------------------------------------------


def _figures(text: str) -> dict[str, tuple[str, str]]:
    figures = {}
    for label in ("Expected", "Sent for payment", "Paid", "Recovered"):
        start = text.index(f'data-figure="{label}"')
        row = text[start : text.index("</tr>", start)]
        cells = [
            part.split("</td>")[0].strip() for part in row.split("nhsuk-table__cell--numeric")[1:]
        ]
        figures[label] = tuple(cell.split(">", 1)[1].strip() for cell in cells)
    return figures


def test_the_payments_page_shows_the_figures_by_status(client, db_session, scene):
    sign_in(client, scene.ours.provider.email)
    page = client.get("/payments")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert _figures(text) == {
        "Expected": ("1", "£30.00"),
        "Sent for payment": ("1", "£40.00"),
        "Paid": ("3", "£161.00"),
        "Recovered": ("1", "£20.00"),
    }
    for claim in (scene.flu_claim, scene.sent_claim, scene.expected_claim):
        assert f'data-claim="{claim.reference}"' in text
    sent_row = text[text.index(f'data-claim="{scene.sent_claim.reference}"') :]
    sent_row = sent_row[: sent_row.index("</tr>")]
    assert "Sent for payment" in sent_row
    assert "3 November 2026" in sent_row  # approved
    assert "27 November 2026" in sent_row  # the file accepted
    paid_row = text[text.index(f'data-claim="{scene.diab_claim.reference}"') :]
    paid_row = paid_row[: paid_row.index("</tr>")]
    assert "20 November 2026" in paid_row
    assert scene.diab_paid.agency_reference in paid_row
    # The recovery, its reason as text.
    assert scene.recovered.reference in text
    assert "Counted twice &lt;b&gt;by mistake&lt;/b&gt;" in text
    # Another practice's claims are not here.
    assert scene.their_paid.reference not in text
    only_sent = client.get("/payments?show=sent").get_data(as_text=True)
    assert f'data-claim="{scene.sent_claim.reference}"' in only_sent
    assert f'data-claim="{scene.expected_claim.reference}"' not in only_sent


def test_the_payments_page_is_paged(client, db_session):
    tenant = make_tenant()
    scheme = SchemeFactory(commissioner=tenant.icb, status=SchemeStatus.PUBLISHED)
    window = ClaimWindowFactory(scheme=scheme)
    claims = [
        _claim(tenant, scheme, S.APPROVED_FOR_PAYMENT, "1.00", window=window) for _ in range(51)
    ]
    db_session.commit()
    sign_in(client, tenant.provider.email)
    first = client.get("/payments").get_data(as_text=True)
    assert first.count("data-claim=") == 50
    assert "page 1 of 2" in first
    second = client.get("/payments?page=2").get_data(as_text=True)
    assert second.count("data-claim=") == 1
    assert f'data-claim="{claims[0].reference}"' in second  # the same approval time: by id
    assert client.get("/payments?page=x").status_code == 200


def _month_row(text: str, month: str) -> str:
    start = text.index(f'data-month="{month}"')
    return text[start : text.index("</tr>", start)]


def test_statements_are_listed_and_downloaded(client, db_session, scene):
    sign_in(client, scene.ours.provider.email)
    listing = client.get("/payments/statements").get_data(as_text=True)
    assert "Not issued yet" in _month_row(listing, "2026-11")
    assert "Not issued yet" in _month_row(listing, "2026-10")
    services.issue_statements(db_session, NOV, BASE)
    db_session.commit()
    listing = client.get("/payments/statements").get_data(as_text=True)
    november = _month_row(listing, "2026-11")
    assert "Not issued yet" not in november
    assert "£130.00" in november
    assert ">3<" in november
    assert "Not issued yet" in _month_row(listing, "2026-10")
    assert listing.index('data-month="2026-11"') < listing.index('data-month="2026-10"')
    assert "/payments/statements/2026-11.pdf" in listing
    assert "/payments/statements/2026-11.xlsx" in listing
    code = scene.ours.practice.ods_code
    pdf = client.get("/payments/statements/2026-11.pdf")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.get_data().startswith(b"%PDF")
    assert pdf.headers["Content-Disposition"].startswith(
        f'attachment; filename="statement-{code}-2026-11.pdf"'
    )
    xlsx = client.get("/payments/statements/2026-11.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.headers["Content-Disposition"].startswith("attachment; filename=")
    rows = list(load_workbook(io.BytesIO(xlsx.get_data()))["Statement"].iter_rows(values_only=True))
    references = {row[1] for row in rows}
    assert {scene.flu_paid.reference, scene.diab_paid.reference, scene.recovered.reference} <= (
        references
    )
    assert scene.october_paid.reference not in references
    # A month with nothing, or no month at all: not found.
    assert client.get("/payments/statements/2026-09.pdf").status_code == 404
    assert client.get("/payments/statements/2026-13.xlsx").status_code == 404
    assert client.get("/payments/statements/november.pdf").status_code == 404
    assert client.get("/payments/statements/2026-11.csv").status_code == 404


def test_another_practice_cannot_see_ours(client, db_session, scene):
    # Ours was paid in October; theirs was not: their October is not found, whoever asks.
    sign_in(client, scene.theirs.provider.email)
    assert client.get("/payments/statements/2026-10.pdf").status_code == 404
    assert client.get("/payments/statements/2026-10.xlsx").status_code == 404
    november = client.get("/payments/statements/2026-11.xlsx")
    assert november.status_code == 200
    text = str(list(load_workbook(io.BytesIO(november.get_data())).active.values))
    assert scene.their_paid.reference in text
    assert scene.flu_paid.reference not in text
    page = client.get("/payments").get_data(as_text=True)
    assert scene.flu_claim.reference not in page


@pytest.mark.parametrize("role", ["finance", "tier_1", "admin"])
def test_commissioners_are_refused(client, db_session, scene, role):
    sign_in(client, getattr(scene.ours, role).email)
    assert client.get("/payments").status_code == 403
    assert client.get("/payments/statements").status_code == 403
    assert client.get("/payments/statements/2026-11.pdf").status_code == 403


def test_the_payments_page_asks_the_same_queries_however_many_claims(client, db_session):
    tenant = make_tenant()
    scheme = SchemeFactory(commissioner=tenant.icb, status=SchemeStatus.PUBLISHED)
    window = _october(scheme)
    payment_file = _file(db_session, tenant)
    for _ in range(3):
        _pay(
            db_session, _claim(tenant, scheme, S.PAID, "2.00", window=window), "2.00", payment_file
        )
    db_session.commit()
    sign_in(client, tenant.provider.email)
    client.get("/payments")
    with counted_queries() as few:
        assert client.get("/payments").status_code == 200
    for _ in range(40):
        _pay(
            db_session, _claim(tenant, scheme, S.PAID, "2.00", window=window), "2.00", payment_file
        )
    db_session.commit()
    with counted_queries() as many:
        text = client.get("/payments").get_data(as_text=True)
    assert text.count("data-claim=") == 43
    assert len(many) == len(few)


def test_a_claim_waiting_in_a_file_or_rejected_says_so(client, db_session):
    tenant = make_tenant()
    scheme = SchemeFactory(commissioner=tenant.icb, status=SchemeStatus.PUBLISHED)
    waiting = _claim(tenant, scheme, S.APPROVED_FOR_PAYMENT, "5.00")
    _pay(db_session, waiting, "5.00", _file(db_session, tenant), status=PaymentStatus.PENDING)
    rejected = _claim(tenant, scheme, S.APPROVED_FOR_PAYMENT, "6.00")
    row = _pay(
        db_session, rejected, "6.00", _file(db_session, tenant), status=PaymentStatus.REJECTED
    )
    row.reason = "Practice not set up for this paycode"
    db_session.commit()
    sign_in(client, tenant.provider.email)
    text = client.get("/payments?show=expected").get_data(as_text=True)

    def claim_row(claim: Claim) -> str:
        start = text.index(f'data-claim="{claim.reference}"')
        return text[start : text.index("</tr>", start)]

    assert "waiting for the agency" in claim_row(waiting)
    assert "Rejected by the agency: Practice not set up for this paycode" in claim_row(rejected)
    assert "Sent </span></td>" in claim_row(waiting)  # not sent: no sent date
    assert _figures(text)["Expected"] == ("2", "£11.00")
