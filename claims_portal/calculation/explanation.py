"""Explanations: why a claim line, claim or payment is what it is.

Every result exposes an ``explanation`` built from :class:`Step` records: the rule applied,
its public source, the formula, each input and the result. Results store only the raw
figures they were computed from; the explanation is produced on demand, so a national run
pays nothing for it until somebody looks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeAlias

__all__ = ["Explanation", "Figure", "Step", "format_figure"]

Figure: TypeAlias = Decimal | int | str | bool | date | None
"""A value shown in an explanation."""


def format_figure(value: Figure) -> str:
    """Show a figure for people: booleans as Yes/No, ``None`` as "not set", dates ISO."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True, slots=True)
class Step:
    """One rule applied: what it was, where it comes from, with what inputs, to what result."""

    rule: str
    formula: str
    inputs: tuple[tuple[str, Figure], ...]
    result: Figure
    source: str = ""
    note: str = ""

    def render(self) -> str:
        """One paragraph of text describing the step."""
        lines = [f"{self.rule}: {self.formula} = {format_figure(self.result)}"]
        lines.extend(f"    {name} = {format_figure(value)}" for name, value in self.inputs)
        if self.note:
            lines.append(f"    note: {self.note}")
        if self.source:
            lines.append(f"    source: {self.source}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, object]:
        """The step as plain data (figures as strings) for templates and JSON."""
        return {
            "rule": self.rule,
            "formula": self.formula,
            "inputs": [{"name": n, "value": format_figure(v)} for n, v in self.inputs],
            "result": format_figure(self.result),
            "source": self.source,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class Explanation:
    """The steps that produced a result, in the order they were applied."""

    subject: str
    steps: tuple[Step, ...]

    def render(self) -> str:
        """The whole explanation as text."""
        return "\n".join([self.subject, *(step.render() for step in self.steps)])

    def as_dict(self) -> dict[str, object]:
        """The explanation as plain data for templates and JSON."""
        return {"subject": self.subject, "steps": [step.as_dict() for step in self.steps]}

    def __str__(self) -> str:
        return self.render()
