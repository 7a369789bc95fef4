"""The remittance statement itself (payments/statements.py): exact totals, the XLSX read
back, the PDF and the HTML it is drawn from (user text escaped, formulas guarded)."""

from __future__ import annotations

import ast
import datetime as dt
import io
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from claims_portal.payments.statements import (
    LineKind,
    Statement,
    StatementLine,
    statement_html,
    statement_pdf,
    statement_xlsx,
)

NOV = dt.date(2026, 11, 1)


def line(
    reference: str,
    amount: str,
    *,
    scheme: str = "LES-FLU",
    paycode: str = "LES01",
    claim: str = "CLM-000001",
    paid: dt.date = dt.date(2026, 11, 20),
    agency: str = "PCSE-000001",
) -> StatementLine:
    value = Decimal(amount)
    return StatementLine(
        paid_date=paid,
        payment_reference=reference,
        agency_reference=agency,
        claim_reference=claim,
        scheme_code=scheme,
        scheme_name=f"Scheme {scheme}",
        paycode=paycode,
        period="October 2026",
        amount=value,
        kind=LineKind.RECOVERY if value < 0 else LineKind.PAYMENT,
    )


def statement(*lines: StatementLine, name: str = "Alder Surgery") -> Statement:
    return Statement(
        practice_name=name,
        practice_code="A81001",
        icb_name="North ICB",
        icb_code="QHM",
        month=NOV,
        generated=dt.date(2026, 12, 1),
        lines=lines,
    )


LINES = (
    line("PAY-2026-000001", "0.10", claim="CLM-000001"),
    line("PAY-2026-000002", "0.20", claim="CLM-000002"),
    line("PAY-2026-000003", "1234.56", scheme="LES-DIAB", paycode="LES02", claim="CLM-000003"),
    line("REC-2026-000001", "-20.05", claim="CLM-000001", agency=""),
)


def test_totals_are_exact():
    s = statement(*LINES)
    assert s.total == Decimal("1214.81")
    assert s.payments_total == Decimal("1234.86")
    assert s.recoveries_total == Decimal("-20.05")
    assert len(s.payments) == 3
    assert len(s.recoveries) == 1
    by_scheme = {t.code: (t.lines, t.amount) for t in s.by_scheme}
    assert by_scheme == {
        "LES-FLU": (3, Decimal("-19.75")),
        "LES-DIAB": (1, Decimal("1234.56")),
    }
    assert {t.code: t.amount for t in s.by_paycode} == {
        "LES01": Decimal("-19.75"),
        "LES02": Decimal("1234.56"),
    }
    assert sum(t.amount for t in s.by_scheme) == s.total
    assert statement().total == Decimal("0.00")


def test_a_line_holds_decimal_money_with_the_sign_of_its_kind():
    with pytest.raises(TypeError):
        StatementLine(NOV, "P", "", "C", "S", "S", "P", "p", 1.5, LineKind.PAYMENT)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="negative"):
        StatementLine(NOV, "P", "", "C", "S", "S", "P", "p", Decimal("-1"), LineKind.PAYMENT)
    with pytest.raises(ValueError, match="negative"):
        StatementLine(NOV, "R", "", "C", "S", "S", "P", "p", Decimal("1"), LineKind.RECOVERY)
    with pytest.raises(ValueError, match="first day"):
        Statement("A", "A1", "I", "Q", dt.date(2026, 11, 2), NOV)


def _sheet_rows(data: bytes) -> list[tuple]:
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Statement"]
    return list(book["Statement"].iter_rows(values_only=True))


