"""How the admin reads: dates as the rest of the portal writes them, and one list of problems.

- Dates and timestamps in every list and details page go through ``claims_portal.formatting``
  (``1 December 2026``; ``1 December 2026 at 14:05`` on England's clock).
- A page's messages are gathered once (:func:`page_notices`): every problem with the form
  (each field, each inline row) and every rule the services refused, in one error summary
  at the top, each linking to its field; Flask-Admin's own "Failed to save record." and its
  generic success message are dropped when the page already says more, and nothing is shown
  twice (a scheme's publication problems, listed in its panel, are not repeated above it).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from flask import get_flashed_messages
from flask_admin.contrib.sqla import typefmt

from claims_portal.formatting import england_time, long_date

#: Flask-Admin's own messages that the error summary or a view's own message replaces.
GENERIC_FAILURES = frozenset({"Failed to create record.", "Failed to save record."})
GENERIC_SUCCESSES = frozenset(
    {"Record was successfully created.", "Record was successfully saved."}
)


def _enum_value(view: Any, value: enum.Enum, name: str = "") -> str:
    return str(value.value)


def _date(view: Any, value: dt.date, name: str = "") -> str:
    return long_date(value)


def _moment(view: Any, value: dt.datetime, name: str = "") -> str:
    return england_time(value)


#: Statuses as users read them ("Re-requested"), dates in long form on England's clock.
#: ``datetime`` is listed before ``date`` (it is a subclass of it).
LIST_FORMATTERS = {
    **typefmt.DEFAULT_FORMATTERS,
    enum.Enum: _enum_value,
    dt.datetime: _moment,
    dt.date: _date,
}
EXPORT_FORMATTERS = {**typefmt.EXPORT_FORMATTERS, enum.Enum: _enum_value}


@dataclass(frozen=True)
class Problem:
    text: str
    #: The field's id, for the summary's link; empty when the problem is not one field's.
    field_id: str = ""


@dataclass
class Notices:
    problems: list[Problem] = field(default_factory=list)
    #: (category, message) of everything else, in the order flashed.
    messages: list[tuple[str, str]] = field(default_factory=list)


def form_problems(form: Any, prefix: str = "") -> Iterator[Problem]:
    """Every error of ``form``, inline rows included ("Component 2: Enter the name")."""
    for item in form or ():
        entries = getattr(item, "entries", None)
        if entries is not None:  # an inline list: each row is a form of its own
            for number, entry in enumerate(entries, start=1):
                row = getattr(entry, "form", entry)
                yield from form_problems(row, f"{prefix}{item.label.text} {number}: ")
            continue
        for error in item.errors if isinstance(item.errors, list | tuple) else ():
            if isinstance(error, str):
                linked = item.type not in ("HiddenField", "CSRFTokenField")
                yield Problem(f"{prefix}{error}", item.id if linked else "")


def _unique(problems: Iterable[Problem]) -> list[Problem]:
    seen: set[str] = set()
    result = []
    for problem in problems:
        if problem.text not in seen:
            seen.add(problem.text)
            result.append(problem)
    return result


def page_notices(form: Any = None, shown_elsewhere: Iterable[str] = ()) -> Notices:
    """The page's problems (one summary) and its other messages, each said once."""
    flashed = cast(list[tuple[str, str]], get_flashed_messages(with_categories=True))
    problems = list(form_problems(form)) if form is not None else []
    failed = False
    successes = []
    messages = []
    for category, message in flashed:
        if message in GENERIC_FAILURES:
            failed = True
        elif category in ("error", "danger"):
            problems.append(Problem(str(message)))
        elif category == "success":
            successes.append(str(message))
        else:
            messages.append((category, str(message)))
    if failed and not problems:  # nothing more specific to say
        problems.append(Problem("The record was not saved"))
    said = [s for s in successes if s not in GENERIC_SUCCESSES]
    successes = said or successes
    elsewhere = set(shown_elsewhere)
    return Notices(
        problems=_unique(p for p in problems if p.text not in elsewhere),
        messages=[("success", s) for s in dict.fromkeys(successes)] + messages,
    )
