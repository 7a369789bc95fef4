"""What practices see of their payments: the monthly remittance statement and the payments
page's figures (issue 15, "What people see").

- :func:`statement_for`: a practice's statement for a month, read from its payments and
  recoveries the agency (or finance, by hand) paid in that month. It is read again whenever
  it is shown, so the PDF, the XLSX and the payments page always agree.
- :func:`issue_statements`: for each practice paid something in a month, its
  ``payment_statement`` row (once: unique by practice and month) and a message centre item
  and email to its users saying the statement is ready.
- The scheduled job ``payments.statements`` (daily at 06:00) issues last month's statements
  on the first working day of each month (:func:`statements_due`) and does nothing on other
  days.
- :func:`payments_summary`, :func:`payment_claims`, :func:`practice_recoveries`,
  :func:`statement_months`: the payments page.

Every function takes its dates as arguments; only the job reads the clock.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select

from claims_portal import clock
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import holders_in, icb_of
from claims_portal.audit.services import record_event
from claims_portal.claims.models import REFERENCE_PREFIX, Claim, ClaimStatus
from claims_portal.claims.services.listing import period_label
from claims_portal.db import DbSession
from claims_portal.extensions import db
from claims_portal.jobs.registry import JobContext, job
from claims_portal.mail.kinds import EmailKind
from claims_portal.mail.services.notices import tell
from claims_portal.organisations.models import Organisation
from claims_portal.payments.models import (
    Payment,
    PaymentFile,
    PaymentRecovery,
    PaymentStatement,
    PaymentStatus,
)
from claims_portal.payments.statements import LineKind, Statement, StatementLine
from claims_portal.payments.working_days import is_working_day, next_working_day
from claims_portal.schemes.models import Scheme

STATEMENTS_JOB = "payments.statements"
#: Where a practice's statements are listed (the emailed link; ``views/statements.py``).
STATEMENTS_PATH = "/payments/statements"
#: Claims a practice sees on its payments page, in the order its tabs list them.
PAYMENT_SIDE = (
    ClaimStatus.APPROVED_FOR_PAYMENT,
    ClaimStatus.PAYMENT_ON_HOLD,
    ClaimStatus.SENT_FOR_PAYMENT,
    ClaimStatus.PAID,
)
PAGE_SIZE = 50
RECOVERIES_SHOWN = 50
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
ZERO = Decimal("0.00")


# --- Months -------------------------------------------------------------------------------


def month_of(day: dt.date) -> dt.date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return month_of(month_of(month) + dt.timedelta(days=32))


def previous_month(day: dt.date) -> dt.date:
    return month_of(month_of(day) - dt.timedelta(days=1))


def parse_month(text: str) -> dt.date | None:
    """``2026-11`` as its first day; ``None`` for anything else."""
    match = _MONTH.fullmatch(text)
    if match is None:
        return None
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def first_working_day(month: dt.date) -> dt.date:
    """The first working day of ``month`` (England and Wales)."""
    first = month_of(month)
    return first if is_working_day(first) else next_working_day(first)


def statements_due(day: dt.date) -> dt.date | None:
    """The month whose statements are issued on ``day``: the month before, when ``day`` is
    the first working day of its month; else ``None``."""
    return previous_month(day) if day == first_working_day(day) else None


# --- The statement ------------------------------------------------------------------------


def _claim_reference(claim_id: int) -> str:
    # Claim.reference's rule, from the id alone (the statement reads no Claim objects).
    return f"{REFERENCE_PREFIX}{claim_id:06d}"


def _paid_in(month: dt.date) -> Any:
    return and_(
        Payment.status == PaymentStatus.PAID,
        Payment.paid_date >= month,
        Payment.paid_date < next_month(month),
    )


def statement_lines(
    session: DbSession, provider: Organisation, month: dt.date
) -> list[StatementLine]:
    """Every payment and recovery of ``provider`` paid in ``month`` (by paid date, then
    reference)."""
    month = month_of(month)
    rows = session.execute(
        select(
            Payment.paid_date,
            Payment.reference,
            Payment.agency_reference,
            Payment.claim_id,
            Scheme.code,
            Scheme.name,
            Payment.paycode,
            Claim.period_start,
            Claim.period_end,
            Payment.amount,
            Payment.recovery_id,
        )
        .join(Claim, Claim.id == Payment.claim_id)
        .join(Scheme, Scheme.id == Payment.scheme_id)
        .where(Payment.provider_id == provider.id, _paid_in(month))
        .order_by(Payment.paid_date, Payment.reference)
    )
    return [
        StatementLine(
            paid_date=row.paid_date,
            payment_reference=row.reference,
            agency_reference=row.agency_reference or "",
            claim_reference=_claim_reference(row.claim_id),
            scheme_code=row.code,
            scheme_name=row.name,
            paycode=row.paycode,
            period=period_label(row.period_start, row.period_end),
            amount=row.amount,
            kind=LineKind.PAYMENT if row.recovery_id is None else LineKind.RECOVERY,
        )
        for row in rows
    ]


def statement_for(
    session: DbSession,
    provider: Organisation,
    month: dt.date,
    *,
    generated: dt.date | None = None,
) -> Statement:
    """``provider``'s statement for ``month`` (any day of it), dated ``generated`` (today,
    England's date, unless given)."""
    icb = icb_of(provider)
    return Statement(
        practice_name=provider.name,
        practice_code=provider.ods_code,
        icb_name=icb.name if icb is not None else "",
        icb_code=icb.ods_code if icb is not None else "",
        month=month_of(month),
        generated=generated or clock.today(),
        lines=tuple(statement_lines(session, provider, month)),
    )


