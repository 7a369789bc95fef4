"""The payment file: what the portal sends the payments agency (docs/payments.md).

The agency's own format is not public, so this one is ours: a CSV with a header line, one
line per claim or recovery, and a trailer line holding the number of rows, their total and
the SHA-256 of the body (the header and row lines, bytes exactly as written). The writer
streams: rows go in one at a time and bytes come out line by line, so a file of any size
is written in flat memory. The reader is strict and names every problem by line and column.

Money is ``Decimal`` only; every amount is written by the one rounding rule
(``calculation.money.round_money``: to the penny, half up) and the total is the sum of the
amounts as written. A recovery is a row with a negative amount.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import IO, cast

from claims_portal.payments import _cells
from claims_portal.payments._cells import CellError, FileInvalid, Problem

__all__ = [
    "COLUMNS",
    "TRAILER_MARK",
    "FileInvalid",
    "PaymentFile",
    "PaymentFileWriter",
    "PaymentRow",
    "Problem",
    "Trailer",
    "financial_year_of",
    "payment_file_chunks",
    "read_payment_file",
    "write_payment_file",
]

COLUMNS = (
    "payment_reference",
    "practice_ods_code",
    "practice_name",
    "icb_code",
    "paycode",
    "scheme_code",
    "claim_reference",
    "period",
    "amount",
    "financial_year",
    "payment_month",
    "approved_date",
)
TRAILER_MARK = "TRAILER"

_REFERENCE = re.compile(r"[A-Z0-9][A-Z0-9/-]{0,34}")
_ODS_CODE = re.compile(r"[A-Z0-9]{3,10}")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._/-]{0,49}")
_FINANCIAL_YEAR = re.compile(r"([0-9]{4})/([0-9]{2})")
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class PaymentRow:
    """One payment (a positive ``amount``) or recovery (a negative one) of one claim."""

    payment_reference: str
    practice_ods_code: str
    practice_name: str
    icb_code: str
    paycode: str
    scheme_code: str
    claim_reference: str
    period_start: dt.date
    period_end: dt.date
    amount: Decimal
    financial_year: str
    payment_month: str
    approved_date: dt.date


@dataclass(frozen=True)
class Trailer:
    """The trailer's figures: how many rows, their total, and the body's SHA-256 (hex)."""

    row_count: int
    total: Decimal
    sha256: str


@dataclass(frozen=True)
class PaymentFile:
    """A payment file read and found valid."""

    rows: tuple[PaymentRow, ...]
    trailer: Trailer


def financial_year_of(day: dt.date) -> str:
    """The financial year (April to March) ``day`` falls in, written ``2026/27``."""
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def _reference(cell: str) -> str:
    value = _cells.text(35, _REFERENCE)(cell)
    if value == TRAILER_MARK:
        raise CellError(f"{TRAILER_MARK} marks the trailer and cannot be a reference")
    return value


def _period(cell: str) -> tuple[dt.date, dt.date]:
    start, slash, end = cell.partition("/")
    if not slash:
        raise CellError("must be the first and last day, written YYYY-MM-DD/YYYY-MM-DD")
    first, last = _cells.date(start), _cells.date(end)
    if last < first:
        raise CellError("must not end before it starts")
    return first, last


def _financial_year(cell: str) -> str:
    match = _FINANCIAL_YEAR.fullmatch(cell)
    if not match or int(match[2]) != (int(match[1]) + 1) % 100:
        raise CellError("must be a financial year written like 2026/27")
    return cell


def _month(cell: str) -> str:
    if not _MONTH.fullmatch(cell):
        raise CellError("must be a month written YYYY-MM")
    return cell


def _amount(cell: str) -> Decimal:
    value = _cells.amount(cell)
    if not value:
        raise CellError("must not be 0.00")
    return value


_READERS = (
    ("payment_reference", _reference),
    ("practice_ods_code", _cells.text(10, _ODS_CODE)),
    ("practice_name", _cells.text(200)),
    ("icb_code", _cells.text(10, _ODS_CODE)),
    ("paycode", _cells.text(50, _CODE)),
    ("scheme_code", _cells.text(50, _CODE)),
    ("claim_reference", _cells.text(50, _CODE)),
    ("period", _period),
    ("amount", _amount),
    ("financial_year", _financial_year),
    ("payment_month", _month),
    ("approved_date", _cells.date),
)
_TRAILER_READERS = (
    ("mark", _cells.one_of(TRAILER_MARK)),
    ("row_count", _cells.whole),
    ("total", _cells.amount),
    ("sha256", _cells.sha256_hex),
)


def _cells_of(row: PaymentRow) -> list[str]:
    guard = _cells.guard
    return [
        guard(row.payment_reference),
        guard(row.practice_ods_code),
        guard(row.practice_name),
        guard(row.icb_code),
        guard(row.paycode),
        guard(row.scheme_code),
        guard(row.claim_reference),
        f"{row.period_start.isoformat()}/{row.period_end.isoformat()}",
        _cells.format_amount(row.amount),  # a number: never guarded, "-" is its sign
        row.financial_year,
        row.payment_month,
        row.approved_date.isoformat(),
    ]


def _row_from(values: dict[str, object]) -> PaymentRow:
    fields = dict(values)
    start, end = cast("tuple[dt.date, dt.date]", fields.pop("period"))
    return PaymentRow(period_start=start, period_end=end, **fields)  # type: ignore[arg-type]


class PaymentFileWriter:
    """Turns rows into the file's lines one at a time, keeping the trailer's figures.

    ``header()`` first, then ``row()`` per row, then ``trailer()``. Each returns the bytes
    to write. A row that would not read back raises :class:`FileInvalid` naming its line
    and columns.
    """

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._count = 0
        self._total = Decimal("0.00")
        self._state = "new"

    def header(self) -> bytes:
        if self._state != "new":
            raise RuntimeError("the header is written first, once")
        self._state = "rows"
        return self._body(_cells.encode_line(COLUMNS))

    def row(self, row: PaymentRow) -> bytes:
        if self._state != "rows":
            raise RuntimeError("rows are written after the header and before the trailer")
        line = self._count + 2
        for name, value in (("period", row.period_start), ("approved_date", row.approved_date)):
            if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
                raise FileInvalid([Problem(line, name, "must be a date")])
        cells = _cells_of(row)
        values, problems = _cells.read_cells(line, cells, _READERS)
        if values is None or _row_from(values) != replace(row, amount=Decimal(cells[8])):
            raise FileInvalid(problems or [Problem(line, None, "does not read back the same")])
        self._count += 1
        self._total += Decimal(cells[8])
        return self._body(_cells.encode_line(cells))

    def trailer(self) -> bytes:
        if self._state != "rows":
            raise RuntimeError("the trailer is written once, after the header and rows")
        self._state = "done"
        figures = self.figures()
        cells = [TRAILER_MARK, str(figures.row_count), f"{figures.total:f}", figures.sha256]
        return _cells.encode_line(cells)

    def figures(self) -> Trailer:
        """The trailer's figures for what has been written so far."""
        return Trailer(self._count, self._total, self._hash.hexdigest())

    def _body(self, data: bytes) -> bytes:
        self._hash.update(data)
        return data


