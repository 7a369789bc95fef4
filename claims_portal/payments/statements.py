"""A practice's monthly remittance statement (issue 15, "What people see"): what it holds,
its totals, and the statement as an XLSX workbook and a PDF.

Pure rendering: no database, no Flask, no clock. ``services/statements.py`` reads the
payments into a :class:`Statement`; this module adds it up and draws it. Totals are exact
``Decimal`` sums of the lines' amounts (each already to the penny): nothing is rounded here.

The PDF is drawn by WeasyPrint (which needs Pango on the machine) from
``templates/payments/statements/statement_pdf.html`` and ``statement.css`` over the shared
document stylesheet (``claims_portal/documents.py``), with autoescaping on: a practice's or
scheme's name is text, never markup. XLSX text cells are guarded against formulas like every
payments file (``_cells.guard``).
"""

from __future__ import annotations

import datetime as dt
import enum
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from claims_portal import documents
from claims_portal.payments._cells import guard

TEMPLATES = Path(__file__).parent / "templates" / "payments" / "statements"
#: Pounds, two places, negative with a minus sign before the pound sign.
MONEY_FORMAT = '"£"#,##0.00;-"£"#,##0.00'
DATE_FORMAT = "d mmm yyyy"
ZERO = Decimal("0.00")


class LineKind(enum.StrEnum):
    PAYMENT = "Payment"
    RECOVERY = "Recovery"


@dataclass(frozen=True)
class StatementLine:
    """One payment (positive) or recovery (negative) paid in the month."""

    paid_date: dt.date
    #: Ours: ``PAY-2026-000101``, ``REC-2026-000007``, ``MAN-...``.
    payment_reference: str
    #: The agency's reference from its remittance (empty when it gave none).
    agency_reference: str
    claim_reference: str
    scheme_code: str
    scheme_name: str
    paycode: str
    #: The period the claim is for, as people read it (``October 2026``).
    period: str
    amount: Decimal
    kind: LineKind

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"money must be a Decimal, not {type(self.amount).__name__}")
        if (self.kind is LineKind.RECOVERY) != (self.amount < 0) or self.amount == 0:
            raise ValueError("a payment is positive and a recovery negative")


@dataclass(frozen=True)
class Total:
    """The lines under one scheme or paycode: how many, and their sum."""

    code: str
    name: str
    lines: int
    amount: Decimal


def _totals(pairs: Iterable[tuple[str, str, Decimal]]) -> tuple[Total, ...]:
    counts: dict[str, int] = {}
    sums: dict[str, Decimal] = {}
    names: dict[str, str] = {}
    for code, name, amount in pairs:
        counts[code] = counts.get(code, 0) + 1
        sums[code] = sums.get(code, ZERO) + amount
        names.setdefault(code, name)
    return tuple(Total(code, names[code], counts[code], sums[code]) for code in sorted(counts))


@dataclass(frozen=True)
class Statement:
    """A practice's statement for one month: the payments and recoveries paid in it."""

    practice_name: str
    practice_code: str
    icb_name: str
    icb_code: str
    #: The first day of the month it covers.
    month: dt.date
    generated: dt.date
    lines: tuple[StatementLine, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.month.day != 1:
            raise ValueError("a statement's month is given by its first day")

    @property
    def month_label(self) -> str:
        """``November 2026``."""
        return f"{self.month:%B %Y}"

    @property
    def total(self) -> Decimal:
        """What the practice was paid in the month, recoveries taken off."""
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def payments(self) -> tuple[StatementLine, ...]:
        return tuple(line for line in self.lines if line.kind is LineKind.PAYMENT)

    @property
    def recoveries(self) -> tuple[StatementLine, ...]:
        return tuple(line for line in self.lines if line.kind is LineKind.RECOVERY)

    @property
    def payments_total(self) -> Decimal:
        return sum((line.amount for line in self.payments), ZERO)

    @property
    def recoveries_total(self) -> Decimal:
        """The recoveries' sum: negative (or zero)."""
        return sum((line.amount for line in self.recoveries), ZERO)

    @property
    def by_scheme(self) -> tuple[Total, ...]:
        return _totals((line.scheme_code, line.scheme_name, line.amount) for line in self.lines)

    @property
    def by_paycode(self) -> tuple[Total, ...]:
        return _totals((line.paycode, line.paycode, line.amount) for line in self.lines)

    def filename(self, extension: str) -> str:
        """``statement-A81001-2026-11.pdf``."""
        return f"statement-{self.practice_code}-{self.month:%Y-%m}.{extension}"


# --- XLSX -----------------------------------------------------------------------------------

COLUMNS = (
    "Paid on",
    "Payment reference",
    "Agency reference",
    "Claim",
    "Scheme code",
    "Scheme",
    "Paycode",
    "Period",
    "Payment or recovery",
    "Amount",
)


def statement_xlsx(statement: Statement) -> bytes:
    """The statement as an XLSX workbook (one sheet, "Statement"): the header block, a line
    for each payment and recovery, then the totals, by scheme and by paycode. Amounts are
    numbers in pounds; dates are dates."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Statement"
    bold = Font(bold=True)

    at = 0

    def row(*values: object, heading: bool = False) -> None:
        nonlocal at
        at += 1
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(
                row=at, column=column, value=guard(value) if isinstance(value, str) else value
            )
            if isinstance(value, Decimal):
                cell.number_format = MONEY_FORMAT
            elif isinstance(value, dt.date):
                cell.number_format = DATE_FORMAT
            if heading:
                cell.font = bold

    row("Remittance statement", heading=True)
    row("Practice", f"{statement.practice_name} ({statement.practice_code})")
    row("ICB", f"{statement.icb_name} ({statement.icb_code})")
    row("Month", statement.month_label)
    row("Generated on", statement.generated)
    row()
    row(*COLUMNS, heading=True)
    for line in statement.lines:
        row(
            line.paid_date,
            line.payment_reference,
            line.agency_reference,
            line.claim_reference,
            line.scheme_code,
            line.scheme_name,
            line.paycode,
            line.period,
            line.kind.value,
            line.amount,
        )
    row()
    row("Totals", heading=True)
    row("Payments", len(statement.payments), statement.payments_total)
    row("Recoveries", len(statement.recoveries), statement.recoveries_total)
    row("Total", len(statement.lines), statement.total, heading=True)
    row()
    row("Totals by scheme", heading=True)
    row("Scheme code", "Scheme", "Lines", "Amount", heading=True)
    for total in statement.by_scheme:
        row(total.code, total.name, total.lines, total.amount)
    row()
    row("Totals by paycode", heading=True)
    row("Paycode", "Lines", "Amount", heading=True)
    for total in statement.by_paycode:
        row(total.code, total.lines, total.amount)
    for letter, width in zip("ABCDEFGHIJ", (14, 20, 18, 14, 12, 36, 14, 22, 18, 14), strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- PDF ------------------------------------------------------------------------------------


def statement_html(statement: Statement) -> str:
    """The HTML the PDF is drawn from."""
    return documents.render(TEMPLATES, "statement_pdf.html", statement=statement)


def statement_pdf(statement: Statement) -> bytes:
    """The statement as an A4 PDF, its pages numbered."""
    return documents.pdf(statement_html(statement), TEMPLATES, "statement.css")
