"""What commissioners and national bodies read of the payments (issue 15, "What people see").

- The **payments report**: the payment files sent for an ICB (newest first, paged, by
  status and month), each file's rows and the agency's responses read for it.
- The **accruals report** for month-end: claims approved but not yet paid as at a day, by
  scheme, paycode and month approved, with counts and exact totals.
- **National totals**: what was paid (payments less recoveries) by ICB and month.

Whose figures: a :class:`ReportScope` is an ICB, or one of its sub-locations. Files are the
ICB's; a sub-location's staff see only the files holding rows of claims made to the
sub-location (``Claim.sub_location_id``), and of each file only those rows, counted and
totalled over them; the agency's responses are about a whole file, so they are the ICB's
staff's only. Reading only: nothing here changes anything.

Money is ``Decimal`` throughout, summed by the database (``NUMERIC``) or in Python, never
as floats.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import case, func, select

from claims_portal.access.services.permissions import icb_of
from claims_portal.claims.models import Claim, ClaimStatus
from claims_portal.clock import ENGLAND
from claims_portal.db import DbSession
from claims_portal.organisations.models import Organisation, OrganisationKind
from claims_portal.payments.models import (
    Payment,
    PaymentFile,
    PaymentFileStatus,
    PaymentResponse,
    PaymentRun,
    PaymentStatus,
)
from claims_portal.rules import Problem
from claims_portal.schemes.models import Scheme

#: Files on a page of the payments report; rows on a page of a file.
FILES_PAGE_SIZE = 25
ROWS_PAGE_SIZE = 100
#: Rows fetched at a time by a download (memory stays flat).
CHUNK = 1000
ZERO = Decimal("0.00")

#: A claim approved and not yet paid: what the accruals count (as at today).
UNPAID_APPROVED = (
    ClaimStatus.APPROVED_FOR_PAYMENT,
    ClaimStatus.SENT_FOR_PAYMENT,
    ClaimStatus.PAYMENT_ON_HOLD,
)


@dataclass(frozen=True)
class ReportScope:
    """Whose payments a report holds: an ICB's, or (``sub_location_id``) one sub-location's."""

    icb_id: int
    icb_name: str
    sub_location_id: int | None = None
    sub_location_name: str | None = None

    @property
    def whole_icb(self) -> bool:
        return self.sub_location_id is None

    @property
    def name(self) -> str:
        return self.sub_location_name or self.icb_name


def report_scope(organisation: Organisation) -> ReportScope | None:
    """The scope of a person acting for ``organisation``: its ICB, or the sub-location itself;
    ``None`` for an organisation under no ICB (a national body)."""
    icb = icb_of(organisation)
    if icb is None:
        return None
    if organisation.kind is OrganisationKind.ICB_SUB_LOCATION:
        return ReportScope(icb.id, icb.display_name, organisation.id, organisation.display_name)
    return ReportScope(icb.id, icb.display_name)


@dataclass(frozen=True)
class Page:
    """One page of a list: its items, the page shown (past the end: the last) and the pages."""

    items: list[Any]
    page: int
    pages: int
    total: int
    size: int

    @property
    def first_number(self) -> int:
        return 0 if not self.total else (self.page - 1) * self.size + 1

    @property
    def last_number(self) -> int:
        return self.first_number + len(self.items) - 1 if self.items else 0


def _page(session: DbSession, statement: Any, page: int, size: int, row: Any) -> Page:
    total = int(session.scalar(select(func.count()).select_from(statement.subquery())) or 0)
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    found = session.execute(statement.limit(size).offset((page - 1) * size)).all()
    return Page([row(values) for values in found], page, pages, total, size)


def _chunks(session: DbSession, statement: Any, row: Any) -> Iterator[Any]:
    offset = 0
    while True:
        batch = session.execute(statement.limit(CHUNK).offset(offset)).all()
        yield from (row(values) for values in batch)
        if len(batch) < CHUNK:
            return
        offset += CHUNK


def read_page(args: Mapping[str, str]) -> int:
    """The ``page`` asked for (1 when it does not read as a positive whole number)."""
    value = args.get("page", "")
    return int(value) if value.isdigit() and 0 < int(value) < 10**6 else 1


# --- The payments report: files ------------------------------------------------------------


def file_status_label(status: PaymentFileStatus, sends: int) -> str:
    """The file's state as finance reads it: ``Accepted``, ``Waiting for acknowledgement,
    resent 2 times``."""
    resends = max(0, sends - 1)
    if not resends:
        return status.value
    return f"{status.value}, resent {resends} time{'s' if resends != 1 else ''}"


@dataclass(frozen=True)
class FileFilter:
    """The payments report's filters: the file's status and the month of its run."""

    status: PaymentFileStatus | None = None
    #: ``2026-12``: files of runs in that month.
    month: str | None = None
    page: int = 1
    #: What could not be read: shown, and left out of the filter.
    problems: tuple[Problem, ...] = ()

    def query_args(self, **changes: Any) -> dict[str, str]:
        status = changes.get("status", self.status)
        month = changes.get("month", self.month)
        page = changes.get("page", self.page)
        args = {"status": status.name if status else "", "month": month or ""}
        if page != 1:
            args["page"] = str(page)
        return {key: value for key, value in args.items() if value}

    @property
    def is_filtered(self) -> bool:
        return bool(self.status or self.month)


def read_month(value: str) -> dt.date | None:
    """The first day of a month written ``YYYY-MM`` (``None`` if it does not read)."""
    try:
        first = dt.date.fromisoformat(value + "-01")
    except ValueError:
        return None
    return first if len(value) == 7 else None


def parse_file_filter(args: Mapping[str, str]) -> FileFilter:
    """The filter in a query string; never raises (what does not read is left out, with a
    problem saying so)."""
    problems: list[Problem] = []
    status = None
    if name := args.get("status", "").strip():
        status = PaymentFileStatus.__members__.get(name)
        if status is None:
            problems.append(Problem("Choose a status from the list", "filter-status"))
    month = args.get("month", "").strip() or None
    if month and read_month(month) is None:
        problems.append(Problem("Enter the month as year and month, like 2026-12", "filter-month"))
        month = None
    return FileFilter(status, month, read_page(args), tuple(problems))


@dataclass(frozen=True)
class FileRow:
    """One payment file as the report lists it (for a sub-location: its rows only)."""

    id: int
    name: str
    run_date: dt.date
    rows: int
    total: Decimal
    status: PaymentFileStatus
    sends: int
    last_sent_at: dt.datetime | None
    answered_at: dt.datetime | None
    reason: str | None

    @property
    def status_label(self) -> str:
        return file_status_label(self.status, self.sends)


def _files_select(scope: ReportScope, chosen: FileFilter) -> Any:
    columns = (
        PaymentFile.id,
        PaymentFile.name,
        PaymentRun.run_date,
    )
    tail = (
        PaymentFile.status,
        PaymentFile.sends,
        PaymentFile.last_sent_at,
        PaymentFile.answered_at,
        PaymentFile.reason,
    )
    if scope.whole_icb:
        statement = select(*columns, PaymentFile.row_count, PaymentFile.total, *tail)
    else:
        statement = (
            select(
                *columns,
                func.count(Payment.id),
                func.coalesce(func.sum(Payment.amount), ZERO),
                *tail,
            )
            .join(Payment, Payment.file_id == PaymentFile.id)
            .join(Claim, Claim.id == Payment.claim_id)
            .where(Claim.sub_location_id == scope.sub_location_id)
            .group_by(PaymentFile.id, PaymentRun.id)
        )
    statement = statement.join(PaymentRun, PaymentRun.id == PaymentFile.run_id).where(
        PaymentFile.icb_id == scope.icb_id
    )
    if chosen.status:
        statement = statement.where(PaymentFile.status == chosen.status)
    if chosen.month and (first := read_month(chosen.month)):
        after = (first + dt.timedelta(days=32)).replace(day=1)
        statement = statement.where(PaymentRun.run_date >= first, PaymentRun.run_date < after)
    return statement.order_by(PaymentRun.run_date.desc(), PaymentFile.id.desc())


def files_page(session: DbSession, scope: ReportScope, chosen: FileFilter) -> Page:
    """One page of the scope's payment files on the filter, newest first."""
    return _page(
        session, _files_select(scope, chosen), chosen.page, FILES_PAGE_SIZE, lambda v: FileRow(*v)
    )


