"""How a claim's value was worked out, in words a practice reads (the claim page).

The calculation core explains each result as steps (``calculation.explanation``: the rule,
its formula, inputs, result and public source), kept as plain data with a submission
(``pricing.explanation_of``: figures as text, dates ISO). :func:`present` turns those steps
into sentences - pounds with thousands separators (``£1,234.50``), dates as ``1 November
2026``, no formulas - and keeps each step's rule and source, its figures formatted the same
way, for the page's "details" component. The figures are the core's own: nothing here
calculates; a step this module does not know is shown by its rule alone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from claims_portal.formatting import long_date, money

_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_POUNDS = re.compile(r"£(\d+(?:\.\d+)?)")
_MONEY_FIGURE = re.compile(r"^-?\d+\.\d{2}$")
_WHOLE_FIGURE = re.compile(r"^-?\d+$")
_CAP_RULE = re.compile(r"^Cap: per-(claim|period|financial-year) (unit|money) cap of ")
_TARIFF_CHANGE = re.compile(r"£([\d,.]+) from (\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class Working:
    """One step of the calculation as its rule states it, figures formatted for people."""

    rule: str
    formula: str
    inputs: tuple[tuple[str, str], ...]
    result: str
    source: str
    note: str


@dataclass(frozen=True)
class LineAccount:
    """One line: a heading, what happened in sentences, and the steps behind them."""

    code: str
    heading: str
    sentences: tuple[str, ...]
    #: What the caps did, in words (shown beside the line in the value table too).
    caps: tuple[str, ...]
    workings: tuple[Working, ...]


@dataclass(frozen=True)
class ValueAccount:
    lines: tuple[LineAccount, ...]
    total: str
    workings: tuple[Working, ...] = field(default=())

    def caps_of(self, code: str) -> tuple[str, ...]:
        """The cap sentences of the line for component ``code`` (none if it was not capped)."""
        return next((line.caps for line in self.lines if line.code == code), ())


def figure(text: object) -> str:
    """A figure of an explanation for people: ``2026-11-01`` -> ``1 November 2026``,
    ``1234.50`` -> ``£1,234.50``, ``1200`` -> ``1,200``; anything else as it is."""
    value = str(text)
    if _DATE.fullmatch(value):
        return long_date(dt.date.fromisoformat(value))
    if _MONEY_FIGURE.match(value):
        return money(Decimal(value))
    if _WHOLE_FIGURE.match(value):
        return f"{int(value):,}"
    return value


def in_words(text: str) -> str:
    """Free text of an explanation (a note, a subject) with its ISO dates as long dates and
    its pounds with thousands separators."""
    text = _DATE.sub(lambda m: long_date(dt.date.fromisoformat(m.group(0))), text)
    return _POUNDS.sub(lambda m: _pounds_text(m.group(1)), text)


def _pounds_text(amount: str) -> str:
    try:
        return money(Decimal(amount.replace(",", "")))
    except InvalidOperation:
        return f"£{amount}"


def _number(text: object) -> Decimal:
    try:
        return Decimal(str(text).replace(",", "").lstrip("£"))
    except InvalidOperation:
        return Decimal(0)


def _units(amount: Decimal) -> str:
    count = int(amount)
    return f"{count:,} unit" if count == 1 else f"{count:,} units"


def working(step: Mapping[str, Any]) -> Working:
    inputs = tuple((str(i["name"]), figure(i["value"])) for i in step.get("inputs", ()))
    return Working(
        rule=in_words(str(step.get("rule", ""))),
        formula=str(step.get("formula", "")).replace(" x ", " \u00d7 "),
        inputs=inputs,
        result=figure(step.get("result", "")),
        source=str(step.get("source", "")),
        note=in_words(str(step.get("note", ""))),
    )


def _inputs(step: Mapping[str, Any]) -> dict[str, str]:
    return {str(i["name"]): str(i["value"]) for i in step.get("inputs", ())}


def _tariff_sentences(step: Mapping[str, Any]) -> list[str]:
    given = _inputs(step)
    sentences = [
        f"The tariff is {figure(step['result'])} a unit: the rate in force on "
        f"{figure(given.get('period start', ''))}, the first day of the claim period "
        f"(in force from {figure(given.get('tariff effective from', ''))})."
    ]
    for amount, day in _TARIFF_CHANGE.findall(str(step.get("note", ""))):
        sentences.append(
            f"A new tariff of {_pounds_text(amount)} starts on {figure(day)}, during this "
            "period: it is used from the next claim period."
        )
    return sentences


def _cap_sentence(step: Mapping[str, Any]) -> str | None:
    match = _CAP_RULE.match(str(step.get("rule", "")))
    if match is None:
        return None
    scope, measure = match.groups()
    given = _inputs(step)
    limit, used = _number(given.get("limit")), _number(given.get("already claimed"))
    left, before = _number(given.get("allowance left")), _number(given.get("before the cap"))
    after = _number(step.get("result"))
    show = money if measure == "money" else _units
    where = {"claim": "in one claim", "period": "for a claim period"}.get(
        scope, "in a financial year"
    )
    said = f"At most {show(limit)} can be paid {where}"
    if scope != "claim":
        this = "this period" if scope == "period" else "this financial year"
        said += f". {show(used)} {'was' if measure == 'money' else 'were'} already claimed {this}"
        said += f", so {show(left)} {'is' if measure == 'money' else 'are'} left"
    if after == 0:
        return f"{said}: nothing more is paid."
    if measure == "money":
        return f"{said}: {money(after)} of the {money(before)} is paid."
    return f"{said}: {_units(after)} of the {_units(before)} claimed are paid."


def present_line(explanation: Mapping[str, Any], names: Mapping[str, str]) -> LineAccount:
    """One line's steps (``ClaimLineResult.explanation.as_dict()``) in words."""
    subject = str(explanation.get("subject", ""))
    code = subject.split(":", 1)[0]
    steps: Sequence[Mapping[str, Any]] = explanation.get("steps", ())
    sentences: list[str] = []
    caps: list[str] = []
    paid: list[str] = []
    for step in steps:
        rule = str(step.get("rule", ""))
        given = _inputs(step)
        if rule == "Tariff in force":
            sentences += _tariff_sentences(step)
        elif rule == "Gross value":
            sentences.append(
                f"{_units(_number(given.get('units')))} at {figure(given.get('tariff'))} each "
                f"come to {figure(step.get('result'))}."
            )
        elif (said := _cap_sentence(step)) is not None:
            caps.append(said)
        elif rule == "Line value":
            paid.append(f"Paid for this line: {figure(step.get('result'))}.")
    name = names.get(code)
    heading = f"{name} ({code})" if name else in_words(subject)
    return LineAccount(
        code,
        heading,
        tuple(sentences + caps + paid),
        tuple(caps),
        tuple(working(step) for step in steps),
    )


def present(explanation: Mapping[str, Any], names: Mapping[str, str]) -> ValueAccount:
    """A claim's explanation (``pricing.explanation_of``: ``lines`` and ``total``) in words;
    ``names`` gives each component code its name."""
    total: Mapping[str, Any] = explanation.get("total") or {}
    total_steps: Sequence[Mapping[str, Any]] = total.get("steps", ())
    lines = tuple(present_line(line, names) for line in explanation.get("lines", ()))
    step = total_steps[0] if total_steps else {}
    amount = figure(step.get("result", "0.00"))
    if step.get("rule") == "Participation only":
        words = "This scheme pays nothing per claim: a claim records that the practice takes part."
    elif len(lines) == 1:
        words = f"The claim's value is {amount}."
    else:
        words = f"The claim's value is {amount}, the values of its lines added up."
    return ValueAccount(lines, words, tuple(working(s) for s in total_steps))
