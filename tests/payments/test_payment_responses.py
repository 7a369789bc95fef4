"""Acknowledgements and remittances from the payments agency (payments/responses.py)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest

from claims_portal.payments.files import FileInvalid, Problem
from claims_portal.payments.responses import (
    Acknowledgement,
    Outcome,
    PaidRow,
    RowOutcome,
    acknowledgement_problems,
    read_acknowledgement,
    read_remittance,
    write_acknowledgement,
    write_remittance,
)

HASH = "a" * 64


def crlf(*lines: str) -> bytes:
    return "".join(line + "\r\n" for line in lines).encode()


def where(source: bytes, read: object) -> set[tuple[int, str | None]]:
    with pytest.raises(FileInvalid) as caught:
        read(source)  # type: ignore[operator]
    problems: tuple[Problem, ...] = caught.value.problems
    return {(problem.line, problem.column) for problem in problems}


def test_acknowledgement_round_trip() -> None:
    ack = Acknowledgement(
        HASH,
        Outcome.ACCEPTED,
        "",
        (
            RowOutcome("PAY-1", Outcome.ACCEPTED, ""),
            RowOutcome("PAY-2", Outcome.REJECTED, "=unknown practice"),
        ),
    )
    out = io.BytesIO()
    write_acknowledgement(ack, out)
    assert b"'=unknown practice" in out.getvalue()
    assert read_acknowledgement(out.getvalue()) == ack


def test_a_rejected_file() -> None:
    data = crlf("record,reference,outcome,reason", f"FILE,{HASH},rejected,trailer total wrong")
    ack = read_acknowledgement(data)
    assert (ack.outcome, ack.reason, ack.rows) == (Outcome.REJECTED, "trailer total wrong", ())


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ((), {(1, None)}),
        (("record,ref,outcome,reason", f"FILE,{HASH},accepted,"), {(1, None)}),
        (("record,reference,outcome,reason",), {(2, None)}),
        (("record,reference,outcome,reason", f"ROW,{HASH},accepted,"), {(2, "record")}),
        (("record,reference,outcome,reason", "FILE,abc,accepted,"), {(2, "reference")}),
        (("record,reference,outcome,reason", f"FILE,{HASH},ok,"), {(2, "outcome")}),
        (("record,reference,outcome,reason", f"FILE,{HASH},rejected,"), {(2, "reason")}),
        (("record,reference,outcome,reason", f"FILE,{HASH},accepted,fine"), {(2, "reason")}),
        (
            ("record,reference,outcome,reason", f"FILE,{HASH},rejected,bad", "ROW,P1,accepted,"),
            {(3, None)},
        ),
        (
            (
                "record,reference,outcome,reason",
                f"FILE,{HASH},accepted,",
                "ROW,P1,rejected,",
                "ROW,p 2,accepted,",
                "ROW,P1,accepted,",
                "ROW,P3,accepted",
            ),
            {(3, "reason"), (4, "reference"), (5, "reference"), (6, None)},
        ),
    ],
)
def test_acknowledgement_problems_by_line_and_column(
    lines: tuple[str, ...], expected: set[tuple[int, str | None]]
) -> None:
    assert where(crlf(*lines), read_acknowledgement) == expected


def test_an_acknowledgement_must_answer_every_row_of_its_file() -> None:
    ack = Acknowledgement(
        HASH,
        Outcome.ACCEPTED,
        "",
        (RowOutcome("PAY-1", Outcome.ACCEPTED, ""), RowOutcome("PAY-9", Outcome.ACCEPTED, "")),
    )
    assert acknowledgement_problems(ack, HASH, ["PAY-1", "PAY-2"]) == [
        "row PAY-2 is not answered",
        "row PAY-9 is not in the file",
    ]
    assert acknowledgement_problems(ack, "b" * 64, ["PAY-1"]) == [
        "the acknowledgement answers another file"
    ]
    rejected = Acknowledgement(HASH, Outcome.REJECTED, "bad", ())
    assert acknowledgement_problems(rejected, HASH, ["PAY-1"]) == []


def test_remittance_round_trip() -> None:
    rows = (
        PaidRow("PAY-1", dt.date(2026, 9, 20), "PCSE-778812", Decimal("120.50")),
        PaidRow("REC-1", dt.date(2026, 9, 20), "PCSE-778813", Decimal("-40.00")),
    )
    out = io.BytesIO()
    write_remittance(rows, out)
    assert read_remittance(out.getvalue()) == rows


def test_remittance_problems_by_line_and_column() -> None:
    data = crlf(
        "payment_reference,paid_date,agency_reference,amount",
        "PAY-1,2026-09-20,PCSE-1,120.50",
        "PAY-2,20/09/2026,PCSE-2,1",
        "PAY-1,2026-09-20,,1.00",
    )
    assert where(data, read_remittance) == {
        (3, "paid_date"),
        (3, "amount"),
        (4, "payment_reference"),
        (4, "agency_reference"),
    }


def test_an_empty_remittance_is_refused_but_a_header_alone_is_none_paid() -> None:
    assert where(b"", read_remittance) == {(1, None)}
    assert read_remittance(crlf("payment_reference,paid_date,agency_reference,amount")) == ()
