"""The payments reports as downloads: CSV and XLSX, each row written as it is read.

CSV follows the payment side's rules (docs/payments.md, "What every file has in common"):
UTF-8 without a byte-order mark, lines ending CR LF, quoting only when needed, amounts as
pounds with two decimal places by the one rounding rule, dates ``YYYY-MM-DD``, and text a
spreadsheet would run as a formula guarded with a leading apostrophe (``payments/_cells.py``).
XLSX (openpyxl's write-only workbook) holds amounts as numbers and dates as dates, and guards
text the same way (openpyxl would otherwise store ``=...`` as a formula).

Each writer fills a temporary file (memory past 1 MB goes to disk) before the response
starts, so a failure is an error page, not a truncated download; the caller streams it
and closes it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import IO, Any

from claims_portal.formatting import england
from claims_portal.payments._cells import format_amount, guard
from claims_portal.payments.services.reports import (
    Accruals,
    FileRow,
    NationalTotals,
    PaymentRow,
)

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

FILES_HEADER = (
    "File",
    "Run date",
    "Rows",
    "Total",
    "Status",
    "Times sent",
    "Last sent",
    "Answered",
    "Reason",
)
ROWS_HEADER = (
    "Payment reference",
    "Practice",
    "ODS code",
    "Claim reference",
    "Scheme code",
    "Scheme",
    "Paycode",
    "Amount",
    "Status",
    "Reason",
    "Paid date",
    "Agency reference",
)
ACCRUALS_HEADER = ("Scheme code", "Scheme", "Paycode", "Month approved", "Claims", "Total")
NATIONAL_HEADER = ("ICB", "ICB code", "Month paid", "Payments", "Paid", "Recovered", "Net")


def file_values(row: FileRow) -> list[Any]:
    return [
        row.name,
        row.run_date,
        row.rows,
        row.total,
        row.status_label,
        row.sends,
        row.last_sent_at,
        row.answered_at,
        row.reason,
    ]


def payment_values(row: PaymentRow) -> list[Any]:
    return [
        row.reference,
        row.provider_name,
        row.provider_ods_code,
        row.claim_reference,
        row.scheme_code,
        row.scheme_name,
        row.paycode,
        row.amount,
        row.status.value,
        row.reason,
        row.paid_date,
        row.agency_reference,
    ]


def accruals_lines(report: Accruals) -> list[list[Any]]:
    """The groups, then a last line of the grand total."""
    lines: list[list[Any]] = [
        [g.scheme_code, g.scheme_name, g.paycode, g.month, g.claims, g.total] for g in report.groups
    ]
    lines.append(["Total", None, None, None, report.claims, report.total])
    return lines


def national_lines(report: NationalTotals) -> list[list[Any]]:
    """The rows, then a last line of the totals."""
    lines: list[list[Any]] = [
        [r.icb_name, r.icb_ods_code, r.month, r.payments, r.paid, r.recovered, r.net]
        for r in report.rows
    ]
    lines.append(["Total", None, None, report.payments, report.paid, report.recovered, report.net])
    return lines


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_amount(value)
    if isinstance(value, dt.datetime):
        return f"{england(value):%Y-%m-%d %H:%M}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return guard(" ".join(str(value).split()))  # one line per record: no line breaks


def csv_file(header: Sequence[str], lines: Iterable[Sequence[Any]]) -> IO[bytes]:
    spooled = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 - returned
    text = io.TextIOWrapper(spooled, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    for line in lines:
        writer.writerow([_csv_cell(value) for value in line])
    text.flush()
    text.detach()  # leave the binary file open for the response
    spooled.seek(0)
    return spooled  # type: ignore[return-value]


def xlsx_file(title: str, header: Sequence[str], lines: Iterable[Sequence[Any]]) -> IO[bytes]:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(list(header))
    for line in lines:
        cells = []
        for value in line:
            cell = WriteOnlyCell(sheet, value=_xlsx_value(value))
            if isinstance(value, Decimal):
                cell.number_format = "#,##0.00"
            elif isinstance(value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        sheet.append(cells)
    spooled = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the response that streams it
    workbook.save(spooled)
    spooled.seek(0)
    return spooled


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return england(value).replace(tzinfo=None)  # Excel has no time zones: England's clock
    if isinstance(value, str):
        return guard(value)
    return value


def download(
    file_format: str, title: str, header: Sequence[str], lines: Iterable[Any]
) -> IO[bytes]:
    """The file of ``file_format`` (``csv`` or ``xlsx``); ``ValueError`` for another."""
    if file_format == "csv":
        return csv_file(header, lines)
    if file_format == "xlsx":
        return xlsx_file(title, header, lines)
    raise ValueError(f"no download format {file_format!r}")


def content_type(file_format: str) -> str:
    return CSV_TYPE if file_format == "csv" else XLSX_TYPE
