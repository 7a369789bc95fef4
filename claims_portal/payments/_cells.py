"""Cells of the payment-side CSV files (docs/payments.md): written one way, read strictly.

Every file is UTF-8 (no byte-order mark), lines end CRLF, fields are quoted only when
needed (RFC 4180). No cell may hold a line break or another control character, so every
record is exactly one line and a reader can hash and count lines as bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO

from claims_portal.calculation.money import round_money

LINE_END = b"\r\n"

# OWASP's CSV injection guidance: a spreadsheet runs a cell starting with one of these.
# The same rule as claims' exports (claims/services/listing.py: safe_cell), kept here so the
# payment files do not depend on the claims package.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_AMOUNT = re.compile(r"-?(0|[1-9][0-9]{0,12})\.[0-9]{2}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file: its line (1 is the header) and column (None: the line)."""

    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class FileInvalid(ValueError):
    """A file that breaks its format; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        shown = "; ".join(str(problem) for problem in self.problems[:5])
        more = len(self.problems) - 5
        super().__init__(shown + (f"; and {more} more" if more > 0 else ""))


class CellError(ValueError):
    """A cell that cannot be read; the message says why."""


def guard(value: str) -> str:
    """Text a spreadsheet will not run as a formula: a leading apostrophe when needed."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def unguard(value: str) -> str:
    """The text a guarded cell holds (the writer's apostrophe taken off)."""
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA_START) else value


def encode_line(cells: Sequence[str]) -> bytes:
    """One CSV record as bytes, ending CRLF."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue().encode("utf-8")


def decode_line(raw: bytes, line: int) -> tuple[list[str] | None, list[Problem]]:
    """The cells of one line (``raw`` without its CRLF), or the problems that stop reading it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, [Problem(line, None, "is not UTF-8 text")]
    if _CONTROL.search(text):
        return None, [Problem(line, None, "holds a control character or a stray line break")]
    try:
        records = list(csv.reader([text], strict=True))
    except csv.Error as error:
        return None, [Problem(line, None, f"is not a CSV record ({error})")]
    return (records[0] if records else [""]), []


def lines(source: IO[bytes] | bytes) -> Iterator[tuple[int, bytes, bool]]:
    """Each line of ``source`` as (number, bytes without CRLF, whether it ended CRLF)."""
    stream: IO[bytes] = io.BytesIO(source) if isinstance(source, bytes) else source
    for number, raw in enumerate(stream, start=1):
        if raw.endswith(LINE_END):
            yield number, raw[:-2], True
        else:
            yield number, raw.rstrip(b"\r\n"), False


def check_header(cells: list[str], expected: Sequence[str]) -> list[Problem]:
    """Problems with a header line: it must name exactly the expected columns, in order."""
    if cells == list(expected):
        return []
    return [Problem(1, None, "header must be exactly: " + ",".join(expected))]


def read_cells(
    line: int,
    cells: list[str],
    readers: Sequence[tuple[str, Callable[[str], object]]],
) -> tuple[dict[str, object] | None, list[Problem]]:
    """Read each named cell with its reader; every cell that fails is one problem."""
    if len(cells) != len(readers):
        message = f"has {len(cells)} cells, not {len(readers)}"
        return None, [Problem(line, None, message)]
    values: dict[str, object] = {}
    problems: list[Problem] = []
    for (name, reader), cell in zip(readers, cells, strict=True):
        try:
            values[name] = reader(cell)
        except CellError as error:
            problems.append(Problem(line, name, str(error)))
    return (None if problems else values), problems


def text(max_length: int, pattern: re.Pattern[str] | None = None) -> Callable[[str], str]:
    """A reader of a required text cell (guarded text is unguarded)."""

    def read(cell: str) -> str:
        value = unguard(cell)
        if not value.strip():
            raise CellError("is required")
        if _CONTROL.search(value):
            raise CellError("must not hold a line break or another control character")
        if value != value.strip():
            raise CellError("must not start or end with a space")
        if len(value) > max_length:
            raise CellError(f"must be at most {max_length} characters")
        if pattern is not None and not pattern.fullmatch(value):
            raise CellError(f"must match {pattern.pattern}")
        return value

    return read


def optional_text(max_length: int) -> Callable[[str], str]:
    """A reader of a text cell that may be empty."""
    required = text(max_length)
    return lambda cell: required(cell) if cell else ""


def amount(cell: str) -> Decimal:
    """Pounds with exactly two decimal places, a minus sign for a negative amount."""
    if not _AMOUNT.fullmatch(cell):
        raise CellError("must be pounds with two decimal places, such as 1234.50 or -20.00")
    return Decimal(cell)


def format_amount(value: Decimal) -> str:
    """An amount as written: the one rounding rule (to the penny, half up), two places."""
    if not isinstance(value, Decimal):
        raise TypeError(f"money must be a Decimal, not {type(value).__name__}")
    return f"{round_money(value):f}"


def date(cell: str) -> dt.date:
    """A date written YYYY-MM-DD."""
    if not _DATE.fullmatch(cell):
        raise CellError("must be a date written YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(cell)
    except ValueError:
        raise CellError("is not a real date") from None


def one_of(*choices: str) -> Callable[[str], str]:
    """A reader of a cell that must be one of ``choices``."""

    def read(cell: str) -> str:
        if cell not in choices:
            raise CellError("must be one of: " + ", ".join(choices))
        return cell

    return read


def whole(cell: str) -> int:
    """A count: ASCII digits, no sign, no leading zero."""
    if not re.fullmatch(r"0|[1-9][0-9]{0,9}", cell):
        raise CellError("must be a whole number")
    return int(cell)


def sha256_hex(cell: str) -> str:
    """A SHA-256 digest in lower-case hex (64 characters)."""
    if not re.fullmatch(r"[0-9a-f]{64}", cell):
        raise CellError("must be a SHA-256 digest in lower-case hex")
    return cell
