"""How dates, times and money read to people: one copy, used by pages, the admin and emails.

The functions are registered once as Jinja filters (:func:`register_filters`, called by
``create_app``): ``{{ day | long_date }}``, ``{{ moment | england }}``, ``{{ amount | money }}``.
Dates follow the NHS style guide (``1 December 2026``, no leading zero); timestamps are stored
in UTC and shown on England's wall clock (GMT or BST).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask

from claims_portal.clock import ENGLAND


def england(moment: dt.datetime) -> dt.datetime:
    """A stored (UTC) timestamp on England's wall clock."""
    return moment.astimezone(ENGLAND)


def long_date(day: dt.date) -> str:
    """``1 December 2026``. A timestamp is first put on England's clock."""
    if isinstance(day, dt.datetime):
        day = england(day)
    return f"{day.day} {day:%B %Y}"


def month_year(day: dt.date) -> str:
    """``December 2026``."""
    return f"{day:%B %Y}"


def england_time(moment: dt.datetime | None) -> str:
    """``1 December 2026 at 14:02``, on England's clock; empty for no moment."""
    if moment is None:
        return ""
    local = england(moment)
    return f"{local.day} {local:%B %Y at %H:%M}"


def time_and_day(moment: dt.datetime, *, today: dt.date | None = None) -> str:
    """``14:02 on 3 December 2026`` on England's clock; only ``14:02`` when that is ``today``."""
    local = england(moment)
    clock = f"{local:%H:%M}"
    if today is not None and local.date() == today:
        return clock
    return f"{clock} on {local.day} {local:%B %Y}"


#: Counts stop here: past it a page says "more than 1,000" (an exact count of 100,000
#: claims on every page would cost more than the rest of the page).
COUNTED_UP_TO = 1000


def how_many(number: int, *, short: bool = False) -> str:
    """``1,234``; a count that went past :data:`COUNTED_UP_TO` reads ``more than 1,000``
    (``1,000+`` where space is short: the header)."""
    if number > COUNTED_UP_TO:
        return f"{COUNTED_UP_TO:,}+" if short else f"more than {COUNTED_UP_TO:,}"
    return f"{number:,}"


def money(amount: Any) -> str:
    """``£1,234.50``; ``-£20.00`` below zero (a recovery); empty for no amount."""
    if amount is None:
        return ""
    return f"-£{-amount:,.2f}" if amount < 0 else f"£{amount:,.2f}"


FILTERS = {
    "england": england,
    "long_date": long_date,
    "month_year": month_year,
    "england_time": england_time,
    "time_and_day": time_and_day,
    "money": money,
    "how_many": how_many,
}


def register_filters(app: Flask) -> None:
    """Make every formatter a Jinja filter of ``app`` (done once, by ``create_app``)."""
    app.jinja_env.filters.update(FILTERS)
