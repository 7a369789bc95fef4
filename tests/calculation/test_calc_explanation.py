"""Explanation records."""

from datetime import date
from decimal import Decimal

import pytest

from claims_portal.calculation import Explanation, Step
from claims_portal.calculation.explanation import Figure, format_figure


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        pytest.param(None, "not set", id="none"),
        pytest.param(True, "Yes", id="yes"),
        pytest.param(False, "No", id="no"),
        pytest.param(date(2025, 3, 31), "2025-03-31", id="date"),
        pytest.param(Decimal("10.06"), "10.06", id="decimal"),
        pytest.param(7, "7", id="int"),
        pytest.param("text", "text", id="str"),
    ],
)
def test_format_figure(value: Figure, shown: str) -> None:
    assert format_figure(value) == shown


def test_render_and_as_dict() -> None:
    bare = Step("Rule", "a + b", (("a", 1), ("b", 2)), 3)
    full = Step("Rule", "a", (), Decimal("1.00"), source="SFE", note="why")
    explanation = Explanation("Subject", (bare, full))
    assert explanation.render() == (
        "Subject\nRule: a + b = 3\n    a = 1\n    b = 2\n"
        "Rule: a = 1.00\n    note: why\n    source: SFE"
    )
    assert explanation.as_dict() == {
        "subject": "Subject",
        "steps": [
            {
                "rule": "Rule",
                "formula": "a + b",
                "inputs": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}],
                "result": "3",
                "source": "",
                "note": "",
            },
            {
                "rule": "Rule",
                "formula": "a",
                "inputs": [],
                "result": "1.00",
                "source": "SFE",
                "note": "why",
            },
        ],
    }