def iter_files(session: DbSession, scope: ReportScope, chosen: FileFilter) -> Iterator[FileRow]:
    """Every file on the filter (a download), newest first."""
    return _chunks(session, _files_select(scope, chosen), lambda v: FileRow(*v))


def find_file(session: DbSession, scope: ReportScope, file_id: int) -> FileRow | None:
    """The file as the scope sees it; ``None`` if it is another ICB's (or, for a
    sub-location, holds none of its rows), so the page is a 404."""
    statement = _files_select(scope, FileFilter()).where(PaymentFile.id == file_id)
    found = session.execute(statement).first()
    return FileRow(*found) if found is not None else None


@dataclass(frozen=True)
class PaymentRow:
    """One row of a payment file."""

    reference: str
    provider_name: str
    provider_ods_code: str
    claim_id: int
    scheme_code: str
    scheme_name: str
    paycode: str
    amount: Decimal
    status: PaymentStatus
    reason: str | None
    paid_date: dt.date | None
    agency_reference: str | None

    @property
    def claim_reference(self) -> str:
        return f"CLM-{self.claim_id:06d}"

    @property
    def is_recovery(self) -> bool:
        return self.amount < 0


def _rows_select(scope: ReportScope, file_id: int) -> Any:
    statement = (
        select(
            Payment.reference,
            Organisation.name,
            Organisation.ods_code,
            Payment.claim_id,
            Scheme.code,
            Scheme.name,
            Payment.paycode,
            Payment.amount,
            Payment.status,
            Payment.reason,
            Payment.paid_date,
            Payment.agency_reference,
        )
        .join(Organisation, Organisation.id == Payment.provider_id)
        .join(Scheme, Scheme.id == Payment.scheme_id)
        .where(Payment.file_id == file_id, Payment.icb_id == scope.icb_id)
    )
    if not scope.whole_icb:
        statement = statement.join(Claim, Claim.id == Payment.claim_id).where(
            Claim.sub_location_id == scope.sub_location_id
        )
    return statement.order_by(Payment.id)


