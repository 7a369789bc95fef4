"""Claim lists: filters, sorting, paging and export, as SQL the database does.

A list is a :class:`ListScope` (whose claims: one provider's, or those sent to a commissioner
by the providers under it) and a :class:`ClaimFilter` read from the page's query string
(``filters.py``: :func:`parse_filter` never raises, a value it cannot read is dropped and
reported, as is a scheme or practice the list cannot offer, :func:`offered_only`).
:func:`list_page` returns one page of :class:`ClaimRow` in a fixed number of queries - the
rows (one joined ``SELECT`` of the columns the table shows) and the count - however many
rows there are; :func:`iter_rows` walks the whole filtered list in chunks for the exports
(:func:`csv_chunks`, :func:`xlsx_file`).

A commissioner's claims are those whose ``icb_id`` or ``sub_location_id`` (kept on each
claim when it is started) is the commissioner: one indexed predicate
(:func:`commissioner_claims`), not a walk of the organisation tree in every query.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import IO, Any

from sqlalchemy import ColumnElement, and_, false, func, literal, or_, select, true, union_all

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import has_capability
from claims_portal.claims.models import Claim, ClaimStatus, parse_reference
from claims_portal.claims.services.filters import (
    SORTS,
    ClaimFilter,
    FilterOptions,
    offered_only,
    parse_filter,
)
from claims_portal.db import DbSession
from claims_portal.formatting import england, long_date, month_year
from claims_portal.organisations.models import Organisation, OrganisationKind
from claims_portal.schemes.models import Offer, OfferStatus, Scheme

PAGE_SIZE = 50
#: A list counts its rows up to this many past the page shown, then says "more than": an
#: exact total of 100,000 claims would cost a scan of them all on every page.
COUNT_AHEAD = 1000
#: Rows fetched at a time by the exports (memory stays flat whatever the list's length).
EXPORT_CHUNK = 1000


class ListNotAllowed(Exception):
    """The person may not list claims in this organisation (shown as 403)."""


@dataclass(frozen=True)
class ListScope:
    """Whose claims a list holds.

    ``side`` is ``provider`` (the organisation's own claims, drafts included) or
    ``commissioner`` (claims that reached the commissioner, from providers under it);
    ``kind`` is the organisation's kind (which of a claim's commissioners it is).
    """

    side: str
    organisation_id: int
    kind: OrganisationKind | None = None

    @property
    def is_commissioner(self) -> bool:
        return self.side == "commissioner"


def scope_for(user: User, organisation: Organisation | None) -> ListScope:
    """The list ``user`` sees acting for ``organisation``; :class:`ListNotAllowed` if none."""
    if organisation is None:
        raise ListNotAllowed
    if has_capability(user, Capability.VIEW_PROVIDER_CLAIMS, organisation):
        return ListScope("provider", organisation.id, organisation.kind)
    if has_capability(user, Capability.VIEW_COMMISSIONER_CLAIMS, organisation):
        return ListScope("commissioner", organisation.id, organisation.kind)
    raise ListNotAllowed


def commissioner_claims(organisation_id: int, kind: OrganisationKind | None) -> ColumnElement[bool]:
    """Claims sent to this commissioner: by the claim's ICB or sub-location (indexed,
    ``ix_claim_icb_submitted``, ``ix_claim_sub_location_submitted``); every claim for the
    national commissioner."""
    reached = Claim.reached_commissioner_at.is_not(None)
    if kind is OrganisationKind.ICB:
        return and_(Claim.icb_id == organisation_id, reached)
    if kind is OrganisationKind.ICB_SUB_LOCATION:
        return and_(Claim.sub_location_id == organisation_id, reached)
    if kind is OrganisationKind.NATIONAL_COMMISSIONER:
        return and_(true(), reached)
    return false()


def scoped(statement: Any, scope: ListScope) -> Any:
    if scope.is_commissioner:
        return statement.where(commissioner_claims(scope.organisation_id, scope.kind))
    return statement.where(Claim.provider_id == scope.organisation_id)


def filtered(statement: Any, scope: ListScope, chosen: ClaimFilter) -> Any:
    """``statement`` (over ``Claim``, joined to the provider) narrowed to the filter."""
    statement = scoped(statement, scope)
    if chosen.scheme_id:
        statement = statement.where(Claim.scheme_id == chosen.scheme_id)
    if chosen.provider_id:
        statement = statement.where(Claim.provider_id == chosen.provider_id)
    if chosen.status:
        statement = statement.where(Claim.status == chosen.status)
    if chosen.period_from:
        statement = statement.where(Claim.period_start >= chosen.period_from)
    if chosen.period_to:
        statement = statement.where(Claim.period_start <= chosen.period_to)
    if chosen.search:
        claim_id = parse_reference(chosen.search)
        pattern = "%" + chosen.search.replace("\\", "").replace("%", "").replace("_", "") + "%"
        text_match = or_(
            Organisation.name.ilike(pattern),
            Organisation.ods_code.ilike(pattern),
        )
        statement = statement.where(
            or_(Claim.id == claim_id, text_match) if claim_id is not None else text_match
        )
    return statement


def _order(chosen: ClaimFilter) -> list[Any]:
    column: Any = {
        "reference": Claim.id,
        "practice": Organisation.name,
        "scheme": Scheme.name,
        "period": Claim.period_start,
        "value": Claim.value,
        "status": Claim.status,
        "submitted": Claim.submitted_at,
    }[chosen.sort]
    if chosen.descending:
        # The database's own order for empty values (PostgreSQL: first when descending), so
        # that a plain index serves the default sort (ix_claim_submitted_at_id).
        first = column.desc()
        tie = Claim.id.desc()
    else:
        first = column.asc()
        tie = Claim.id.asc()
    return [first] if chosen.sort == "reference" else [first, tie]


# --- Rows ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimRow:
    """One line of a claim list (plain values: no lazy loading while rendering)."""

    id: int
    version: int
    status: ClaimStatus
    provider_id: int
    provider_name: str
    provider_ods_code: str
    scheme_id: int
    scheme_code: str
    scheme_name: str
    period_start: dt.date
    period_end: dt.date
    value: Decimal | None
    submitted_at: dt.datetime | None
    status_changed_at: dt.datetime

    @property
    def reference(self) -> str:
        return f"CLM-{self.id:06d}"

    @property
    def period_label(self) -> str:
        return period_label(self.period_start, self.period_end)

    @property
    def provider_display_name(self) -> str:
        return f"{self.provider_name} ({self.provider_ods_code})"


def row_from(values: Any) -> ClaimRow:
    """A :class:`ClaimRow` from a result row of :data:`ROW_COLUMNS`."""
    return ClaimRow(*values)


def period_label(start: dt.date, end: dt.date) -> str:
    """As ``ClaimWindow.period_label`` words it: ``October 2026`` or ``1 April 2026 to ...``."""
    if start.day == 1 and start.month == end.month and start.year == end.year:
        return month_year(start)
    return f"{long_date(start)} to {long_date(end)}"


ROW_COLUMNS = (
    Claim.id,
    Claim.version,
    Claim.status,
    Claim.provider_id,
    Organisation.name,
    Organisation.ods_code,
    Claim.scheme_id,
    Scheme.code,
    Scheme.name,
    Claim.period_start,
    Claim.period_end,
    Claim.value,
    Claim.submitted_at,
    Claim.status_changed_at,
)


def rows_select(scope: ListScope, chosen: ClaimFilter) -> Any:
    """The filtered, sorted list as one ``SELECT`` of the shown columns (no paging)."""
    return _rows_select(scope, replace(chosen, page=1))


# Built statements are immutable and reusable: building one costs more Python time than
# running it, so the lists keep the last few hundred filters' statements.
@functools.lru_cache(maxsize=512)
def _rows_select(scope: ListScope, chosen: ClaimFilter) -> Any:
    statement = (
        select(*ROW_COLUMNS)
        .join(Organisation, Organisation.id == Claim.provider_id)
        .join(Scheme, Scheme.id == Claim.scheme_id)
    )
    return filtered(statement, scope, chosen).order_by(*_order(chosen))


def count(session: DbSession, scope: ListScope, chosen: ClaimFilter, *, at_most: int) -> int:
    """How many claims are on the filter, counting no further than ``at_most``."""
    return count_at_most(session, _ids_select(scope, replace(chosen, page=1)), at_most)


def count_at_most(session: DbSession, ids: Any, at_most: int) -> int:
    """The rows of ``ids`` (a ``SELECT`` of one column), counted up to ``at_most``: the
    database stops reading there."""
    limited = ids.limit(at_most).subquery()
    return int(session.scalar(select(func.count()).select_from(limited)) or 0)


@functools.lru_cache(maxsize=512)
def _ids_select(scope: ListScope, chosen: ClaimFilter) -> Any:
    statement = select(Claim.id)
    if chosen.search:
        statement = statement.join(Organisation, Organisation.id == Claim.provider_id)
    return filtered(statement, scope, chosen)


@dataclass(frozen=True)
class ClaimPage:
    rows: list[ClaimRow]
    #: Claims on the filter, or (``more``) how many were counted before counting stopped.
    total: int
    page: int
    #: Pages, or (``more``) the pages known so far: there are more after them.
    pages: int
    filter: ClaimFilter
    #: There are more than ``total`` claims on the filter.
    more: bool = False

    @property
    def first_number(self) -> int:
        return 0 if not self.total else (self.page - 1) * PAGE_SIZE + 1

    @property
    def last_number(self) -> int:
        return self.first_number + len(self.rows) - 1 if self.rows else 0


def list_page(session: DbSession, scope: ListScope, chosen: ClaimFilter) -> ClaimPage:
    """One page of the list (two queries: the count, then the page's rows).

    Rows are counted up to :data:`COUNT_AHEAD` past the page asked for; beyond that the
    page says "more than" (``ClaimPage.more``) and its paging runs to the pages counted, with
    a next page. A page past the end shows the last page.
    """
    horizon = (chosen.page - 1) * PAGE_SIZE + COUNT_AHEAD
    counted = count(session, scope, chosen, at_most=horizon + 1)
    more = counted > horizon
    total = horizon if more else counted
    pages = max(1, -(-total // PAGE_SIZE)) + (1 if more and total % PAGE_SIZE == 0 else 0)
    page = min(chosen.page, pages)
    result = session.execute(
        rows_select(scope, chosen).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    )
    rows = [row_from(row) for row in result]
    return ClaimPage(rows, total, page, pages, replace(chosen, page=page), more)


def iter_rows(
    session: DbSession, scope: ListScope, chosen: ClaimFilter, *, chunk: int = EXPORT_CHUNK
) -> Iterator[ClaimRow]:
    """Every row of the filtered list in its order, fetched ``chunk`` rows at a time
    (keyset on the sort order would need a unique key per sort; ``OFFSET`` in chunks is
    bounded by the list's length and keeps memory flat)."""
    statement = rows_select(scope, chosen)
    offset = 0
    while True:
        batch = session.execute(statement.limit(chunk).offset(offset)).all()
        for row in batch:
            yield row_from(row)
        if len(batch) < chunk:
            return
        offset += chunk


def ids_on_filter(
    session: DbSession,
    scope: ListScope,
    chosen: ClaimFilter,
    *,
    statuses: Sequence[ClaimStatus],
    limit: int,
) -> list[tuple[int, int]]:
    """(claim id, version) of up to ``limit`` claims on the filter in ``statuses``, in the
    list's order (what "select all on this filter" means, resolved now)."""
    statement = (
        select(Claim.id, Claim.version)
        .join(Organisation, Organisation.id == Claim.provider_id)
        .join(Scheme, Scheme.id == Claim.scheme_id)
        .where(Claim.status.in_(list(statuses)))
    )
    statement = filtered(statement, scope, chosen).order_by(*_order(chosen)).limit(limit)
    return [(int(row[0]), int(row[1])) for row in session.execute(statement)]


def filter_options(session: DbSession, scope: ListScope) -> FilterOptions:
    """The schemes that have claims in the scope (and, for a practice, every scheme offered
    to it or accepted by it, claimed yet or not) and (commissioners) practices with claims.

    Each is a semi-join (``EXISTS``) probing the claim indexes: a few dozen lookups, not a
    ``DISTINCT`` over every claim in the scope; both lists in one statement."""
    schemes: list[tuple[int, str]] = []
    providers: list[tuple[int, str]] = []
    for kind, id_, name, code in session.execute(_options_select(scope)):
        (schemes if kind == 0 else providers).append((id_, f"{name} ({code})"))
    return FilterOptions(schemes=schemes, providers=providers)


@functools.lru_cache(maxsize=256)
def _options_select(scope: ListScope) -> Any:
    """(0, scheme id, name, code) rows, then (1, practice id, name, ODS code) rows, each in
    name order."""
    scheme_claims = scoped(select(Claim.id).where(Claim.scheme_id == Scheme.id), scope).exists()
    offered = select(Offer.id).where(
        Offer.scheme_id == Scheme.id,
        Offer.provider_id == scope.organisation_id,
        Offer.status.in_((OfferStatus.PENDING, OfferStatus.ACTIVE)),
    )
    shown = scheme_claims if scope.is_commissioner else or_(scheme_claims, offered.exists())
    schemes = select(literal(0).label("kind"), Scheme.id, Scheme.name, Scheme.code).where(shown)
    if not scope.is_commissioner:
        return schemes.order_by(Scheme.name, Scheme.id)
    provider_claims = scoped(select(Claim.id).where(Claim.provider_id == Organisation.id), scope)
    providers = select(
        literal(1).label("kind"), Organisation.id, Organisation.name, Organisation.ods_code
    ).where(provider_claims.exists())
    both = union_all(schemes, providers).subquery()
    return select(both).order_by(both.c.kind, both.c.name, both.c.id)


# --- Export --------------------------------------------------------------------------------

EXPORT_HEADER = (
    "Claim ID",
    "Practice",
    "ODS code",
    "Scheme",
    "Scheme code",
    "Period start",
    "Period end",
    "Status",
    "Value (£)",
    "Submitted",
    "Last change",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """Text a spreadsheet will not run as a formula (OWASP CSV injection guidance)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _moment(value: dt.datetime | None) -> str:
    return f"{england(value):%Y-%m-%d %H:%M}" if value is not None else ""


def _wall_clock(value: dt.datetime | None) -> dt.datetime | None:
    return england(value).replace(tzinfo=None) if value is not None else None


def export_values(row: ClaimRow) -> list[Any]:
    """One row of an export: text guarded, numbers and dates left as they are."""
    return [
        row.reference,
        safe_cell(row.provider_name),
        safe_cell(row.provider_ods_code),
        safe_cell(row.scheme_name),
        safe_cell(row.scheme_code),
        row.period_start,
        row.period_end,
        row.status.value,
        row.value,
        _moment(row.submitted_at),
        _moment(row.status_changed_at),
    ]


def csv_file(rows: Iterator[ClaimRow]) -> IO[bytes]:
    """The export as UTF-8 CSV with a byte order mark (so Excel reads it as UTF-8), written
    to a spooled temporary file (memory past 1 MB goes to disk); the caller streams it and
    closes it. Writing it before the response starts means a failure is an error page, not
    a truncated download."""
    spooled = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 - returned
    text = io.TextIOWrapper(spooled, encoding="utf-8", newline="", write_through=True)
    text.write("\ufeff")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    for row in rows:
        values = export_values(row)
        values[5] = row.period_start.isoformat()
        values[6] = row.period_end.isoformat()
        values[8] = "" if row.value is None else f"{row.value:.2f}"
        writer.writerow(values)
    text.flush()
    text.detach()  # leave the binary file open for the response
    spooled.seek(0)
    return spooled  # type: ignore[return-value]


def xlsx_file(rows: Iterator[ClaimRow]) -> IO[bytes]:
    """The export as an .xlsx in a temporary file (openpyxl's write-only workbook streams rows
    to disk, so memory stays flat); the caller streams the file and closes it."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Claims")
    sheet.append(list(EXPORT_HEADER))
    for row in rows:
        values = export_values(row)  # every date a date cell: moments on England's clock
        values[9:11] = [_wall_clock(row.submitted_at), _wall_clock(row.status_changed_at)]
        cells = []
        for index, value in enumerate(values):
            cell = WriteOnlyCell(sheet, value=value)
            if index in (5, 6, 9, 10):
                cell.number_format = "yyyy-mm-dd" if index < 9 else "yyyy-mm-dd hh:mm"
            elif index == 8:
                cell.number_format = "#,##0.00"
            cells.append(cell)
        sheet.append(cells)
    spooled = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the response that streams it
    workbook.save(spooled)
    spooled.seek(0)
    return spooled


def export_filename(extension: str, today: dt.date) -> str:
    return f"claims-{today.isoformat()}.{extension}"


__all__ = [
    "COUNT_AHEAD",
    "PAGE_SIZE",
    "SORTS",
    "ClaimFilter",
    "ClaimPage",
    "ClaimRow",
    "FilterOptions",
    "ListNotAllowed",
    "ListScope",
    "commissioner_claims",
    "count_at_most",
    "csv_file",
    "export_filename",
    "filter_options",
    "ids_on_filter",
    "iter_rows",
    "list_page",
    "offered_only",
    "parse_filter",
    "period_label",
    "safe_cell",
    "scope_for",
    "xlsx_file",
]
