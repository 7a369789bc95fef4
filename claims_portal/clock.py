"""The one place the application reads the clock (the calculation core never does).

Everything else asks here: :func:`now` for timestamps (aware UTC, what the database
stores), :func:`today` for England's date (claim windows, membership dates), and
:func:`timestamp` for POSIX seconds (two-factor codes, short-lived signed values). The test
suite moves this clock with ``--today`` (tests/moment.py), so no other module may read
``datetime.now``, ``date.today`` or ``time.time`` (tests/test_conventions.py checks).
"""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

ENGLAND = ZoneInfo("Europe/London")


def now() -> dt.datetime:
    """The current moment, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def england_now() -> dt.datetime:
    """The current moment on England's wall clock (GMT or BST)."""
    return now().astimezone(ENGLAND)


def today() -> dt.date:
    """Today's date in England, which decides claim windows and membership dates."""
    return england_now().date()


def timestamp() -> float:
    """Seconds since the epoch (for TOTP steps and short-lived signed values)."""
    return time.time()