def file_rows_page(session: DbSession, scope: ReportScope, file_id: int, page: int) -> Page:
    """One page of a file's rows (the scope's), in the order they were written."""
    return _page(
        session, _rows_select(scope, file_id), page, ROWS_PAGE_SIZE, lambda v: PaymentRow(*v)
    )


def iter_file_rows(session: DbSession, scope: ReportScope, file_id: int) -> Iterator[PaymentRow]:
    return _chunks(session, _rows_select(scope, file_id), lambda v: PaymentRow(*v))


@dataclass(frozen=True)
class ResponseRow:
    name: str
    kind: str
    outcome: str
    read_at: dt.datetime


def file_responses(session: DbSession, scope: ReportScope, file_id: int) -> list[ResponseRow]:
    """The agency's responses read for the file, oldest first (the ICB's staff only: a
    response is about the whole file)."""
    if not scope.whole_icb:
        return []
    statement = (
        select(
            PaymentResponse.name,
            PaymentResponse.kind,
            PaymentResponse.outcome,
            PaymentResponse.read_at,
        )
        .join(PaymentFile, PaymentFile.id == PaymentResponse.file_id)
        .where(PaymentResponse.file_id == file_id, PaymentFile.icb_id == scope.icb_id)
        .order_by(PaymentResponse.read_at, PaymentResponse.id)
    )
    return [ResponseRow(*values) for values in session.execute(statement)]


# --- The accruals report -------------------------------------------------------------------


