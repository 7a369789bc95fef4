"""Claim windows: generated from the claim frequency, each editable."""

from __future__ import annotations

import datetime as dt
from typing import Any

from claims_portal.access.models import User
from claims_portal.db import DbSession
from claims_portal.formatting import long_date
from claims_portal.schemes.models import (
    ClaimWindow,
    Scheme,
)
from claims_portal.schemes.services._common import (
    SchemeError,
    _audit,
    _changes,
    _ensure_draft,
    _ensure_not_closed,
    _snapshot,
    ensure_can_configure,
)
from claims_portal.schemes.services.schedule import claim_periods, default_window


def _window_snapshot(window: ClaimWindow) -> dict[str, Any]:
    return {
        "period_start": window.period_start,
        "period_end": window.period_end,
        "opens_on": window.opens_on,
        "closes_on": window.closes_on,
    }


def generate_windows(session: DbSession, scheme: Scheme, *, actor: User) -> tuple[int, int]:
    """Create a window for every period of the scheme's frequency that has none.

    On a draft, windows whose periods no longer match the frequency and dates are removed;
    matching windows keep their (possibly edited) dates. On a published scheme nothing is
    removed. Returns (added, removed).
    """
    ensure_can_configure(actor, scheme)
    _ensure_not_closed(scheme)
    periods = claim_periods(scheme.claim_frequency, scheme.start_date, scheme.end_date)
    wanted = {(p.start, p.end) for p in periods}
    removed = 0
    if scheme.is_draft:
        for window in list(scheme.windows):
            if (window.period_start, window.period_end) not in wanted:
                _audit(
                    session,
                    "claim_window.removed",
                    window,
                    actor=actor,
                    scheme=scheme,
                    before=_window_snapshot(window),
                )
                session.delete(window)
                removed += 1
        session.flush()
        session.refresh(scheme, ["windows"])
    taken = [(w.period_start, w.period_end) for w in scheme.windows]
    added = 0
    for period in periods:
        if any(start <= period.end and period.start <= end for start, end in taken):
            continue
        opens, closes = default_window(period.end, scheme.window_days)
        window = ClaimWindow(
            scheme=scheme,
            period_start=period.start,
            period_end=period.end,
            opens_on=opens,
            closes_on=closes,
        )
        session.add(window)
        session.flush()
        _audit(
            session,
            "claim_window.added",
            window,
            actor=actor,
            scheme=scheme,
            after={"scheme": scheme.code, **_window_snapshot(window)},
        )
        taken.append((period.start, period.end))
        added += 1
    session.refresh(scheme, ["windows"])
    return added, removed


def _check_window(
    scheme: Scheme,
    window: ClaimWindow | None,
    period_start: object,
    period_end: object,
    opens_on: object,
    closes_on: object,
) -> None:
    problems = []
    dates = (period_start, period_end, opens_on, closes_on)
    if not all(isinstance(d, dt.date) for d in dates):
        raise SchemeError("Enter the period's start and end dates and the window's dates")
    assert isinstance(period_start, dt.date)
    assert isinstance(period_end, dt.date)
    assert isinstance(opens_on, dt.date)
    assert isinstance(closes_on, dt.date)
    if period_end < period_start:
        problems.append("The period must end on or after the day it starts")
    if closes_on < opens_on:
        problems.append("The window must close on or after the day it opens")
    if period_start < scheme.start_date or period_end > scheme.end_date:
        problems.append(
            f"The period must lie inside the scheme's dates "
            f"({long_date(scheme.start_date)} to {long_date(scheme.end_date)})"
        )
    for other in scheme.windows:
        if (
            other is not window
            and other.period_start <= period_end
            and period_start <= other.period_end
        ):
            problems.append(f"The period overlaps the claim period {other.period_label}")
    if problems:
        raise SchemeError(problems)


def add_window(
    session: DbSession,
    scheme: Scheme,
    *,
    actor: User,
    period_start: dt.date,
    period_end: dt.date,
    opens_on: dt.date | None = None,
    closes_on: dt.date | None = None,
) -> ClaimWindow:
    """Add one claim period and its window (dates default from the scheme's window length)."""
    ensure_can_configure(actor, scheme)
    _ensure_not_closed(scheme)
    if isinstance(period_end, dt.date):
        default_opens, default_closes = default_window(period_end, scheme.window_days)
        opens_on = opens_on or default_opens
        closes_on = closes_on or default_closes
    _check_window(scheme, None, period_start, period_end, opens_on, closes_on)
    window = ClaimWindow(
        scheme=scheme,
        period_start=period_start,
        period_end=period_end,
        opens_on=opens_on,
        closes_on=closes_on,
    )
    session.add(window)
    session.flush()
    _audit(
        session,
        "claim_window.added",
        window,
        actor=actor,
        scheme=scheme,
        after={"scheme": scheme.code, **_window_snapshot(window)},
    )
    return window


def update_window(
    session: DbSession,
    window: ClaimWindow,
    *,
    actor: User,
    opens_on: dt.date,
    closes_on: dt.date,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
) -> bool:
    """Move a window's dates; a published scheme's periods themselves stay fixed."""
    scheme = window.scheme
    ensure_can_configure(actor, scheme)
    _ensure_not_closed(scheme)
    period_start = period_start or window.period_start
    period_end = period_end or window.period_end
    if (period_start, period_end) != (window.period_start, window.period_end):
        _ensure_draft(scheme, "its claim periods can no longer change (move the window dates)")
    _check_window(scheme, window, period_start, period_end, opens_on, closes_on)
    new = {
        "period_start": period_start,
        "period_end": period_end,
        "opens_on": opens_on,
        "closes_on": closes_on,
    }
    changed = _changes(window, new, new)
    if not changed:
        return False
    before = _snapshot(window, changed)
    for name in changed:
        setattr(window, name, new[name])
    session.flush()
    _audit(
        session,
        "claim_window.updated",
        window,
        actor=actor,
        scheme=scheme,
        before=before,
        after=_snapshot(window, changed),
    )
    return True


def remove_window(session: DbSession, window: ClaimWindow, *, actor: User) -> None:
    scheme = window.scheme
    ensure_can_configure(actor, scheme)
    _ensure_draft(scheme, "its claim windows can no longer be removed")
    _audit(
        session,
        "claim_window.removed",
        window,
        actor=actor,
        scheme=scheme,
        before=_window_snapshot(window),
    )
    session.delete(window)
    session.flush()
    session.refresh(scheme, ["windows"])
