"""Reading what a practice typed on the claim page: units and answers, checked by type.

The claim page's fields depend on the scheme (one units box per line, one input per
question), so they are parsed here rather than by a fixed WTForms class. Field names:

- ``units-<line id>``: a whole number, 0 or more, or empty (not entered yet);
- ``answer-<question id>``: text, a number, ``yes``/``no``, or one of the choices;
- ``answer-<question id>-day`` / ``-month`` / ``-year``: a date question.

Answers are stored as text in one canonical form: numbers as entered without spaces or
commas (``1234.5``), ``yes``/``no``, dates ISO (``2026-12-01``), choices and text as
entered (trimmed). Free text is refused when it holds an NHS number.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from claims_portal.claims.models import Claim, ClaimLine
from claims_portal.claims.services._common import Problem
from claims_portal.formatting import long_date
from claims_portal.inputs import parse_whole
from claims_portal.pii import NHS_NUMBER_MESSAGE, find_nhs_numbers
from claims_portal.schemes.models import QuestionKind, SupplementaryQuestion

MAX_UNITS = 1_000_000
MAX_TEXT = 2000
MAX_REASON = 1000
_WHOLE = re.compile(r"^[0-9]+$")  # ASCII digits: int() would also read "١٢"


def units_field(line: ClaimLine) -> str:
    return f"units-{line.id}"


def answer_field(question: SupplementaryQuestion) -> str:
    return f"answer-{question.id}"


def answer_anchor(question: SupplementaryQuestion) -> str:
    """The id the error summary links to (a date question's first box)."""
    name = answer_field(question)
    if question.kind is QuestionKind.DATE:
        return f"{name}-day"
    return name  # the NHS radios macro gives the first radio the group's name as its id


@dataclass
class ClaimEntries:
    """What the page sent, parsed. Fields that failed to parse are left out of ``units`` and
    ``answers`` and explained in ``problems``; ``raw`` keeps what was typed, to show again."""

    units: dict[int, int | None] = field(default_factory=dict)
    answers: dict[int, str | None] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    raw: dict[str, str] = field(default_factory=dict)


def _clean(value: object) -> str:
    return str(value or "").strip()


def parse_units(text: str, line: ClaimLine) -> tuple[int | None, str | None]:
    """(units, problem message) for one units box."""
    compact = text.replace(",", "").replace(" ", "")
    label = line.component.name
    if compact == "":
        return None, None
    if compact.startswith("-") and _WHOLE.match(compact[1:]):
        return None, f"Units for {label} must be 0 or more"
    if not _WHOLE.match(compact):
        return None, f"Enter the units for {label} as a whole number, like 12"
    units = parse_whole(compact, maximum=MAX_UNITS)  # never int() on 5,000 digits
    if units is None:
        return None, f"Units for {label} must be {MAX_UNITS:,} or fewer"
    return units, None


def free_text_problem(text: str, *, what: str, limit: int = MAX_TEXT) -> str | None:
    """Why free text cannot be kept: too long, or an NHS number in it."""
    if len(text) > limit:
        return f"{what} must be {limit:,} characters or fewer"
    if find_nhs_numbers(text):
        return NHS_NUMBER_MESSAGE
    return None


def _parse_date(form: Mapping[str, str], name: str) -> tuple[str | None, str | None]:
    parts = [_clean(form.get(f"{name}-{p}")) for p in ("day", "month", "year")]
    if not any(parts):
        return None, None
    if not all(p.isdigit() for p in parts) or len(parts[2]) != 4:
        return None, "Enter a real date, like 15 3 2027"
    try:
        day = dt.date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        return None, "Enter a real date, like 15 3 2027"
    return day.isoformat(), None


def parse_answer(
    question: SupplementaryQuestion, form: Mapping[str, str]
) -> tuple[str | None, str | None]:
    """(canonical answer or None, problem message) for one question."""
    name = answer_field(question)
    if question.kind is QuestionKind.DATE:
        return _parse_date(form, name)
    text = _clean(form.get(name))
    if not text:
        return None, None
    if question.kind is QuestionKind.NUMBER:
        compact = text.replace(",", "").replace(" ", "")
        try:
            number = Decimal(compact)
        except InvalidOperation:
            return None, "Enter a number, like 12"
        if not number.is_finite() or abs(number) >= Decimal("1e12"):
            return None, "Enter a number, like 12"
        return compact, None
    if question.kind is QuestionKind.YES_NO:
        if text.lower() not in ("yes", "no"):
            return None, "Select yes or no"
        return text.lower(), None
    if question.kind is QuestionKind.SINGLE_CHOICE:
        if text not in question.choice_list:
            return None, "Select one of the options"
        return text, None
    problem = free_text_problem(text, what="Your answer")
    return (None, problem) if problem else (text, None)


#: "Which part of the claim are these files for?" (per-component schemes): a component's id,
#: or ``WHOLE_CLAIM``. Read with the files (``claims/views/uploads.py``); kept in ``raw``.
EVIDENCE_COMPONENT_FIELD = "evidence-component"
WHOLE_CLAIM = "claim"


def parse_entries(claim: Claim, form: Mapping[str, str]) -> ClaimEntries:
    """Parse every units box and answer of ``claim`` from the posted ``form``.

    A field missing from the form entirely is left out (it keeps its stored value); an
    empty one clears it.
    """
    entries = ClaimEntries()
    for line in claim.lines:
        name = units_field(line)
        if name not in form:
            continue
        raw = _clean(form.get(name))
        entries.raw[name] = raw
        units, problem = parse_units(raw, line)
        if problem:
            entries.problems.append(Problem(problem, name))
        else:
            entries.units[line.id] = units
    for question in claim.scheme.questions:
        name = answer_field(question)
        keys = (
            [f"{name}-day", f"{name}-month", f"{name}-year"]
            if question.kind is QuestionKind.DATE
            else [name]
        )
        present = [k for k in keys if k in form]
        if not present:
            if question.kind in (QuestionKind.YES_NO, QuestionKind.SINGLE_CHOICE) and (
                "units-present" in form or "answers-present" in form
            ):
                # Unselected radios send nothing: the page marks that it had the questions.
                entries.answers[question.id] = None
            continue
        for key in present:
            entries.raw[key] = _clean(form.get(key))
        answer, problem = parse_answer(question, form)
        if problem:
            entries.problems.append(Problem(f"{question.text}: {problem}", answer_anchor(question)))
        else:
            entries.answers[question.id] = answer
    if EVIDENCE_COMPONENT_FIELD in form:
        entries.raw[EVIDENCE_COMPONENT_FIELD] = _clean(form.get(EVIDENCE_COMPONENT_FIELD))
    return entries


def display_answer(question: SupplementaryQuestion, value: str | None) -> str:
    """An answer as people read it."""
    if value is None or value == "":
        return "Not answered"
    if question.kind is QuestionKind.YES_NO:
        return "Yes" if value == "yes" else "No"
    if question.kind is QuestionKind.DATE:
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return value
        return long_date(day)
    return value
