"""Reading extract files: the two layouts, and each check of a single row reported by row
and column (the checks across rows: test_extract_loads.py)."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from claims_portal.national.models import DataLayout
from claims_portal.national.services.extract_rows import (
    MARKER,
    ExtractReader,
    Figure,
    Reference,
    RowProblem,
    ServiceInfo,
    cqrs_field,
)

YEAR_END = dt.date(2026, 3, 31)
HEADER = (
    "QUALITY_SERVICE,NAME,ORG_CODE,ACH_DATE,IND_CODE,FIELD_NAME,VALUE,DEFAULT_VALUES_USED,"
    "SUBMIT_USER_ID,SUBMIT_DATE,SUBMIT_TIME,LAST_SUBMISSION\n"
)


def reference() -> Reference:
    service = ServiceInfo(
        7,
        "QOF 2025/26",
        frozenset({YEAR_END, dt.date(2025, 9, 30)}),
        {"AF001": "AF", "AF006": "AF", "SMOK002": None},
    )
    return Reference({"A81001": 1, "A81002": 2}, {("QOF", 2025): service})


def cqrs(*lines: str) -> ExtractReader:
    body = HEADER + "".join(
        f"QOF,Quality and Outcomes Framework,{line},N,AUTOMATED,20260401,0100,Y\n" for line in lines
    )
    return ExtractReader(io.BytesIO(body.encode()), reference())


def items(reader: ExtractReader) -> tuple[list[Figure], list[RowProblem]]:
    figures, problems = [], []
    for item in reader:
        (problems if isinstance(item, RowProblem) else figures).append(item)
    return [f for f in figures if f.field != MARKER], problems


def test_a_cqrs_export_is_read_into_our_fields():
    reader = cqrs(
        "A81001,20260331,AF006,Numerator,40",
        "A81001,20260331,AF006,Denominator,50",
        "A81001,20260331,AF006,PCA_INFORMED_DISSENT,3",
        "A81001,20260331,AF006,EXC_UNSUITABLE,2",
        "A81001,20260331,AF001,Register,60",
        "A81001,20260331,AF001,List size,9000",
    )
    figures, problems = items(reader)
    assert problems == []
    assert reader.layout is DataLayout.CQRS_EXPORT
    assert [(f.row, f.code, f.field, f.value) for f in figures] == [
        (2, "AF006", "NUMERATOR", 40),
        (3, "AF006", "DENOMINATOR", 50),
        (4, "AF006", "PCAS", 3),
        (5, "AF006", "EXCLUSIONS", 2),
        (6, "AF", "REGISTER", 60),
        (7, "LIST_SIZE", "LIST_SIZE", 9000),
    ]
    assert {(f.provider_id, f.service_id, f.achievement_date) for f in figures} == {
        (1, 7, YEAR_END)
    }


def test_rows_not_the_last_submission_are_skipped():
    body = HEADER + (
        "QOF,Q,A81001,20260331,AF006,Numerator,40,N,AUTOMATED,20260401,0100,N\n"
        "QOF,Q,A81001,20260331,AF006,Numerator,41,N,AUTOMATED,20260402,0100,Y\n"
    )
    reader = ExtractReader(io.BytesIO(body.encode()), reference())
    figures, problems = items(reader)
    assert problems == []
    assert [(f.row, f.value) for f in figures] == [(3, 41)]
    assert reader.skipped == 1


def test_the_open_data_layout_takes_the_service_and_date_chosen():
    body = (
        "REGION_ODS_CODE,PRACTICE_CODE,INDICATOR_CODE,MEASURE,VALUE\n"
        "Y56,A81002,AF006,NUMERATOR,10\n"
        "Y56,A81002,AF006,DENOMINATOR,12\n"
        "Y56,A81002,AF006,PCAS,1\n"
        "Y56,A81002,AF001,REGISTER,30\n"
        "Y56,A81002,AF006,ACHIEVED_POINTS,12.5\n"
    )
    reader = ExtractReader(
        io.BytesIO(body.encode()), reference(), service_id=7, achievement_date=YEAR_END
    )
    figures, problems = items(reader)
    assert problems == []
    assert reader.layout is DataLayout.QOF_OPEN_DATA
    assert [(f.code, f.field, f.value) for f in figures] == [
        ("AF006", "NUMERATOR", 10),
        ("AF006", "DENOMINATOR", 12),
        ("AF006", "PCAS", 1),
        ("AF", "REGISTER", 30),
    ]
    assert reader.skipped == 1
    assert {(f.provider_id, f.service_id, f.achievement_date) for f in figures} == {
        (2, 7, YEAR_END)
    }


def test_a_file_in_neither_layout_is_row_0():
    reader = ExtractReader(io.BytesIO(b"PRACTICE,SCORE\nA81001,3\n"), reference())
    figures, problems = items(reader)
    assert figures == []
    assert len(problems) == 1
    assert problems[0].row == 0
    assert problems[0].column is None
    assert "neither layout" in problems[0].message
    assert reader.layout is None


def test_an_empty_file_is_in_neither_layout():
    _, problems = items(ExtractReader(io.BytesIO(b""), reference()))
    assert [p.row for p in problems] == [0]


@pytest.mark.parametrize(
    ("line", "column", "words"),
    [
        ("B99999,20260331,AF006,Numerator,4", "ORG_CODE", "No GP practice has the code B99999"),
        ("A81001,20260331,XYZ001,Numerator,4", "IND_CODE", "has no indicator XYZ001"),
        ("A81001,20260331,AF006,Numerator,4.5", "VALUE", "VALUE 4.5 is not a whole number"),
        ("A81001,20260331,AF006,Numerator,-1", "VALUE", "is not a whole number"),
        ("A81001,20260331,AF006,Numerator,", "VALUE", "VALUE (empty) is not a whole number"),
        ("A81001,20260330,AF006,Numerator,4", "ACH_DATE", "30/03/2026 is not a month end"),
        ("A81001,20260228,AF006,Numerator,4", "ACH_DATE", "is not an achievement date of QOF"),
        ("A81001,2026-03-31,AF006,Numerator,4", "ACH_DATE", "as YYYYMMDD"),
        ("A81001,20260231,AF006,Numerator,4", "ACH_DATE", "as YYYYMMDD"),
        ("A81001,20250331,AF006,Numerator,4", "QUALITY_SERVICE", "No service QOF"),
        ("A81001,20260331,AF006,Points,4", "FIELD_NAME", "FIELD_NAME Points is not"),
        ("A81001,20260331,SMOK002,Register,4", "FIELD_NAME", "SMOK002 has no register"),
    ],
)
def test_each_check_of_a_cqrs_row_names_its_row_and_column(line, column, words):
    reader = cqrs("A81001,20260331,AF006,Denominator,9", line)
    figures, problems = items(reader)
    assert [(p.row, p.column) for p in problems] == [(3, column)]
    assert words in problems[0].message
    assert [f.row for f in figures] == [2]


def test_problems_shared_by_many_rows_are_reported_on_each_of_them():
    """What rows share is worked out once per file: every row still gets its own report."""
    reader = cqrs(
        "B99999,20260330,AF006,Numerator,4",
        "A81001,20260331,XYZ001,Numerator,4",
        "B99999,20260330,AF006,Denominator,4",
        "A81001,20260331,XYZ001,Denominator,5",
        "A81001,20260331,AF006,Points,4",
        "A81001,20260331,AF006,Points,4",
    )
    figures, problems = items(reader)
    assert [(p.row, p.column) for p in problems] == [
        (2, "ORG_CODE"), (2, "ACH_DATE"), (3, "IND_CODE"), (4, "ORG_CODE"), (4, "ACH_DATE"),
        (5, "IND_CODE"), (6, "FIELD_NAME"), (7, "FIELD_NAME"),
    ]  # fmt: skip
    assert figures == []


def test_what_rows_share_is_kept_only_up_to_a_limit(monkeypatch):
    from claims_portal.national.services import extract_rows

    monkeypatch.setattr(extract_rows, "MEMO_LIMIT", 3)
    reader = cqrs(*(f"B{n:05d},20260331,AF006,Numerator,4" for n in range(10)),
                  "A81001,20260331,AF006,Numerator,4")  # fmt: skip
    figures, problems = items(reader)
    assert len(reader._memo) == 3
    assert [p.row for p in problems] == list(range(2, 12))  # every unknown practice reported
    assert [(f.row, f.provider_id) for f in figures] == [(12, 1)]


@pytest.mark.parametrize("value", ["\u00b2", "\u0663", "1" * 16, " 7 "])
def test_only_plain_digits_are_whole_numbers(value):
    figures, problems = items(cqrs(f"A81001,20260331,AF006,Numerator,{value}"))
    if value == " 7 ":
        assert [f.value for f in figures] == [7]
    else:
        assert [(p.row, p.column) for p in problems] == [(2, "VALUE")]


def test_an_unknown_service_code_is_reported():
    body = HEADER + "DES9,N,A81001,20260331,AF006,Numerator,4,N,AUTOMATED,20260401,0100,Y\n"
    _, problems = items(ExtractReader(io.BytesIO(body.encode()), reference()))
    assert [(p.row, p.column) for p in problems] == [(2, "QUALITY_SERVICE")]
    assert "No service DES9" in problems[0].message


def test_a_row_with_several_problems_reports_each_column():
    _, problems = items(cqrs("B99999,20260331,AF006,Numerator,x"))
    assert [(p.row, p.column) for p in problems] == [(2, "ORG_CODE"), (2, "VALUE")]


def test_a_short_row_is_reported_without_a_column():
    body = HEADER + "QOF,Q,A81001\n"
    _, problems = items(ExtractReader(io.BytesIO(body.encode()), reference()))
    assert [(p.row, p.column) for p in problems] == [(2, None)]


def test_a_bad_row_of_a_known_indicator_leaves_a_marker_so_its_indicator_is_left_out():
    reader = cqrs("A81001,20260331,AF006,Numerator,x")
    markers = [i for i in reader if isinstance(i, Figure) and i.field == MARKER]
    assert [(m.row, m.provider_id, m.ind_code) for m in markers] == [(2, 1, "AF006")]


@pytest.mark.parametrize(
    ("line", "column", "words"),
    [
        ("B99999,AF006,NUMERATOR,4", "PRACTICE_CODE", "No GP practice"),
        ("A81001,ZZ001,NUMERATOR,4", "INDICATOR_CODE", "has no indicator ZZ001"),
        ("A81001,AF006,TOTAL,4", "MEASURE", "MEASURE TOTAL is not"),
        ("A81001,SMOK002,REGISTER,4", "MEASURE", "SMOK002 has no register"),
        ("A81001,AF006,NUMERATOR,four", "VALUE", "VALUE four is not a whole number"),
    ],
)
def test_each_check_of_an_open_data_row_names_its_row_and_column(line, column, words):
    body = f"PRACTICE_CODE,INDICATOR_CODE,MEASURE,VALUE\nA81001,AF006,DENOMINATOR,5\n{line}\n"
    reader = ExtractReader(
        io.BytesIO(body.encode()), reference(), service_id=7, achievement_date=YEAR_END
    )
    _, problems = items(reader)
    assert [(p.row, p.column) for p in problems] == [(3, column)]
    assert words in problems[0].message


@pytest.mark.parametrize(
    ("day", "words"),
    [(dt.date(2026, 3, 30), "not a month end"), (dt.date(2026, 1, 31), "not an achievement")],
)
def test_open_data_with_a_date_not_of_the_service_is_refused_whole(day, words):
    body = "PRACTICE_CODE,INDICATOR_CODE,MEASURE,VALUE\nA81001,AF006,DENOMINATOR,5\n"
    reader = ExtractReader(
        io.BytesIO(body.encode()), reference(), service_id=7, achievement_date=day
    )
    figures, problems = items(reader)
    assert figures == []
    assert [p.row for p in problems] == [0]
    assert words in problems[0].message


@pytest.mark.parametrize(
    ("raw", "register", "expected"),
    [
        ("Numerator", None, ("NUMERATOR", False)),
        ("DENOMINATOR", None, ("DENOMINATOR", False)),
        ("AF", "AF", ("REGISTER", True)),
        ("Register", "AF", ("REGISTER", True)),
        ("PCA01", None, ("PCAS", False)),
        ("Exclusion code 2", None, ("EXCLUSIONS", False)),
        ("LIST_SIZE", None, ("LIST_SIZE", False)),
        ("Answer", None, ("ANSWER", False)),
        ("Points", "AF", None),
    ],
)
def test_cqrs_field_names_map_to_our_fields(raw, register, expected):
    assert cqrs_field(raw, register) == expected