def issue_statements(session: DbSession, month: dt.date, base_url: str) -> int:
    """Issue ``month``'s statements: for each practice with a payment or recovery paid in it
    and no statement for it yet, its ``payment_statement`` row (``payments``: its lines,
    payments and recoveries; ``total``: their sum), audited as ``payment_statement.issued``,
    and a message centre item and email to the practice's users (links start with
    ``base_url``). Running it again issues nothing twice. Returns how many were issued."""
    month = month_of(month)
    already = select(PaymentStatement.id).where(
        PaymentStatement.provider_id == Payment.provider_id, PaymentStatement.month == month
    )
    due = session.execute(
        select(Payment.provider_id, func.count(Payment.id), func.sum(Payment.amount))
        .where(_paid_in(month), ~already.exists())
        .group_by(Payment.provider_id)
        .order_by(Payment.provider_id)
    ).all()
    if not due:
        return 0
    providers = {
        o.id: o
        for o in session.scalars(
            select(Organisation).where(Organisation.id.in_([row[0] for row in due]))
        )
    }
    statements = []
    for provider_id, lines, total in due:
        statement = PaymentStatement(
            provider_id=provider_id, month=month, payments=lines, total=total
        )
        session.add(statement)
        statements.append(statement)
    session.flush()
    people = holders_in(session, providers.values(), Capability.VIEW_PRACTICE_PAYMENTS)
    label = f"{month:%B %Y}"
    for statement in statements:
        provider = providers[statement.provider_id]
        record_event(
            session,
            action="payment_statement.issued",
            object_type="payment_statement",
            object_id=statement.id,
            organisation=provider,
            after={
                "month": month.isoformat(),
                "payments": statement.payments,
                "total": str(statement.total),
            },
        )
        tell(
            session,
            people.get(provider.id, []),
            organisation=provider,
            subject=f"Your payments statement for {label} is ready",
            # The first paragraph restates the subject (the message centre shows the rest).
            body=(
                f"{provider.display_name}'s payments statement for {label} is ready.\n\n"
                f"It lists {statement.payments} payment(s) and recoveries paid in {label}, "
                f"{_money(statement.total)} in all.\n\nDownload it as a PDF or a spreadsheet "
                "(XLSX) from the Payments page."
            ),
            link=STATEMENTS_PATH,
            kind=EmailKind.PAYMENT_STATEMENT,
            actor=None,
            base_url=base_url,
        )
    return len(statements)


def _money(amount: Decimal) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}£{abs(amount):,.2f}"


