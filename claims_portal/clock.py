"""The one place the application reads the clock (the calculation core never does)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

ENGLAND = ZoneInfo("Europe/London")


def today() -> dt.date:
    """Today's date in England, which decides claim windows and membership dates."""
    return dt.datetime.now(ENGLAND).date()
