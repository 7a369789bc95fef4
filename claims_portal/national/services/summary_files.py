"""The Achievement Summary as files: CSV, an XLSX workbook and a PDF (WeasyPrint, as the
payment statements are drawn). The figures are the summary's, unchanged: money to the
penny as stored, points and rates as the core gave them.

Text cells starting like a formula are prefixed with an apostrophe (OWASP's CSV injection
advice); the PDF's template has autoescaping on, so names are text, never markup.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from claims_portal import documents
from claims_portal.national.services.summary import AchievementSummary, IndicatorLine

TEMPLATES = Path(__file__).parent.parent / "templates" / "national" / "summary"
MONEY_FORMAT = '"£"#,##0.00;-"£"#,##0.00'
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

COLUMNS = (
    "Domain",
    "Group",
    "Indicator",
    "Description",
    "Numerator",
    "Denominator",
    "PCAs",
    "Exclusions",
    "Answer",
    "Achievement",
    "Points available",
    "Points",
    "Prevalence factor",
    "Payment",
)


def guard(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def _answer(line: IndicatorLine) -> str:
    if not line.tick_box:
        return ""
    return {True: "Yes", False: "No"}.get(line.answer, "Not answered")  # type: ignore[arg-type]


def _cells(summary: AchievementSummary) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for group in summary.groups:
        for line in group.lines:
            rows.append(
                [
                    group.domain_description,
                    group.description,
                    line.code,
                    line.description,
                    line.numerator,
                    line.denominator,
                    line.pcas,
                    line.exclusions,
                    _answer(line),
                    line.achievement,
                    line.max_points,
                    line.points,
                    line.prevalence_factor,
                    line.payment,
                ]
            )
    return rows


def _facts(summary: AchievementSummary) -> list[tuple[str, Any]]:
    return [
        ("Provider", summary.provider.display_name),
        ("Service", str(summary.service)),
        ("Achievement date", summary.achievement_date),
        ("List size", summary.list_size),
        ("Pounds per point", summary.pounds_per_point),
        ("National average list size", summary.national_average_list_size),
        ("Contractor population index", summary.contractor_population_index),
        ("Points", summary.points),
        ("Total", summary.total),
    ]


def summary_csv(summary: AchievementSummary) -> bytes:
    """One row per indicator (the columns of :data:`COLUMNS`), then one ``Total`` row;
    UTF-8, CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in _cells(summary):
        writer.writerow(
            ["" if v is None else guard(v) if isinstance(v, str) else str(v) for v in row]
        )
    total = ["Total", "", "", "", "", "", "", "", "", "", str(summary.max_points)]
    writer.writerow([*total, str(summary.points), "", str(summary.total)])
    return buffer.getvalue().encode()


def summary_xlsx(summary: AchievementSummary) -> bytes:
    """Sheet "Summary": the facts (provider, service, date, list size, CPI, totals), then a
    row per indicator and the total; sheet "Domains": points and payment per domain."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Summary"
    bold = Font(bold=True)

    def put(target: Any, values: list[Any], heading: bool = False) -> None:
        target.append([guard(v) if isinstance(v, str) else v for v in values])
        for cell in target[target.max_row]:
            if heading:
                cell.font = bold
            if isinstance(cell.value, Decimal) and cell.column == len(COLUMNS):
                cell.number_format = MONEY_FORMAT

    sheet.append(["Achievement summary"])
    sheet["A1"].font = bold
    for name, value in _facts(summary):
        sheet.append([name, guard(value) if isinstance(value, str) else value])
    sheet.cell(row=sheet.max_row, column=2).number_format = MONEY_FORMAT
    sheet.append([])
    put(sheet, list(COLUMNS), heading=True)
    for row in _cells(summary):
        put(sheet, row)
    blanks: list[Any] = ["", "", "", None, None, None, None, "", None]
    total = ["Total", *blanks, summary.max_points, summary.points, None, summary.total]
    put(sheet, total, heading=True)
    for letter, width in zip("ABCDEFGHIJKLMN", (16, 24, 12, 40), strict=False):
        sheet.column_dimensions[letter].width = width
    domains = book.create_sheet("Domains")
    put(domains, ["Domain", "Points", "Payment"], heading=True)
    for domain in summary.domains:
        domains.append([guard(domain.description), domain.points, domain.payment])
        domains.cell(row=domains.max_row, column=3).number_format = MONEY_FORMAT
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def summary_html(summary: AchievementSummary) -> str:
    """The HTML the PDF is drawn from."""
    return documents.render(TEMPLATES, "summary_pdf.html", summary=summary)


def summary_pdf(summary: AchievementSummary) -> bytes:
    """The summary as an A4 landscape PDF, its pages numbered."""
    return documents.pdf(summary_html(summary), TEMPLATES, "summary.css")
