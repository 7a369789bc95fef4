"""Bulk claims, step 2: reading an uploaded template (``bulk_upload.py`` has the rest).

The file is checked by its content (``inspect_upload``: a real .xlsx, no macros, at most
5 MB), read with openpyxl in read-only mode, and every row and column checked, collecting
every problem as "Row 7, column C (Health checks completed): enter a whole number, 0 or more".
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import IO, Any

from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import has_capability
from claims_portal.claims.evidence import EvidenceRejected, EvidenceType, inspect_upload
from claims_portal.claims.models import Claim, ClaimStatus
from claims_portal.claims.services._common import ClaimInvalid, Problem
from claims_portal.claims.services.bulk_upload import (
    ABOUT_SHEET,
    CLAIMS_SHEET,
    FILE_FIELD,
    FIRST_ROW,
    HEADER_ROW,
    MAX_NOTES,
    MAX_ROWS,
    TEMPLATE_MARK,
    TEMPLATE_VERSION,
    BulkOption,
    BulkRow,
    ParsedUpload,
    column_headings,
    find_option,
)
from claims_portal.claims.services.entries import MAX_UNITS, free_text_problem
from claims_portal.db import DbSession
from claims_portal.inputs import MAX_INT, parse_whole
from claims_portal.organisations.models import Organisation
from claims_portal.schemes.models import Component, Offer, OfferStatus

Cells = list[Any]
#: Bulk claims take the template only (evidence files take other types, with other words).
ONLY_XLSX = (
    "The selected file must be an Excel workbook (.xlsx): upload the template downloaded "
    "from this page"
)


def _problem(message: str) -> ClaimInvalid:
    return ClaimInvalid(Problem(message, FILE_FIELD))


def _whole_number(value: Any) -> int | None:
    """A cell as a whole number 0 or more, or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return value if 0 <= value <= MAX_INT else None  # what the database column holds
    if isinstance(value, str):
        return parse_whole(value)
    return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_upload(
    session: DbSession,
    actor: User,
    organisation: Organisation,
    stream: IO[bytes],
    filename: str,
    *,
    today: dt.date,
) -> ParsedUpload:
    """Check an uploaded template completely; raise :class:`ClaimInvalid` listing every
    problem (by row and column), else return the rows to claim for."""
    if not filename.lower().endswith(".xlsx"):
        raise _problem(ONLY_XLSX)
    try:
        inspected = inspect_upload(stream, filename)
    except EvidenceRejected as error:
        raise _problem(error.reason) from None
    if inspected.type is not EvidenceType.XLSX:
        raise _problem(ONLY_XLSX)
    option, rows = _read_workbook(session, actor, organisation, inspected.data, today)
    headings = column_headings(option.scheme.components)
    header = [str(v).strip() if v is not None else "" for v in (rows[0] if rows else ())]
    if header[: len(headings)] != headings:
        raise _problem(
            f"Row {HEADER_ROW} (the headings) does not match the template: download the "
            "template again and copy your figures into it"
        )
    if len(rows) > MAX_ROWS:
        raise _problem(f"The spreadsheet has more than {MAX_ROWS:,} rows")
    filled = _filled_rows(rows[1:], len(headings))
    checker = _RowChecker(session, actor, option, headings, filled)
    parsed = [row for row in (checker.check(number, cells) for number, cells in filled) if row]
    if checker.problems:
        raise ClaimInvalid(checker.problems)
    if not parsed:
        raise _problem("The spreadsheet has no units entered: enter at least one provider's")
    return ParsedUpload(option, inspected.filename, inspected.sha256, parsed)


