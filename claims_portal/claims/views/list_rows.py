"""The claim list's rows, rendered in Python: 50 rows of seven cells through Jinja cost
more than the rest of the page (an attribute lookup, a filter and an escape per cell); here
each row is one f-string. Everything shown is escaped (``markupsafe.escape``), as Jinja
would; ``tests/claims/test_lists.py`` checks the markup and the escaping.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Iterable

from flask.blueprints import BlueprintSetupState
from markupsafe import Markup, escape

from claims_portal.claims import bp
from claims_portal.claims.models import ClaimStatus
from claims_portal.claims.services.listing import ClaimRow, period_label
from claims_portal.formatting import england, money

#: The NHS tag colour of each status (the claim pages' status tags use it too); every status
#: has one (``tests/claims/test_lists.py``).
STATUS_COLOURS: dict[str, str] = {
    "DRAFT": "grey",
    "AWAITING_PROVIDER_APPROVAL": "blue",
    "RETURNED_BY_PROVIDER": "orange",
    "AWAITING_COMMISSIONER_REVIEW": "blue",
    "AWAITING_PAYMENT_APPROVAL": "blue",
    "AWAITING_FINANCE_APPROVAL": "purple",
    "APPROVED_FOR_PAYMENT": "green",
    "SENT_FOR_PAYMENT": "aqua-green",
    "PAYMENT_ON_HOLD": "yellow",
    "PAID": "green",
    "DECLINED": "red",
    "WITHDRAWN": "grey",
}

_CELL = '<td class="nhsuk-table__cell">'
_HEADING = '<span class="nhsuk-table-responsive__heading" aria-hidden="true">{} </span>'
#: Each column's opening, worked out once (not once a row).
_CLAIM_ID = f'<td class="nhsuk-table__cell app-claim-reference">{_HEADING.format("Claim ID")}'
_PRACTICE = f"{_CELL}{_HEADING.format('Practice')}"
_SCHEME = f"{_CELL}{_HEADING.format('Scheme')}"
_PERIOD = f"{_CELL}{_HEADING.format('Period')}"
_VALUE = f'<td class="nhsuk-table__cell nhsuk-table__cell--numeric">{_HEADING.format("Value")}'
_SUBMITTED = f"{_CELL}{_HEADING.format('Submitted')}"


@functools.cache
def _status_cell(status: ClaimStatus) -> str:
    return (
        f'{_CELL}{_HEADING.format("Status")}<strong class="nhsuk-tag '
        f'nhsuk-tag--{STATUS_COLOURS[status.name]}">{escape(status.value)}</strong></td>'
    )


@functools.lru_cache(maxsize=4096)
def _escaped(text: str) -> str:
    """``text`` escaped: practice and scheme names repeat from row to row."""
    return str(escape(text))


@functools.lru_cache(maxsize=4096)
def _period(start: dt.date, end: dt.date) -> str:
    return str(escape(period_label(start, end)))


def _submitted(row: ClaimRow) -> str:
    if row.submitted_at is None:
        return "Not yet"
    local = england(row.submitted_at)
    return f"{local.day} {local:%b %Y}"


def render_rows(
    rows: Iterable[ClaimRow],
    *,
    claims_base: str,
    commissioner: bool,
    bulk: bool,
    actionable: Collection[ClaimStatus],
) -> Markup:
    """The ``<tr>`` of each row, as the list's table shows them."""
    out = []
    base = escape(claims_base)
    for row in rows:
        cells = ['<tr class="nhsuk-table__row">']
        if bulk:
            box = ""
            if row.status in actionable:
                box = (
                    '<div class="nhsuk-checkboxes nhsuk-checkboxes--small">'
                    '<div class="nhsuk-checkboxes__item"><input class="nhsuk-checkboxes__input" '
                    f'id="select-{row.id}" name="claim" type="checkbox" '
                    f'value="{row.id}:{row.version}"><label class="nhsuk-label '
                    f'nhsuk-checkboxes__label" for="select-{row.id}"><span '
                    f'class="nhsuk-u-visually-hidden">Select {row.reference}</span></label>'
                    "</div></div>"
                )
            cells.append(f"{_CELL}{box}</td>")
        cells.append(f'{_CLAIM_ID}<a href="{base}/{row.id}">{row.reference}</a></td>')
        if commissioner:
            cells.append(
                f"{_PRACTICE}{_escaped(row.provider_name)} ({_escaped(row.provider_ods_code)})</td>"
            )
        cells.append(f"{_SCHEME}{_escaped(row.scheme_name)}</td>")
        cells.append(f"{_PERIOD}{_period(row.period_start, row.period_end)}</td>")
        cells.append(_status_cell(row.status))
        value = escape(money(row.value)) if row.value is not None else "\u2013"
        cells.append(f"{_VALUE}{value}</td>")
        cells.append(f"{_SUBMITTED}{_submitted(row)}</td>")
        cells.append("</tr>")
        out.append("".join(cells))
    return Markup("\n".join(out))  # noqa: S704 - every value above is escaped


@bp.record_once
def _register(state: BlueprintSetupState) -> None:
    """The colours are the claim templates' ``claim_status_colours`` too."""
    state.app.jinja_env.globals["claim_status_colours"] = STATUS_COLOURS


def render_options(choices: Iterable[tuple[object, str]], selected: object) -> Markup:
    """``<option>`` elements for a filter's ``<select>`` (a commissioner's practice filter
    holds every practice of the ICB: rendered here for the same reason as the rows, and
    escaped once per set of choices, the filter options being kept a while per scope)."""
    html, starts = _options_html(tuple(choices))
    for at in reversed(starts.get(selected, ())):
        html = f"{html[:at]} selected{html[at:]}"
    return Markup(html)  # noqa: S704 - every value is escaped


@functools.lru_cache(maxsize=512)
def _options_html(choices: tuple[tuple[object, str], ...]) -> tuple[str, dict[object, list[int]]]:
    """The options unselected, and where " selected" goes in them for each value."""
    parts: list[str] = []
    starts: dict[object, list[int]] = {}
    length = 0
    for value, label in choices:
        opening = f'<option value="{escape(value)}"'
        starts.setdefault(value, []).append(length + len(opening))
        part = f"{opening}>{escape(label)}</option>"
        parts.append(part)
        length += len(part)
    return "".join(parts), starts
