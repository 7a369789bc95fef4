"""What the national pages' forms post, read and checked before a service is asked: the
offers' filters, the offer of a service (the service, whom to, the dates) and the offers
ticked on a list. Problems name the field they are about (the NHS error summary links to
it); the rules themselves stay in ``services``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from claims_portal.inputs import parse_id
from claims_portal.national.models import OfferStatus
from claims_portal.rules import Problem

#: The three boxes of each date on the offer form.
DATE_FIELDS = ("start_date", "end_date", "response_date")
DATE_LABELS = {
    "start_date": "start date",
    "end_date": "end date",
    "response_date": "response date",
}


def parse_day(form: Mapping[str, Any], name: str) -> dt.date | None:
    """A date typed in the NHS date input's three boxes (``name-day`` ...), or None."""
    parts = [str(form.get(f"{name}-{part}") or "").strip() for part in ("day", "month", "year")]
    if not all(p.isascii() and p.isdigit() and len(p) <= 4 for p in parts) or len(parts[2]) != 4:
        return None
    try:
        return dt.date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        return None


def _typed(form: Mapping[str, Any], name: str) -> bool:
    return any(str(form.get(f"{name}-{part}") or "").strip() for part in ("day", "month", "year"))


@dataclass
class Filters:
    """The lists' filters: financial year (the year it starts: 2025 is 2025/26), status."""

    financial_year: int | None
    status: OfferStatus | None


def parse_filters(
    args: Mapping[str, Any], *, default_year: int, default_status: OfferStatus | None = None
) -> Filters:
    year_text = str(args.get("year", "")).strip()
    year: int | None = default_year
    if year_text == "all":
        year = None
    elif year_text:
        year = parse_id(year_text) or default_year
    status_text = str(args.get("status", "")).strip()
    status = default_status
    if status_text == "all":
        status = None
    elif status_text in OfferStatus.__members__:
        status = OfferStatus[status_text]
    return Filters(year, status)


@dataclass
class OfferForm:
    """The offer of a service: which service, to whom, and when."""

    service_id: int | None = None
    #: "all" (every provider without an offer) or "chosen" (``provider_ids``).
    to: str = "chosen"
    provider_ids: list[int] = field(default_factory=list)
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    response_date: dt.date | None = None
    problems: list[Problem] = field(default_factory=list)


def read_offer_form(form: Any, *, dates_required: bool) -> OfferForm:
    """The offer form's answers and what is wrong with them (the dates default to the
    service's on the first page, so they are only required once the service is chosen)."""
    offer = OfferForm(service_id=parse_id(form.get("service")))
    if offer.service_id is None:
        offer.problems.append(Problem("Choose the service to offer", "service"))
    offer.to = "all" if form.get("to") == "all" else "chosen"
    offer.provider_ids = [
        provider_id
        for provider_id in (parse_id(v) for v in form.getlist("provider"))
        if provider_id is not None
    ]
    if offer.to == "chosen" and not offer.provider_ids and dates_required:
        offer.problems.append(Problem("Choose at least one provider, or all of them", "provider"))
    for name in DATE_FIELDS:
        day = parse_day(form, name)
        setattr(offer, name, day)
        required = dates_required and name != "response_date"
        if day is None and (required or _typed(form, name)):
            offer.problems.append(
                Problem(f"Enter a real {DATE_LABELS[name]}, for example 1 4 2025", name)
            )
    return offer


def ticked_offers(form: Any) -> list[int]:
    """The ids of the offers ticked on a list."""
    return [i for i in (parse_id(v) for v in form.getlist("offer")) if i is not None]