def end_of_day(day: dt.date) -> dt.datetime:
    """The first moment after ``day`` on England's clock (as a UTC-comparable moment)."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=ENGLAND)


@dataclass(frozen=True)
class AccrualGroup:
    scheme_code: str
    scheme_name: str
    #: The scheme's paycode (``None``: the scheme has none set).
    paycode: str | None
    #: ``2026-11``: the month (England's) the claims were approved in.
    month: str
    claims: int
    total: Decimal


@dataclass(frozen=True)
class Accruals:
    as_at: dt.date
    groups: list[AccrualGroup]
    claims: int
    total: Decimal


def accruals(session: DbSession, scope: ReportScope, as_at: dt.date) -> Accruals:
    """Claims approved for payment on or before ``as_at`` and not paid by then (England's
    days): ``approved_at`` before the end of that day, and ``paid_at`` empty or after it.
    So a claim paid since still counts, and one approved since does not; as at today it is
    exactly the claims now Approved for payment, Sent for payment or on hold.

    Grouped by scheme, the scheme's paycode and the month approved, in that order. The
    claims are read in chunks and summed exactly in Python, so months are England's on any
    database and memory holds only the groups."""
    cut = end_of_day(as_at)
    statement = (
        select(Claim.scheme_id, Claim.approved_at, Claim.value)
        .where(
            Claim.icb_id == scope.icb_id,
            Claim.status.in_([*UNPAID_APPROVED, ClaimStatus.PAID]),
            Claim.approved_at.is_not(None),
            Claim.approved_at < cut,
            (Claim.paid_at.is_(None)) | (Claim.paid_at >= cut),
        )
        .execution_options(yield_per=CHUNK)
    )
    if not scope.whole_icb:
        statement = statement.where(Claim.sub_location_id == scope.sub_location_id)
    sums: dict[tuple[int, str], list[Any]] = {}
    for scheme_id, approved_at, value in session.execute(statement):
        key = (scheme_id, f"{cast(dt.datetime, approved_at).astimezone(ENGLAND):%Y-%m}")
        kept = sums.setdefault(key, [0, ZERO])
        kept[0] += 1
        kept[1] += value or ZERO
    schemes = {
        row.id: row
        for row in session.execute(
            select(Scheme.id, Scheme.code, Scheme.name, Scheme.paycode).where(
                Scheme.id.in_(sorted({key[0] for key in sums}))
            )
        )
    }
    groups = sorted(
        (
            AccrualGroup(
                schemes[scheme_id].code,
                schemes[scheme_id].name,
                schemes[scheme_id].paycode,
                month,
                count,
                total,
            )
            for (scheme_id, month), (count, total) in sums.items()
        ),
        key=lambda g: (g.scheme_name, g.scheme_code, g.paycode or "", g.month),
    )
    return Accruals(
        as_at,
        groups,
        sum(g.claims for g in groups),
        sum((g.total for g in groups), ZERO),
    )


def parse_as_at(value: str, today: dt.date) -> tuple[dt.date, str | None]:
    """The "as at" day asked for (``YYYY-MM-DD``, not after ``today``), or ``today`` and
    the problem with what was asked."""
    if not value.strip():
        return today, None
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        return today, "Enter the date as year, month and day, like 2026-11-30"
    if day > today:
        return today, "The date must be today or in the past"
    return day, None


# --- National totals -----------------------------------------------------------------------


def financial_year_of(day: dt.date) -> str:
    """``2026/27`` for any day from 1 April 2026 to 31 March 2027."""
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def financial_year_range(label: str) -> tuple[dt.date, dt.date] | None:
    """The first and last day of a financial year written ``2026/27`` (``None`` if not)."""
    start, _, end = label.partition("/")
    if not (start.isdigit() and len(start) == 4 and end == f"{(int(start) + 1) % 100:02d}"):
        return None
    return dt.date(int(start), 4, 1), dt.date(int(start) + 1, 3, 31)


def financial_years(today: dt.date, back: int = 5) -> list[str]:
    """The financial years offered: this one and the ``back - 1`` before it, newest first."""
    start = int(financial_year_of(today)[:4])
    return [f"{year}/{(year + 1) % 100:02d}" for year in range(start, start - back, -1)]


@dataclass(frozen=True)
class NationalRow:
    icb_name: str
    icb_ods_code: str
    #: ``2026-11``: the month the agency paid in (the payment's paid date).
    month: str
    payments: int
    paid: Decimal
    recovered: Decimal

    @property
    def net(self) -> Decimal:
        return self.paid - self.recovered


@dataclass(frozen=True)
class NationalTotals:
    financial_year: str
    rows: list[NationalRow]
    paid: Decimal = ZERO
    recovered: Decimal = ZERO
    payments: int = 0

    @property
    def net(self) -> Decimal:
        return self.paid - self.recovered


def national_totals(session: DbSession, financial_year: str) -> NationalTotals:
    """What was paid in ``financial_year`` (by paid date), by ICB and month: payments
    (positive rows, every way they were paid) and recoveries (negative rows, shown as
    positive amounts) with status Paid, and the net. Raises ``ValueError`` for a year that
    does not read."""
    span = financial_year_range(financial_year)
    if span is None:
        raise ValueError(f"not a financial year: {financial_year!r}")
    year = func.extract("year", Payment.paid_date)
    month = func.extract("month", Payment.paid_date)
    statement = (
        select(
            Organisation.name,
            Organisation.ods_code,
            year,
            month,
            func.count(Payment.id),
            func.coalesce(func.sum(case((Payment.amount > 0, Payment.amount), else_=ZERO)), ZERO),
            func.coalesce(func.sum(case((Payment.amount < 0, -Payment.amount), else_=ZERO)), ZERO),
        )
        .join(Organisation, Organisation.id == Payment.icb_id)
        .where(
            Payment.status == PaymentStatus.PAID,
            Payment.paid_date >= span[0],
            Payment.paid_date <= span[1],
        )
        .group_by(Organisation.id, Organisation.name, Organisation.ods_code, year, month)
        .order_by(Organisation.name, Organisation.ods_code, year, month)
    )
    rows = [
        NationalRow(name, code, f"{int(y):04d}-{int(m):02d}", int(n), Decimal(paid), Decimal(rec))
        for name, code, y, m, n, paid, rec in session.execute(statement)
    ]
    return NationalTotals(
        financial_year,
        rows,
        paid=sum((r.paid for r in rows), ZERO),
        recovered=sum((r.recovered for r in rows), ZERO),
        payments=sum(r.payments for r in rows),
    )