def issue_due_statements(session: DbSession, today: dt.date, base_url: str) -> str:
    """What the job does on ``today``: last month's statements on the first working day of
    the month, nothing on other days. Returns what it did, in words."""
    month = statements_due(today)
    if month is None:
        return f"{today.isoformat()} is not the first working day of its month: nothing to do"
    issued = issue_statements(session, month, base_url)
    return f"{issued} statement(s) for {month:%B %Y} issued"


@job(STATEMENTS_JOB, scheduled=True)
def statements_job(context: JobContext, today: str | None = None) -> str:
    """The scheduled job (``payments.statements``): ``today`` (ISO date) stands in for the
    clock's England date when given."""
    from claims_portal.hosts import public_base_url

    day = dt.date.fromisoformat(today) if today else clock.today()
    detail = issue_due_statements(db.session, day, base_url=public_base_url())
    db.session.commit()
    return detail


# --- The payments page --------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One figure of the payments page's summary."""

    label: str
    count: int
    amount: Decimal


def payments_summary(session: DbSession, provider: Organisation) -> list[Figure]:
    """Expected (approved for payment, not yet sent), Sent for payment (accepted by the
    agency, not yet paid), Paid, Recovered: counts and amounts (two queries)."""
    expected = session.execute(
        select(func.count(Claim.id), func.coalesce(func.sum(Claim.value), 0)).where(
            Claim.provider_id == provider.id, Claim.status == ClaimStatus.APPROVED_FOR_PAYMENT
        )
    ).one()
    grouped: dict[tuple[PaymentStatus, bool], tuple[int, Decimal | None]] = {
        (status, is_recovery): (count, amount)
        for status, is_recovery, count, amount in session.execute(
            select(
                Payment.status,
                Payment.recovery_id.is_not(None),
                func.count(Payment.id),
                func.sum(Payment.amount),
            )
            .where(
                Payment.provider_id == provider.id,
                Payment.status.in_([PaymentStatus.ACCEPTED, PaymentStatus.PAID]),
            )
            .group_by(Payment.status, Payment.recovery_id.is_not(None))
        )
    }

    def figure(label: str, status: PaymentStatus, recovery: bool) -> Figure:
        count, amount = grouped.get((status, recovery), (0, ZERO))
        return Figure(label, count, abs(amount or ZERO))

    return [
        Figure("Expected", expected[0], Decimal(expected[1] or 0)),
        figure("Sent for payment", PaymentStatus.ACCEPTED, False),
        figure("Paid", PaymentStatus.PAID, False),
        figure("Recovered", PaymentStatus.PAID, True),
    ]


@dataclass(frozen=True)
class PaymentClaim:
    """One claim on the payments page, with where its payment stands."""

    claim_id: int
    status: ClaimStatus
    scheme_name: str
    period: str
    value: Decimal | None
    approved_at: dt.datetime | None
    payment_status: PaymentStatus | None
    #: When the agency accepted the file holding its payment.
    sent_at: dt.datetime | None
    paid_date: dt.date | None
    agency_reference: str | None
    payment_reference: str | None
    rejected_reason: str | None

    @property
    def reference(self) -> str:
        return _claim_reference(self.claim_id)


@dataclass(frozen=True)
class ClaimsPage:
    claims: list[PaymentClaim]
    page: int
    pages: int
    total: int


