"""What the payments agency sends back: acknowledgements and remittances (docs/payments.md).

Both formats are ours (the agency's are not public), CSV like the payment file and read as
strictly (``_cells``: UTF-8, CRLF, one record a line, every problem named by line and column).

An acknowledgement answers one payment file, named by the SHA-256 in its trailer: its first
record says whether the file was accepted or rejected (a rejection needs a reason, and then
no rows follow); an accepted file's rows are each listed, accepted or rejected with a reason.
A remittance lists rows paid: payment reference, paid date, the agency's reference, amount.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import IO, cast

from claims_portal.payments import _cells
from claims_portal.payments._cells import CellError, FileInvalid, Problem

__all__ = [
    "ACKNOWLEDGEMENT_COLUMNS",
    "REMITTANCE_COLUMNS",
    "Acknowledgement",
    "Outcome",
    "PaidRow",
    "RowOutcome",
    "acknowledgement_problems",
    "read_acknowledgement",
    "read_remittance",
    "write_acknowledgement",
    "write_remittance",
]

ACKNOWLEDGEMENT_COLUMNS = ("record", "reference", "outcome", "reason")
REMITTANCE_COLUMNS = ("payment_reference", "paid_date", "agency_reference", "amount")

_REFERENCE = re.compile(r"[A-Z0-9][A-Z0-9/-]{0,34}")
_AGENCY_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_.-]{0,49}")


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True)
class RowOutcome:
    payment_reference: str
    outcome: Outcome
    reason: str


@dataclass(frozen=True)
class Acknowledgement:
    """The agency's answer to the file whose trailer holds ``file_sha256``."""

    file_sha256: str
    outcome: Outcome
    reason: str
    rows: tuple[RowOutcome, ...]


@dataclass(frozen=True)
class PaidRow:
    payment_reference: str
    paid_date: dt.date
    agency_reference: str
    amount: Decimal


_outcome = _cells.one_of(*(outcome.value for outcome in Outcome))
_reference = _cells.text(35, _REFERENCE)
_ACK_FILE_READERS = (
    ("record", _cells.one_of("FILE")),
    ("reference", _cells.sha256_hex),
    ("outcome", _outcome),
    ("reason", _cells.optional_text(500)),
)
_ACK_ROW_READERS = (
    ("record", _cells.one_of("ROW")),
    ("reference", _reference),
    ("outcome", _outcome),
    ("reason", _cells.optional_text(500)),
)
_REMITTANCE_READERS = (
    ("payment_reference", _reference),
    ("paid_date", _cells.date),
    ("agency_reference", _cells.text(50, _AGENCY_REFERENCE)),
    ("amount", _cells.amount),
)


def _records(
    source: IO[bytes] | bytes, columns: tuple[str, ...]
) -> tuple[list[tuple[int, list[str]]], list[Problem]]:
    records: list[tuple[int, list[str]]] = []
    problems: list[Problem] = []
    number = 0
    for number, raw, ended in _cells.lines(source):
        if not ended:
            problems.append(Problem(number, None, "must end with CR LF"))
        cells, found = _cells.decode_line(raw, number)
        problems.extend(found)
        if cells is None:
            continue
        if number == 1:
            problems.extend(_cells.check_header(cells, columns))
        else:
            records.append((number, cells))
    if number == 0:
        problems.append(Problem(1, None, "the file is empty"))
    return records, problems


def _check_reason(number: int, outcome: str, reason: object, problems: list[Problem]) -> None:
    if outcome == Outcome.REJECTED and not reason:
        problems.append(Problem(number, "reason", "is required for a rejection"))
    if outcome == Outcome.ACCEPTED and reason:
        problems.append(Problem(number, "reason", "must be empty for an acceptance"))


