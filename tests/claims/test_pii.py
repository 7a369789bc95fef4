"""NHS numbers in free text are refused (patient-identifiable information)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from wtforms import Form, StringField, TextAreaField

from claims_portal.pii import (
    NHS_NUMBER_MESSAGE,
    NoNhsNumber,
    find_nhs_numbers,
    is_valid_nhs_number,
)

# Valid by the modulus 11 rule (943 476 5919 is the NHS's published test number).
VALID = ["9434765919", "4010232137", "9000000009"]


def check_digit(first_nine: str) -> int | None:
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    return None if check == 10 else (0 if check == 11 else check)


@pytest.mark.parametrize("number", VALID)
def test_valid_numbers_pass_the_check(number):
    assert is_valid_nhs_number(number)


@pytest.mark.parametrize(
    "number",
    ["9434765918", "4010232138", "123456789", "12345678901", "943476591a", "\uff19" * 10],
)
def test_invalid_numbers_fail_the_check(number):
    assert not is_valid_nhs_number(number)


def test_a_check_digit_of_ten_is_never_valid():
    # 000000001x: total = 2, 11 - 2 = 9; find a nine-digit start whose check would be 10.
    first_nine = next(f"{n:09d}" for n in range(1, 10_000) if check_digit(f"{n:09d}") is None)
    assert not any(is_valid_nhs_number(first_nine + str(d)) for d in range(10))


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Patient 9434765919 attended", ["9434765919"]),
        ("NHS no: 943 476 5919.", ["9434765919"]),
        ("NHS no: 943-476-5919", ["9434765919"]),
        ("nhs 943\u2013476\u20135919 (en dashes)", ["9434765919"]),
        ("943 4765919", ["9434765919"]),
        ("943  476  5919", ["9434765919"]),
        ("943 - 476 - 5919", ["9434765919"]),
        ("full width " + "".join(chr(0xFF10 + int(d)) for d in "9434765919"), ["9434765919"]),
        ("ref:9434765919x", ["9434765919"]),
        ("two: 9434765919 and 401 023 2137, again 943-476-5919", ["9434765919", "4010232137"]),
    ],
)
def test_nhs_numbers_are_found_in_free_text(text, found):
    assert find_nhs_numbers(text) == found


@pytest.mark.parametrize(
    "text",
    [
        "",
        "12 health checks in March 2026",
        "9434765918",  # wrong check digit
        "19434765919",  # part of a longer number
        "94347659190",
        "9434 765 919",  # 4-3-3 is not how NHS numbers are written
        "Tel 020 7946 0958",
        "Invoice 2026-11-23-0001",
        "Claim total £1,234.56 for 120 patients",
    ],
)
def test_other_text_has_no_nhs_numbers(text):
    assert find_nhs_numbers(text) == []


@given(st.integers(min_value=0, max_value=999_999_999), st.sampled_from(["", " ", "-"]))
def test_every_valid_number_is_found_however_it_is_grouped(start, separator):
    first_nine = f"{start:09d}"
    check = check_digit(first_nine)
    if check is None:
        assert not any(find_nhs_numbers(first_nine + str(d)) for d in range(10))
        return
    number = first_nine + str(check)
    written = separator.join([number[:3], number[3:6], number[6:]])
    assert find_nhs_numbers(f"Notes: {written}.") == [number]
    wrong = first_nine + str((check + 1) % 10)
    assert find_nhs_numbers(f"Notes: {wrong}.") == []


@given(st.text())
def test_find_never_raises(text):
    for number in find_nhs_numbers(text):
        assert is_valid_nhs_number(number)


class NotesForm(Form):
    notes = TextAreaField("Notes", validators=[NoNhsNumber()])
    reason = StringField("Reason", validators=[NoNhsNumber(message="No patient details here")])


def test_the_validator_refuses_text_with_an_nhs_number():
    form = NotesForm(MultiDict({"notes": "Seen: 943 476 5919", "reason": "ok"}))
    assert not form.validate()
    assert form.errors == {"notes": [NHS_NUMBER_MESSAGE]}
    assert NHS_NUMBER_MESSAGE == (
        "Remove the NHS number: do not enter patient-identifiable information"
    )


def test_the_validator_accepts_other_text_and_takes_a_custom_message():
    form = NotesForm(MultiDict({"notes": "12 checks", "reason": "4010232137"}))
    assert not form.validate()
    assert form.errors == {"reason": ["No patient details here"]}
    assert NotesForm(MultiDict({"notes": "12 checks", "reason": ""})).validate()