def _read_workbook(
    session: DbSession, actor: User, organisation: Organisation, data: bytes, today: dt.date
) -> tuple[BulkOption, list[tuple[Any, ...]]]:
    """The template's option and the rows of its claims sheet from the headings on."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise _problem("The file cannot be read as a spreadsheet") from None
    try:
        option = _template_option(session, actor, organisation, workbook, today)
        sheet = workbook[CLAIMS_SHEET] if CLAIMS_SHEET in workbook.sheetnames else None
        if sheet is None:
            raise _problem(f"The spreadsheet has no sheet called {CLAIMS_SHEET}")
        rows = list(
            sheet.iter_rows(min_row=HEADER_ROW, max_row=FIRST_ROW + MAX_ROWS, values_only=True)
        )
    finally:
        workbook.close()
    return option, rows


def _filled_rows(rows: Sequence[tuple[Any, ...]], width: int) -> list[tuple[int, Cells]]:
    """(row number, cells) of each row with any units entered; the rest make no claim."""
    filled = []
    for offset, values in enumerate(rows):
        cells = list(values) + [None] * (width - len(values))
        if not all(_blank(v) for v in cells[2 : width - 1]):
            filled.append((FIRST_ROW + offset, cells))
    return filled


class _RowChecker:
    """Checks filled-in rows one by one, collecting every problem in :attr:`problems`."""

    def __init__(
        self,
        session: DbSession,
        actor: User,
        option: BulkOption,
        headings: list[str],
        filled: list[tuple[int, Cells]],
    ) -> None:
        from openpyxl.utils import get_column_letter

        self.actor, self.option = actor, option
        self.components: list[Component] = list(option.scheme.components)
        self.headings = headings
        self.letters = [get_column_letter(index + 1) for index in range(len(headings))]
        self.notes_index = len(headings) - 1
        self.problems: list[Problem] = []
        self.first_row_of: dict[str, int] = {}
        codes = {str(c[0]).strip().upper() for _, c in filled if not _blank(c[0])}
        self.organisations = {
            o.ods_code: o
            for o in session.scalars(select(Organisation).where(Organisation.ods_code.in_(codes)))
        }
        self.accepted = set(
            session.scalars(
                select(Offer.provider_id).where(
                    Offer.scheme_id == option.scheme.id, Offer.status == OfferStatus.ACTIVE
                )
            )
        )
        self.existing = {
            claim.provider_id: claim
            for claim in session.scalars(
                select(Claim).where(
                    Claim.scheme_id == option.scheme.id,
                    Claim.period_start == option.window.period_start,
                    Claim.status != ClaimStatus.WITHDRAWN,
                    Claim.scope.is_not(None),
                )
            )
        }

    def _problem(self, row_number: int, index: int, message: str) -> None:
        where = f"Row {row_number}, column {self.letters[index]} ({self.headings[index]})"
        self.problems.append(Problem(f"{where}: {message}"))

    def check(self, row_number: int, cells: Cells) -> BulkRow | None:
        """The row to claim for, or None (its problems recorded)."""
        before = len(self.problems)
        provider = self._provider(row_number, cells[0])
        units = {
            component.id: self._units(row_number, index, component, cells[index])
            for index, component in enumerate(self.components, start=2)
        }
        notes = self._notes(row_number, cells[self.notes_index])
        if len(self.problems) > before or provider is None:
            return None
        return BulkRow(row_number, provider, units, notes)

    def _provider(self, row_number: int, value: Any) -> Organisation | None:
        code = "" if _blank(value) else str(value).strip().upper()
        provider = self.organisations.get(code)
        message = self._provider_problem(code, provider)
        if code:
            self.first_row_of.setdefault(code, row_number)
        if message:
            self._problem(row_number, 0, message)
        return provider

    def _provider_problem(self, code: str, provider: Organisation | None) -> str | None:
        scheme = self.option.scheme
        if not code:
            return "enter the provider's ODS code"
        if code in self.first_row_of:
            return f"{code} is already on row {self.first_row_of[code]}"
        if provider is None:
            return f"no provider has the ODS code {code}"
        if not has_capability(self.actor, Capability.APPROVE_CLAIM_TIER_1, provider):
            return f"{provider.name} is not a provider of your ICB"
        if provider.id not in self.accepted:
            return f"{provider.name} has not accepted {scheme.code}"
        if provider.id in self.existing:
            claim = self.existing[provider.id]
            return (
                f"{provider.name} already has a claim for {self.option.window.period_label}: "
                f"{claim.reference} ({claim.status.value.lower()})"
            )
        return None

    def _units(self, row_number: int, index: int, component: Component, value: Any) -> int | None:
        if _blank(value):
            return None
        number = _whole_number(value)
        if number is None:
            self._problem(row_number, index, "enter a whole number, 0 or more")
        elif number > MAX_UNITS:
            self._problem(row_number, index, f"enter {MAX_UNITS:,} or fewer")
        elif component.max_units_per_claim is not None and (number > component.max_units_per_claim):
            self._problem(
                row_number,
                index,
                f"enter {component.max_units_per_claim:,} or fewer (the most one claim can have)",
            )
        return number

    def _notes(self, row_number: int, value: Any) -> str | None:
        notes = None if _blank(value) else str(value).strip()
        if notes is not None:
            text_problem = free_text_problem(notes, what="The notes", limit=MAX_NOTES)
            if text_problem:
                self._problem(row_number, self.notes_index, text_problem)
        return notes


def _template_option(
    session: DbSession, actor: User, organisation: Organisation, workbook: Any, today: dt.date
) -> BulkOption:
    wrong = _problem(
        "The file is not a bulk claims template from this portal: download the template and "
        "enter your figures in it"
    )
    if ABOUT_SHEET not in workbook.sheetnames:
        raise wrong
    about = {
        str(key): value
        for key, value, *_ in workbook[ABOUT_SHEET].iter_rows(max_row=20, values_only=True)
        if key is not None
    }
    if about.get("mark") != TEMPLATE_MARK:
        raise wrong
    if str(about.get("version")) != TEMPLATE_VERSION:
        raise _problem("The template is from an older version of the portal: download it again")
    window_id = _whole_number(about.get("window_id"))
    option = find_option(session, actor, organisation, today, window_id or 0)
    if option is None or str(option.scheme.id) != str(about.get("scheme_id")):
        raise _problem(
            "The template's claim period is not open for bulk claims now: download the "
            "template of an open period"
        )
    components = ",".join(str(c.id) for c in option.scheme.components)
    if str(about.get("components")) != components:
        raise _problem(
            f"The components of {option.scheme.code} changed since the template was made: "
            "download the template again"
        )
    return option
