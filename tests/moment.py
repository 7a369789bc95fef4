"""The moment the suite runs as: ``pytest --today=YYYY-MM-DDTHH:MM`` (England local time).

Every test, the browser tests' live server included, sees the clock moved to that moment
and still ticking (time-machine patches the process's wall clock, so every thread sees it;
monotonic clocks, locks and timeouts are untouched). Without the option the suite runs at
the real now. ``scripts/awkward-moments`` runs the date-sensitive suites at the moments that
have broken date code before (month ends, the financial year's turn, a leap day, both
clock changes).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from claims_portal.clock import ENGLAND

_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$")


def parse_moment(value: str) -> dt.datetime:
    """``YYYY-MM-DDTHH:MM`` (or a date alone, meaning midday) on England's wall clock.

    A wall time that happens twice (the autumn change) is its first, BST occurrence; one
    that never happens (01:30 on the spring change) is read with the offset before the
    change, so it is 02:30 BST, as zoneinfo reads such times.
    """
    if not _FORMAT.match(value):
        raise pytest.UsageError(f"--today must look like 2027-03-31T23:30, not {value!r}")
    text = value if "T" in value else f"{value}T12:00"
    try:
        naive = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise pytest.UsageError(f"--today={value}: {exc}") from None
    return naive.replace(tzinfo=ENGLAND)


def pytest_addoption(parser: Any) -> None:
    parser.addoption(
        "--today",
        metavar="YYYY-MM-DDTHH:MM",
        default=None,
        help="run every test as of this moment (England local time), the clock ticking",
    )


_travel: Any = None


def pytest_configure(config: Any) -> None:
    global _travel
    value = config.getoption("--today")
    if not value:
        return
    import time_machine

    _travel = time_machine.travel(parse_moment(value), tick=True)
    _travel.start()


def pytest_unconfigure(config: Any) -> None:
    global _travel
    if _travel is not None:
        _travel.stop()
        _travel = None


def pytest_report_header(config: Any) -> str:
    from claims_portal import clock

    moved = " (--today)" if config.getoption("--today") else ""
    return f"claims-portal clock: {clock.england_now():%Y-%m-%d %H:%M %Z}{moved}"