def test_the_xlsx_reads_back_with_the_same_figures():
    s = statement(*LINES)
    rows = _sheet_rows(statement_xlsx(s))
    assert rows[0][0] == "Remittance statement"
    assert rows[1][:2] == ("Practice", "Alder Surgery (A81001)")
    assert rows[2][:2] == ("ICB", "North ICB (QHM)")
    assert rows[3][:2] == ("Month", "November 2026")
    header = rows.index(next(r for r in rows if r[0] == "Paid on"))
    body = rows[header + 1 : header + 1 + len(LINES)]
    assert [r[1] for r in body] == [line.payment_reference for line in LINES]
    assert [Decimal(str(r[9])).quantize(Decimal("0.01")) for r in body] == [
        line.amount for line in LINES
    ]
    assert body[3][8] == "Recovery"
    assert body[0][0].date() == dt.date(2026, 11, 20)
    labelled = {r[0]: r for r in rows if r and r[0] in {"Payments", "Recoveries", "Total"}}
    assert Decimal(str(labelled["Total"][2])).quantize(Decimal("0.01")) == s.total
    assert Decimal(str(labelled["Recoveries"][2])).quantize(Decimal("0.01")) == Decimal("-20.05")
    by_scheme = rows.index(next(r for r in rows if r[0] == "Totals by scheme"))
    assert rows[by_scheme + 2][:3] == ("LES-DIAB", "Scheme LES-DIAB", 1)
    by_paycode = rows.index(next(r for r in rows if r[0] == "Totals by paycode"))
    assert rows[by_paycode + 3][:2] == ("LES02", 1)
    # Amounts are numbers in pounds.
    sheet = load_workbook(io.BytesIO(statement_xlsx(s)))["Statement"]
    amount_cell = sheet.cell(row=header + 2, column=10)
    assert isinstance(amount_cell.value, float | int)
    assert "£" in amount_cell.number_format


def test_formula_like_text_is_guarded_in_the_xlsx():
    s = statement(line("PAY-1", "5.00", scheme='=HYPERLINK("x")'), name="+Surgery")
    data = statement_xlsx(s)
    book = load_workbook(io.BytesIO(data))
    cells = [c for row in book["Statement"].iter_rows() for c in row if c.value is not None]
    assert not any(c.data_type == "f" for c in cells)
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert '\'=HYPERLINK("x")' in texts
    assert "'+Surgery (A81001)" in texts


def test_the_pdf_and_its_html_hold_the_practice_each_reference_and_the_totals():
    s = statement(*LINES)
    html = statement_html(s)
    for text in ("Alder Surgery", "A81001", "North ICB", "November 2026", "1 December 2026"):
        assert text in html
    for item in LINES:
        assert item.payment_reference in html
        assert item.claim_reference in html
    assert "PCSE-000001" in html
    assert "£1,214.81" in html  # the total
    assert "-£20.05" in html  # the recovery, negative
    assert "£1,234.56" in html  # by scheme and by paycode
    assert "-£19.75" in html
    assert (
        "counter(pages)"
        in (
            Path(__file__).parents[2] / "claims_portal/templates/documents/document.css"
        ).read_text()
    )
    pdf = statement_pdf(s)
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 1000


def test_user_text_is_escaped_in_the_pdf_html():
    s = statement(line("PAY-1", "5.00", scheme="<b>S</b>"), name="<script>alert(1)</script>")
    html = statement_html(s)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>S</b>" not in html
    assert statement_pdf(s).startswith(b"%PDF")


def test_an_empty_month_still_draws():
    s = statement()
    assert "Nothing was paid in November 2026" in statement_html(s)
    assert _sheet_rows(statement_xlsx(s))[0][0] == "Remittance statement"


def test_the_filename_is_safe():
    assert statement().filename("pdf") == "statement-A81001-2026-11.pdf"


ALLOWED = {
    "jinja2",
    "openpyxl",
    "openpyxl.styles",
    "weasyprint",
    "claims_portal",  # from claims_portal import documents
    "claims_portal.payments._cells",
    "claims_portal.formatting",  # the shared money and date filters, pure functions
}


@pytest.mark.parametrize("module", ["payments/statements.py", "documents.py"])
def test_the_statement_module_is_pure(module):
    path = Path(__file__).parents[2] / "claims_portal" / module
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    outside = {n for n in names if n.split(".")[0] not in sys.stdlib_module_names} - ALLOWED
    assert outside == set()
