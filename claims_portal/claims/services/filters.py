"""What a claim list is narrowed to: the filter read from the page's query string.

:func:`parse_filter` never raises: a value it cannot read is dropped and reported in
``ClaimFilter.problems`` (each on its filter's field, for the page's error summary), and
:func:`offered_only` drops and reports a scheme or practice the list does not offer. The
queries that apply a filter are in ``listing.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from claims_portal.claims.models import ClaimStatus
from claims_portal.inputs import parse_id
from claims_portal.rules import Problem

MAX_SEARCH = 100

#: Sort keys the page offers -> what they order by (anything else is refused).
SORTS: dict[str, str] = {
    "reference": "Claim ID",
    "practice": "Practice",
    "scheme": "Scheme",
    "period": "Period",
    "value": "Value",
    "status": "Status",
    "submitted": "Submitted",
}
DEFAULT_SORT = "submitted"
#: The filters' fields in the order the page shows them.
FIELD_ORDER = (
    "filter-scheme",
    "filter-practice",
    "filter-status",
    "filter-period-from",
    "filter-period-to",
)


@dataclass(frozen=True)
class FilterOptions:
    schemes: list[tuple[int, str]]
    providers: list[tuple[int, str]]


@dataclass(frozen=True)
class ClaimFilter:
    """What the list is narrowed to, how it is sorted and which page is shown."""

    scheme_id: int | None = None
    provider_id: int | None = None
    status: ClaimStatus | None = None
    #: Claims whose period starts on or after / on or before these days.
    period_from: dt.date | None = None
    period_to: dt.date | None = None
    #: A claim ID (``CLM-000123`` or ``123``) or part of a practice's name or ODS code.
    search: str = ""
    sort: str = DEFAULT_SORT
    descending: bool = True
    page: int = 1
    #: Values from the query string that could not be read, each on its filter's field (the
    #: page's error summary links to it).
    problems: tuple[Problem, ...] = field(default=(), compare=False)

    def query_args(self, **changes: Any) -> dict[str, str]:
        """The query string giving this filter (with ``changes``), defaults left out."""
        chosen = replace(self, **changes) if changes else self
        args = {
            "scheme": str(chosen.scheme_id) if chosen.scheme_id else "",
            "practice": str(chosen.provider_id) if chosen.provider_id else "",
            "status": chosen.status.name if chosen.status else "",
            "period-from": chosen.period_from.strftime("%Y-%m") if chosen.period_from else "",
            "period-to": chosen.period_to.strftime("%Y-%m") if chosen.period_to else "",
            "q": chosen.search,
            "sort": chosen.sort if chosen.sort != DEFAULT_SORT else "",
            "order": "" if chosen.descending else "asc",
            "page": str(chosen.page) if chosen.page > 1 else "",
        }
        return {key: value for key, value in args.items() if value}

    @property
    def is_filtered(self) -> bool:
        return any(
            (
                self.scheme_id,
                self.provider_id,
                self.status,
                self.period_from,
                self.period_to,
                self.search,
            )
        )


def _int(value: str | None) -> int | None:
    return parse_id(value)


def _month(value: str | None, *, end: bool) -> dt.date | None:
    """``2026-10`` (as an ``<input type="month">`` sends it) or ``2026-10-01``."""
    value = (value or "").strip()
    try:
        if len(value) == 7:
            first = dt.date.fromisoformat(f"{value}-01")
        else:
            first = dt.date.fromisoformat(value)
    except ValueError:
        return None
    if not end:
        return first.replace(day=1) if len(value) == 7 else first
    if len(value) != 7:
        return first
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def parse_filter(args: Mapping[str, str]) -> ClaimFilter:
    """Read the list's query string; unreadable values are dropped and listed in
    ``problems`` (a bookmark from an older page must still open)."""
    problems: list[Problem] = []

    def number(name: str, label: str) -> int | None:
        raw = args.get(name, "")
        value = _int(raw)
        if raw and value is None:
            problems.append(
                Problem(f"{label} was not recognised, so it is not applied", f"filter-{name}")
            )
        return value

    status = None
    raw_status = (args.get("status") or "").strip()
    if raw_status:
        status = ClaimStatus.__members__.get(raw_status.upper())
        if status is None:
            problems.append(
                Problem("The status was not recognised, so it is not applied", "filter-status")
            )
    period_from = _month(args.get("period-from"), end=False)
    period_to = _month(args.get("period-to"), end=True)
    for name, value in (("period-from", period_from), ("period-to", period_to)):
        if args.get(name) and value is None:
            problems.append(
                Problem(
                    "Enter the period as a month and year, like 2026-10: "
                    f"“{args.get(name, '')[:20]}” is not applied",
                    f"filter-{name}",
                )
            )
    if period_from and period_to and period_from > period_to:
        problems.append(
            Problem("The period from must be before the period to", "filter-period-from")
        )
        period_from = period_to = None
    sort = (args.get("sort") or DEFAULT_SORT).strip()
    if sort not in SORTS:
        sort = DEFAULT_SORT
    page = _int(args.get("page")) or 1
    return ClaimFilter(
        scheme_id=number("scheme", "The scheme"),
        provider_id=number("practice", "The practice"),
        status=status,
        period_from=period_from,
        period_to=period_to,
        search=(args.get("q") or "").strip()[:MAX_SEARCH],
        sort=sort,
        descending=(args.get("order") or "desc").strip() != "asc",
        page=max(1, min(page, 100_000)),
        problems=tuple(dict.fromkeys(problems)),
    )


def offered_only(chosen: ClaimFilter, options: FilterOptions) -> ClaimFilter:
    """``chosen`` without a scheme or practice the list does not offer (an old bookmark, a
    scheme of another ICB, a typed id): each dropped and said, as an unreadable value is."""
    problems = list(chosen.problems)
    changes: dict[str, Any] = {}
    if chosen.scheme_id and chosen.scheme_id not in {id_ for id_, _ in options.schemes}:
        changes["scheme_id"] = None
        problems.append(
            Problem("The scheme was not recognised, so it is not applied", "filter-scheme")
        )
    if chosen.provider_id and chosen.provider_id not in {id_ for id_, _ in options.providers}:
        changes["provider_id"] = None
        problems.append(
            Problem(
                "The practice was not recognised, so it is not applied",
                "filter-practice" if options.providers else None,  # a practice's own list
            )
        )
    # In the order of the fields on the page, as the error summary lists them.
    problems.sort(key=lambda p: FIELD_ORDER.index(p.field) if p.field in FIELD_ORDER else 0)
    return replace(chosen, **changes, problems=tuple(problems))
