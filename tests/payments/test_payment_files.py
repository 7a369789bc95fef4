"""The payment file: writer and strict reader (payments/files.py, docs/payments.md)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import tracemalloc
from collections.abc import Iterator
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claims_portal.payments.files import (
    COLUMNS,
    FileInvalid,
    PaymentRow,
    Problem,
    financial_year_of,
    payment_file_chunks,
    read_payment_file,
    write_payment_file,
)


def a_row(reference: str = "PAY-000001", amount: str = "100.00", **changes: object) -> PaymentRow:
    row = PaymentRow(
        payment_reference=reference,
        practice_ods_code="A81001",
        practice_name="The Health Centre",
        icb_code="QHM",
        paycode="LES-SMK",
        scheme_code="NENC-SMK-2026",
        claim_reference="CL-000123",
        period_start=dt.date(2026, 4, 1),
        period_end=dt.date(2026, 6, 30),
        amount=Decimal(amount),
        financial_year="2026/27",
        payment_month="2026-09",
        approved_date=dt.date(2026, 8, 20),
    )
    return dataclasses.replace(row, **changes)  # type: ignore[arg-type]


def written(rows: list[PaymentRow]) -> bytes:
    out = io.BytesIO()
    write_payment_file(rows, out)
    return out.getvalue()


def problems_of(data: bytes) -> list[Problem]:
    with pytest.raises(FileInvalid) as caught:
        read_payment_file(data)
    return list(caught.value.problems)


def where(problems: list[Problem]) -> set[tuple[int, str | None]]:
    return {(problem.line, problem.column) for problem in problems}


def test_round_trip() -> None:
    rows = [a_row("PAY-1", "120.50"), a_row("PAY-2", "80.25"), a_row("REC-1", "-40.00")]
    data = written(rows)
    read = read_payment_file(data)
    assert read.rows == tuple(rows)
    assert read.trailer.row_count == 3
    assert read.trailer.total == Decimal("160.75")
    body = data[: data.rindex(b"TRAILER")]
    assert read.trailer.sha256 == hashlib.sha256(body).hexdigest()


def test_the_layout() -> None:
    data = written([a_row("REC-1", "-40.00")])
    header, row, trailer, end = data.split(b"\r\n")
    assert header.decode() == ",".join(COLUMNS)
    assert row.decode().split(",")[7:10] == ["2026-04-01/2026-06-30", "-40.00", "2026/27"]
    assert trailer.startswith(b"TRAILER,1,-40.00,")
    assert end == b""


def test_chunks_are_the_same_bytes_as_the_file() -> None:
    rows = [a_row("PAY-1"), a_row("PAY-2", "-3.10")]
    assert b"".join(payment_file_chunks(rows)) == written(rows)


def test_an_empty_run_is_a_file_with_no_rows() -> None:
    read = read_payment_file(written([]))
    assert read.rows == ()
    assert (read.trailer.row_count, read.trailer.total) == (0, Decimal("0.00"))


def test_a_recovery_is_a_negative_amount_never_guarded() -> None:
    data = written([a_row("REC-1", "-1234.56")])
    assert b",-1234.56," in data
    assert b"'-" not in data
    assert read_payment_file(data).rows[0].amount == Decimal("-1234.56")


@pytest.mark.parametrize(
    ("amount", "written_as"),
    [
        ("10.005", "10.01"),  # half a penny goes up
        ("-10.005", "-10.01"),  # and away from zero for a recovery
        ("10.004", "10.00"),
        ("7", "7.00"),
        ("0.1", "0.10"),
    ],
)
def test_amounts_follow_the_one_rounding_rule(amount: str, written_as: str) -> None:
    read = read_payment_file(written([a_row(amount=amount)]))
    assert read.rows[0].amount == Decimal(written_as)
    assert f"{read.rows[0].amount:f}" == written_as
    assert read.trailer.total == Decimal(written_as)


def test_the_total_adds_the_amounts_as_written() -> None:
    rows = [a_row(f"PAY-{n}", "0.005") for n in range(3)]
    assert read_payment_file(written(rows)).trailer.total == Decimal("0.03")


def test_a_float_is_refused() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        written([dataclasses.replace(a_row(), amount=1.5)])


def test_text_that_a_spreadsheet_would_run_is_guarded() -> None:
    rows = [
        a_row("PAY-1", practice_name="=HYPERLINK(1)"),
        a_row("PAY-2", practice_name="+44 Surgery"),
        a_row("PAY-3", practice_name="-Dash"),
        a_row("PAY-4", practice_name="@home"),
    ]
    data = written(rows)
    for name in (b"'=HYPERLINK(1)", b"'+44 Surgery", b"'-Dash", b"'@home"):
        assert name in data
    assert [row.practice_name for row in read_payment_file(data).rows] == [
        "=HYPERLINK(1)",
        "+44 Surgery",
        "-Dash",
        "@home",
    ]


def test_a_name_with_a_comma_or_a_quote_is_quoted() -> None:
    row = a_row(practice_name='Smith, Jones & "Partners"')
    assert read_payment_file(written([row])).rows == (row,)


@pytest.mark.parametrize(
    ("change", "column"),
    [
        ({"payment_reference": "pay 1"}, "payment_reference"),
        ({"payment_reference": "TRAILER"}, "payment_reference"),
        ({"practice_ods_code": "a81"}, "practice_ods_code"),
        ({"practice_name": ""}, "practice_name"),
        ({"practice_name": "x" * 201}, "practice_name"),
        ({"icb_code": "Q"}, "icb_code"),
        ({"paycode": ""}, "paycode"),
        ({"period_end": dt.date(2026, 3, 1)}, "period"),
        ({"amount": Decimal("0")}, "amount"),
        ({"amount": Decimal("12345678901234.00")}, "amount"),
        ({"financial_year": "2026/28"}, "financial_year"),
        ({"payment_month": "2026-13"}, "payment_month"),
    ],
)
def test_the_writer_refuses_a_row_that_would_not_read_back(
    change: dict[str, object], column: str
) -> None:
    with pytest.raises(FileInvalid) as caught:
        written([a_row("PAY-1"), a_row("PAY-2", **change)])
    assert where(list(caught.value.problems)) == {(3, column)}


def test_a_name_with_a_line_break_is_refused() -> None:
    with pytest.raises(FileInvalid):
        written([a_row(practice_name="Line\nbreak")])


def replace_cell(data: bytes, line: int, column: str, value: str) -> bytes:
    """The file with one cell changed (the trailer left as it was)."""
    lines = data.split(b"\r\n")
    cells = lines[line - 1].decode().split(",")
    cells[COLUMNS.index(column)] = value
    lines[line - 1] = ",".join(cells).encode()
    return b"\r\n".join(lines)


@pytest.mark.parametrize(
    ("column", "bad"),
    [
        ("payment_reference", ""),
        ("payment_reference", "lower"),
        ("practice_ods_code", "A8"),
        ("practice_name", " padded"),
        ("icb_code", "qhm"),
        ("paycode", "!"),
        ("scheme_code", ""),
        ("claim_reference", "#1"),
        ("period", "2026-04-01"),
        ("period", "2026-04-01/2026-02-30"),
        ("period", "2026-06-30/2026-04-01"),
        ("amount", "100"),
        ("amount", "100.0"),
        ("amount", "1e2"),
        ("amount", "0.00"),
        ("amount", "--1.00"),
        ("amount", "£1.00"),
        ("financial_year", "2026-27"),
        ("financial_year", "2026/2027"),
        ("payment_month", "2026-9"),
        ("approved_date", "20/08/2026"),
        ("approved_date", "2026-02-29"),
    ],
)
def test_each_bad_cell_is_named_by_line_and_column(column: str, bad: str) -> None:
    data = written([a_row("PAY-1", "1.00"), a_row("PAY-2", "1.00")])
    problems = problems_of(replace_cell(data, 3, column, bad))
    # The cell, and the trailer's hash (the body changed); the total too when it was the amount.
    assert (3, column) in where(problems)
    assert where(problems) - {(3, column), (4, "sha256"), (4, "total")} == set()


def test_every_problem_is_reported_not_only_the_first() -> None:
    data = written([a_row("PAY-1"), a_row("PAY-2"), a_row("PAY-3")])
    data = replace_cell(data, 2, "practice_ods_code", "x")
    data = replace_cell(data, 2, "payment_month", "May")
    data = replace_cell(data, 4, "approved_date", "yesterday")
    problems = problems_of(data)
    assert where(problems) == {
        (2, "practice_ods_code"),
        (2, "payment_month"),
        (4, "approved_date"),
        (5, "sha256"),
    }
    assert "line 2, practice_ods_code:" in str(problems[0])


def test_a_changed_amount_breaks_the_hash_and_the_total() -> None:
    data = written([a_row("PAY-1", "100.00")])
    tampered = data.replace(b",100.00,", b",900.00,", 1)
    assert where(problems_of(tampered)) == {(3, "total"), (3, "sha256")}


def test_a_changed_name_is_caught_by_the_hash_alone() -> None:
    data = written([a_row("PAY-1")])
    tampered = data.replace(b"The Health Centre", b"The Wealth Centre")
    problems = problems_of(tampered)
    assert where(problems) == {(3, "sha256")}
    assert "does not match the body" in problems[0].message


def test_a_wrong_count_is_caught() -> None:
    data = written([a_row("PAY-1"), a_row("PAY-2")])
    lines = data.split(b"\r\n")
    del lines[2]  # drop a row: count, total and hash all disagree
    assert where(problems_of(b"\r\n".join(lines))) == {
        (3, "row_count"),
        (3, "total"),
        (3, "sha256"),
    }


def test_a_bad_trailer_is_named() -> None:
    data = written([a_row("PAY-1")])
    data = data.replace(b"TRAILER,1,", b"TRAILER,one,")
    assert where(problems_of(data)) == {(3, "row_count")}


@pytest.mark.parametrize(
    ("mangle", "expected"),
    [
        (lambda data: b"", {(1, None)}),
        (lambda data: data[: data.index(b"TRAILER")], {(3, None)}),
        (lambda data: data + data.splitlines(keepends=True)[1], {(4, None)}),
        (lambda data: data.replace(b"\r\n", b"\n"), {(1, None), (2, None), (3, None)}),
        (lambda data: data.replace(b"payment_reference,", b"ref,"), {(1, None), (3, "sha256")}),
        (lambda data: data.replace(b"A81001,", b"A81001,extra,"), {(2, None), (3, "sha256")}),
        (lambda data: data.replace(b"The Health", b"The\xff"), {(2, None), (3, "sha256")}),
        (lambda data: data.replace(b"The Health", b"The\x00"), {(2, None), (3, "sha256")}),
    ],
)
def test_file_level_problems(mangle: object, expected: set[tuple[int, str | None]]) -> None:
    data = written([a_row("PAY-1")])
    assert where(problems_of(mangle(data))) >= expected  # type: ignore[operator]


def test_a_repeated_payment_reference_is_named() -> None:
    data = written([a_row("PAY-1"), a_row("PAY-2")])
    data = replace_cell(data, 3, "payment_reference", "PAY-1")
    problems = problems_of(data)
    assert (3, "payment_reference") in where(problems)
    assert any("line 2" in problem.message for problem in problems)


def test_reading_from_a_binary_file_object() -> None:
    rows = [a_row("PAY-1"), a_row("REC-1", "-5.00")]
    assert read_payment_file(io.BytesIO(written(rows))).rows == tuple(rows)


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (dt.date(2026, 3, 31), "2025/26"),
        (dt.date(2026, 4, 1), "2026/27"),
        (dt.date(2099, 12, 1), "2099/00"),
    ],
)
def test_financial_year_of(day: dt.date, year: str) -> None:
    assert financial_year_of(day) == year


pennies = st.integers(min_value=-(10**9), max_value=10**9).filter(bool)
names = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FFF, exclude_characters="\x7f"),
    min_size=1,
    max_size=60,
).filter(lambda name: name == name.strip())


@given(st.lists(st.tuples(pennies, names), max_size=20))
def test_any_valid_rows_round_trip(rows: list[tuple[int, str]]) -> None:
    made = [
        a_row(f"PAY-{n}", f"{Decimal(p) / 100:.2f}", practice_name=name)
        for n, (p, name) in enumerate(rows)
    ]
    read = read_payment_file(written(made))
    assert read.rows == tuple(made)
    assert read.trailer.total == sum((Decimal(p) / 100 for p, _ in rows), Decimal("0.00"))


class _Discard(io.RawIOBase):
    """A binary sink that keeps only the size written."""

    def __init__(self) -> None:
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        size = len(data)  # type: ignore[arg-type]
        self.size += size
        return size


def _many(count: int) -> Iterator[PaymentRow]:
    template = a_row()
    for n in range(count):
        amount = Decimal(n % 5000) + Decimal("0.25") if n % 7 else Decimal("-12.50")
        yield dataclasses.replace(template, payment_reference=f"PAY-{n:08d}", amount=amount)


def test_fifty_thousand_rows_stream_in_flat_memory() -> None:
    sink = _Discard()
    tracemalloc.start()
    try:
        figures = write_payment_file(_many(50_000), sink)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert figures.row_count == 50_000
    assert sink.size > 6_000_000  # the file is megabytes ...
    assert peak < 256 * 1024  # ... written through a fixed handful of small buffers