def payment_claims(
    session: DbSession,
    provider: Organisation,
    *,
    statuses: Sequence[ClaimStatus] = PAYMENT_SIDE,
    page: int = 1,
) -> ClaimsPage:
    """``provider``'s claims in ``statuses``, newest approval first, ``PAGE_SIZE`` a page,
    each with its latest payment (the live one, else the latest rejected one)."""
    where = and_(Claim.provider_id == provider.id, Claim.status.in_(list(statuses)))
    total = session.scalar(select(func.count(Claim.id)).where(where)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    # The claim's latest payment (not a recovery's): at most one live one (a unique index);
    # when none is live, the latest rejected one says why it came back.
    latest = (
        select(Payment.id)
        .where(
            Payment.claim_id == Claim.id,
            Payment.recovery_id.is_(None),
            Payment.status != PaymentStatus.WITHDRAWN,
        )
        .order_by(Payment.id.desc())
        .limit(1)
        .correlate(Claim)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Claim.id,
            Claim.status,
            Scheme.name,
            Claim.period_start,
            Claim.period_end,
            Claim.value,
            Claim.approved_at,
            Payment.status,
            PaymentFile.answered_at,
            Payment.paid_date,
            Payment.agency_reference,
            Payment.reference,
            Payment.reason,
        )
        .join(Scheme, Scheme.id == Claim.scheme_id)
        .outerjoin(Payment, Payment.id == latest)
        .outerjoin(PaymentFile, PaymentFile.id == Payment.file_id)
        .where(where)
        .order_by(Claim.approved_at.desc().nulls_last(), Claim.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    claims = []
    for row in rows:
        payment_status = row[7]
        sent = payment_status in (PaymentStatus.ACCEPTED, PaymentStatus.PAID)
        claims.append(
            PaymentClaim(
                claim_id=row[0],
                status=row[1],
                scheme_name=row[2],
                period=period_label(row[3], row[4]),
                value=row[5],
                approved_at=row[6],
                payment_status=payment_status,
                sent_at=row[8] if sent else None,
                paid_date=row[9],
                agency_reference=row[10],
                payment_reference=row[11],
                rejected_reason=row[12] if payment_status is PaymentStatus.REJECTED else None,
            )
        )
    return ClaimsPage(claims, page, pages, total)


@dataclass(frozen=True)
class PracticeRecovery:
    claim_id: int
    reference: str
    amount: Decimal
    reason: str
    payment_status: PaymentStatus
    paid_date: dt.date | None

    @property
    def claim_reference(self) -> str:
        return _claim_reference(self.claim_id)


def practice_recoveries(
    session: DbSession, provider: Organisation, *, limit: int = RECOVERIES_SHOWN
) -> list[PracticeRecovery]:
    """The newest recoveries on their way or made (their rows sent, accepted or paid)."""
    rows = session.execute(
        select(
            Payment.claim_id,
            Payment.reference,
            Payment.amount,
            PaymentRecovery.reason,
            Payment.status,
            Payment.paid_date,
        )
        .join(PaymentRecovery, PaymentRecovery.id == Payment.recovery_id)
        .where(
            Payment.provider_id == provider.id,
            or_(
                Payment.status == PaymentStatus.PENDING,
                Payment.status == PaymentStatus.ACCEPTED,
                Payment.status == PaymentStatus.PAID,
            ),
        )
        .order_by(Payment.id.desc())
        .limit(limit)
    )
    return [PracticeRecovery(row[0], row[1], -row[2], row[3], row[4], row[5]) for row in rows]


@dataclass(frozen=True)
class StatementMonth:
    """A month the practice was paid something in, with its figures as they are now."""

    month: dt.date
    lines: int
    total: Decimal
    #: Its statement was issued (the month is over and the job has run).
    issued: bool

    @property
    def slug(self) -> str:
        return f"{self.month:%Y-%m}"


def statement_months(session: DbSession, provider: Organisation) -> list[StatementMonth]:
    """Every month with a payment or recovery of the practice paid in it, newest first, and
    whether its statement was issued: a month not yet issued (this month, so far) can be
    downloaded too. One pass over the practice's paid payments by day (its index,
    ``ix_payment_provider_paid``), added up by month here (SQLite has no month function)."""
    lines: dict[dt.date, int] = {}
    totals: dict[dt.date, Decimal] = {}
    for paid_date, count, amount in session.execute(
        select(Payment.paid_date, func.count(Payment.id), func.sum(Payment.amount))
        .where(Payment.provider_id == provider.id, Payment.status == PaymentStatus.PAID)
        .group_by(Payment.paid_date)
    ):
        if paid_date is None:  # never: a paid payment has its date (paid_has_date)
            continue
        month = month_of(paid_date)
        lines[month] = lines.get(month, 0) + count
        totals[month] = totals.get(month, ZERO) + amount
    issued = set(
        session.scalars(
            select(PaymentStatement.month).where(PaymentStatement.provider_id == provider.id)
        )
    )
    return [
        StatementMonth(month, lines[month], totals[month], month in issued)
        for month in sorted(lines, reverse=True)
    ]