def payment_file_chunks(rows: Iterable[PaymentRow]) -> Iterator[bytes]:
    """The file's bytes, a line at a time (for a streamed response or an upload)."""
    writer = PaymentFileWriter()
    yield writer.header()
    for row in rows:
        yield writer.row(row)
    yield writer.trailer()


def write_payment_file(rows: Iterable[PaymentRow], out: IO[bytes]) -> Trailer:
    """Write the file to the binary file object ``out``; return its trailer's figures."""
    writer = PaymentFileWriter()
    out.write(writer.header())
    for row in rows:
        out.write(writer.row(row))
    figures = writer.figures()
    out.write(writer.trailer())
    return figures


@dataclass
class _Reading:
    problems: list[Problem]
    rows: list[PaymentRow]
    count: int = 0
    total: Decimal = Decimal("0.00")
    amounts_known: bool = True


def read_payment_file(source: IO[bytes] | bytes) -> PaymentFile:
    """Read and check a whole payment file from bytes or a binary file object.

    Checks the header, every cell of every row, that payment references are unique, and
    that the trailer is the last line and its count, total and SHA-256 match the body.
    Raises :class:`FileInvalid` listing every problem, by line and column.
    """
    reading = _Reading(problems=[], rows=[])
    body = hashlib.sha256()
    seen: dict[str, int] = {}
    trailer: Trailer | None = None
    trailer_line = 0
    number = 0
    for number, raw, ended in _cells.lines(source):
        if not ended:
            reading.problems.append(Problem(number, None, "must end with CR LF"))
        cells, problems = _cells.decode_line(raw, number)
        reading.problems.extend(problems)
        if trailer_line:
            reading.problems.append(Problem(number, None, "nothing may follow the trailer"))
            continue
        if cells is not None and cells[0] == TRAILER_MARK and number > 1:
            trailer_line = number
            trailer = _read_trailer(number, cells, reading.problems)
            continue
        body.update(raw + (_cells.LINE_END if ended else b""))
        if number == 1:
            if cells is not None:
                reading.problems.extend(_cells.check_header(cells, COLUMNS))
        elif cells is not None:
            _read_row(number, cells, reading, seen)
        else:
            reading.count += 1
            reading.amounts_known = False
    if number == 0:
        reading.problems.append(Problem(1, None, "the file is empty"))
    elif not trailer_line:
        reading.problems.append(Problem(number + 1, None, "the file has no trailer"))
    if trailer is not None:
        _check_trailer(trailer_line, trailer, reading, body.hexdigest())
    if reading.problems or trailer is None:
        raise FileInvalid(reading.problems)
    return PaymentFile(tuple(reading.rows), trailer)


def _read_row(number: int, cells: list[str], reading: _Reading, seen: dict[str, int]) -> None:
    reading.count += 1
    values, problems = _cells.read_cells(number, cells, _READERS)
    reading.problems.extend(problems)
    if len(cells) == len(_READERS):
        try:
            reading.total += _amount(cells[8])
        except CellError:
            reading.amounts_known = False
        reference = _cells.unguard(cells[0])
        if reference in seen:
            message = f"repeats the payment reference on line {seen[reference]}"
            reading.problems.append(Problem(number, "payment_reference", message))
        else:
            seen[reference] = number
    else:
        reading.amounts_known = False
    if values is not None:
        reading.rows.append(_row_from(values))


def _read_trailer(number: int, cells: list[str], problems: list[Problem]) -> Trailer | None:
    values, found = _cells.read_cells(number, cells, _TRAILER_READERS)
    problems.extend(found)
    if values is None:
        return None
    return Trailer(values["row_count"], values["total"], values["sha256"])  # type: ignore[arg-type]


def _check_trailer(number: int, trailer: Trailer, reading: _Reading, digest: str) -> None:
    problems = reading.problems
    if trailer.row_count != reading.count:
        message = f"says {trailer.row_count} rows; the file has {reading.count}"
        problems.append(Problem(number, "row_count", message))
    if reading.amounts_known and trailer.total != reading.total:
        message = f"says {trailer.total:f}; the rows add up to {reading.total:f}"
        problems.append(Problem(number, "total", message))
    if trailer.sha256 != digest:
        message = f"does not match the body (its SHA-256 is {digest})"
        problems.append(Problem(number, "sha256", message))