def read_acknowledgement(source: IO[bytes] | bytes) -> Acknowledgement:
    """Read an acknowledgement; raises :class:`FileInvalid` listing every problem."""
    records, problems = _records(source, ACKNOWLEDGEMENT_COLUMNS)
    if not records:
        raise FileInvalid(problems or [Problem(2, None, "the FILE record is missing")])
    number, cells = records[0]
    head, found = _cells.read_cells(number, cells, _ACK_FILE_READERS)
    problems.extend(found)
    if head is not None:
        _check_reason(number, cast("str", head["outcome"]), head["reason"], problems)
    rows: list[RowOutcome] = []
    seen: dict[str, int] = {}
    for number, cells in records[1:]:
        values, found = _cells.read_cells(number, cells, _ACK_ROW_READERS)
        problems.extend(found)
        if values is None:
            continue
        reference, outcome = cast("str", values["reference"]), cast("str", values["outcome"])
        _check_reason(number, outcome, values["reason"], problems)
        if reference in seen:
            message = f"repeats the payment reference on line {seen[reference]}"
            problems.append(Problem(number, "reference", message))
        seen.setdefault(reference, number)
        rows.append(RowOutcome(reference, Outcome(outcome), cast("str", values["reason"])))
    if head is not None and head["outcome"] == Outcome.REJECTED and len(records) > 1:
        problems.append(Problem(records[1][0], None, "a rejected file lists no rows"))
    if problems or head is None:
        raise FileInvalid(problems)
    return Acknowledgement(
        cast("str", head["reference"]),
        Outcome(cast("str", head["outcome"])),
        cast("str", head["reason"]),
        tuple(rows),
    )


def acknowledgement_problems(
    acknowledgement: Acknowledgement, file_sha256: str, payment_references: Iterable[str]
) -> list[str]:
    """What does not fit between an acknowledgement and the file it should answer.

    An accepted file's acknowledgement lists each of its rows, and no others.
    """
    if acknowledgement.file_sha256 != file_sha256:
        return ["the acknowledgement answers another file"]
    if acknowledgement.outcome == Outcome.REJECTED:
        return []
    expected = set(payment_references)
    listed = {row.payment_reference for row in acknowledgement.rows}
    problems = [f"row {ref} is not answered" for ref in sorted(expected - listed)]
    problems += [f"row {ref} is not in the file" for ref in sorted(listed - expected)]
    return problems


def write_acknowledgement(acknowledgement: Acknowledgement, out: IO[bytes]) -> None:
    """Write an acknowledgement (the stand-in agency and the examples use this)."""
    out.write(_cells.encode_line(ACKNOWLEDGEMENT_COLUMNS))
    ack = acknowledgement
    out.write(_cells.encode_line(["FILE", ack.file_sha256, ack.outcome, _cells.guard(ack.reason)]))
    for row in acknowledgement.rows:
        cells = ["ROW", row.payment_reference, row.outcome, _cells.guard(row.reason)]
        out.write(_cells.encode_line(cells))


def read_remittance(source: IO[bytes] | bytes) -> tuple[PaidRow, ...]:
    """Read a remittance; raises :class:`FileInvalid` listing every problem."""
    records, problems = _records(source, REMITTANCE_COLUMNS)
    rows: list[PaidRow] = []
    seen: dict[str, int] = {}
    for number, cells in records:
        values, found = _cells.read_cells(number, cells, _REMITTANCE_READERS)
        problems.extend(found)
        reference = cells[0]
        if reference in seen:
            message = f"repeats the payment reference on line {seen[reference]}"
            problems.append(Problem(number, "payment_reference", message))
        seen.setdefault(reference, number)
        if values is not None:
            rows.append(PaidRow(**values))  # type: ignore[arg-type]
    if problems:
        raise FileInvalid(problems)
    return tuple(rows)


def write_remittance(rows: Iterable[PaidRow], out: IO[bytes]) -> None:
    """Write a remittance (the stand-in agency and the examples use this)."""
    out.write(_cells.encode_line(REMITTANCE_COLUMNS))
    for row in rows:
        if not _AGENCY_REFERENCE.fullmatch(row.agency_reference):
            raise CellError(f"agency reference {row.agency_reference!r} is not allowed")
        amount = _cells.format_amount(row.amount)
        cells = [row.payment_reference, row.paid_date.isoformat(), row.agency_reference, amount]
        out.write(_cells.encode_line(cells))
