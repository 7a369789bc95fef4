"""Bulk claims: a tier 1 commissioner claims for many providers with one spreadsheet.

1. :func:`template_workbook` builds the .xlsx for a scheme's open window: one row per
   provider with an Active offer that the commissioner reaches, one column per component,
   and a very hidden sheet naming the scheme, window, components and template version (so a
   wrong or stale template is recognised).
2. :func:`read_upload` checks the file by its content (``inspect_upload``: a real .xlsx,
   no macros, at most 5 MB), reads it with openpyxl in read-only mode and checks every row
   and column, collecting every problem as "Row 7, column C (Health checks completed):
   enter a whole number, 0 or more".
3. :func:`create_bulk_claims` makes one claim per filled-in row only when there is no
   problem at all (flush only; the view commits once): priced by the calculation core like
   any submission, created and submitted by the commissioner on the provider's behalf, and
   left *Awaiting commissioner review*. Separation of duties then does the rest: the person
   who uploaded created the claims, so another tier 1 approver must review them
   (the second review), then tier 2 approves them for payment.

Schemes taken in bulk: published, not participation-only, not ad hoc, and claimed as a
whole (multi-service, or one component). Supplementary questions and evidence are not asked
for: the commissioner is the source of the figures.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import ensure_capability, has_capability
from claims_portal.audit.services import record_event
from claims_portal.claims.evidence import EvidenceRejected, EvidenceType, inspect_upload
from claims_portal.claims.models import (
    WHOLE_SCHEME_SCOPE,
    BulkUpload,
    BulkUploadClaim,
    Claim,
    ClaimAction,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
)
from claims_portal.claims.services._common import ClaimInvalid, Problem, holders
from claims_portal.claims.services.entries import MAX_UNITS, free_text_problem
from claims_portal.claims.services.pricing import store_prices, submitted_details, try_price_claim
from claims_portal.db import DbSession, utcnow
from claims_portal.inputs import MAX_INT, parse_whole
from claims_portal.mail.kinds import EmailKind
from claims_portal.mail.services import enqueue
from claims_portal.organisations.models import Organisation
from claims_portal.schemes.models import (
    ClaimFrequency,
    ClaimWindow,
    Component,
    Offer,
    OfferStatus,
    Scheme,
    SchemeStatus,
)
from claims_portal.schemes.services import commissioner_scope
from claims_portal.schemes.services.schedule import long_date

TEMPLATE_MARK = "claims-portal bulk claims template"
TEMPLATE_VERSION = "1"
ABOUT_SHEET = "About"
CLAIMS_SHEET = "Claims"
HEADER_ROW = 5
FIRST_ROW = HEADER_ROW + 1
MAX_ROWS = 5000
MAX_NOTES = 500
FILE_FIELD = "bulk-file"


# --- Which schemes and windows ---------------------------------------------------------------


def takes_bulk_claims(scheme: Scheme) -> bool:
    return (
        scheme.status is SchemeStatus.PUBLISHED
        and not scheme.participation_only
        and scheme.claim_frequency is not ClaimFrequency.AD_HOC
        and (scheme.multi_service_claims or len(scheme.components) == 1)
        and bool(scheme.components)
    )


@dataclass(frozen=True)
class BulkOption:
    scheme: Scheme
    window: ClaimWindow


def bulk_options(
    session: DbSession, actor: User, organisation: Organisation, today: dt.date
) -> list[BulkOption]:
    """Open windows of the schemes of ``organisation``'s ICB that take bulk claims."""
    ensure_capability(actor, Capability.APPROVE_CLAIM_TIER_1, organisation)
    scope = commissioner_scope(session, organisation)
    schemes = session.scalars(
        select(Scheme)
        .where(Scheme.commissioner_id.in_(scope), Scheme.status == SchemeStatus.PUBLISHED)
        .order_by(Scheme.name, Scheme.id)
    ).all()
    return [
        BulkOption(scheme, window)
        for scheme in schemes
        if takes_bulk_claims(scheme)
        for window in scheme.windows
        if window.is_open_on(today)
    ]


def find_option(
    session: DbSession,
    actor: User,
    organisation: Organisation,
    today: dt.date,
    window_id: int,
) -> BulkOption | None:
    return next(
        (o for o in bulk_options(session, actor, organisation, today) if o.window.id == window_id),
        None,
    )


def _providers(session: DbSession, actor: User, scheme: Scheme) -> list[Organisation]:
    """Providers with an Active offer of ``scheme`` that ``actor`` reviews, by name."""
    providers = session.scalars(
        select(Organisation)
        .join(Offer, Offer.provider_id == Organisation.id)
        .where(Offer.scheme_id == scheme.id, Offer.status == OfferStatus.ACTIVE)
        .order_by(Organisation.name, Organisation.id)
    ).all()
    return [p for p in providers if has_capability(actor, Capability.APPROVE_CLAIM_TIER_1, p)]


# --- The template --------------------------------------------------------------------------


def _heading(component: Component) -> str:
    return f"{component.name} ({component.code}): {component.unit_label}"


def template_workbook(session: DbSession, actor: User, option: BulkOption) -> bytes:
    """The .xlsx template for ``option`` (see the module doc)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    scheme, window = option.scheme, option.window
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = CLAIMS_SHEET
    sheet["A1"] = f"Bulk claims: {scheme.name} ({scheme.code}), {window.period_label}"
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = (
        "Enter the units each provider achieved, as whole numbers. Leave a provider's units "
        "empty to make no claim for it. Do not change the headings, add columns or put "
        "patient details anywhere."
    )
    sheet["A3"] = (
        f"Upload by {long_date(window.closes_on)}. The claims then need a second "
        "commissioner review (another tier 1 approver) and tier 2 approval."
    )
    headings = ["ODS code", "Provider name", *map(_heading, scheme.components), "Notes"]
    for column, text in enumerate(headings, start=1):
        cell = sheet.cell(row=HEADER_ROW, column=column, value=text)
        cell.font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(column)].width = 14 if column == 1 else 32
    for row, provider in enumerate(_providers(session, actor, scheme), start=FIRST_ROW):
        sheet.cell(row=row, column=1, value=provider.ods_code)
        sheet.cell(row=row, column=2, value=provider.name)
    sheet.freeze_panes = sheet.cell(row=FIRST_ROW, column=3)

    about = workbook.create_sheet(ABOUT_SHEET)
    for row, (key, value) in enumerate(
        [
            ("mark", TEMPLATE_MARK),
            ("version", TEMPLATE_VERSION),
            ("scheme_id", scheme.id),
            ("scheme_code", scheme.code),
            ("window_id", window.id),
            ("period_start", window.period_start.isoformat()),
            ("components", ",".join(str(c.id) for c in scheme.components)),
        ],
        start=1,
    ):
        about.cell(row=row, column=1, value=key)
        about.cell(row=row, column=2, value=value)
    about.sheet_state = "veryHidden"
    about.protection.sheet = True
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_filename(option: BulkOption) -> str:
    return f"bulk-claims-{option.scheme.code.lower()}-{option.window.period_start:%Y-%m}.xlsx"


# --- Reading an upload ---------------------------------------------------------------------


@dataclass(frozen=True)
class BulkRow:
    row_number: int
    provider: Organisation
    units: dict[int, int | None]
    notes: str | None


@dataclass
class ParsedUpload:
    option: BulkOption
    filename: str
    sha256: str
    rows: list[BulkRow] = field(default_factory=list)


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
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    try:
        inspected = inspect_upload(stream, filename)
    except EvidenceRejected as error:
        raise _problem(error.reason) from None
    if inspected.type is not EvidenceType.XLSX:
        raise _problem("The file must be the .xlsx template downloaded from this page")
    try:
        workbook = load_workbook(io.BytesIO(inspected.data), read_only=True, data_only=True)
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
    components = option.scheme.components
    expected = ["ODS code", "Provider name", *map(_heading, components), "Notes"]
    header = [str(v).strip() if v is not None else "" for v in (rows[0] if rows else ())]
    if header[: len(expected)] != expected:
        raise _problem(
            f"Row {HEADER_ROW} (the headings) does not match the template: download the "
            "template again and copy your figures into it"
        )
    if len(rows) > MAX_ROWS:
        raise _problem(f"The spreadsheet has more than {MAX_ROWS:,} rows")
    letters = {index: get_column_letter(index + 1) for index in range(len(expected))}
    names = dict(enumerate(expected))
    notes_index = len(expected) - 1
    problems: list[Problem] = []

    def problem(row_number: int, index: int, message: str) -> None:
        problems.append(
            Problem(f"Row {row_number}, column {letters[index]} ({names[index]}): {message}")
        )

    filled = []
    for offset, values in enumerate(rows[1:]):
        row_number = FIRST_ROW + offset
        cells = list(values) + [None] * (len(expected) - len(values))
        unit_cells = cells[2:notes_index]
        if all(_blank(v) for v in unit_cells):
            continue  # no achievement entered: no claim for this row
        filled.append((row_number, cells))

    codes = {str(c[0]).strip().upper() for _, c in filled if not _blank(c[0])}
    organisations = {
        o.ods_code: o
        for o in session.scalars(select(Organisation).where(Organisation.ods_code.in_(codes)))
    }
    accepted = set(
        session.scalars(
            select(Offer.provider_id).where(
                Offer.scheme_id == option.scheme.id, Offer.status == OfferStatus.ACTIVE
            )
        )
    )
    existing = {
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
    first_row_of: dict[str, int] = {}
    parsed: list[BulkRow] = []
    for row_number, cells in filled:
        code = "" if _blank(cells[0]) else str(cells[0]).strip().upper()
        provider = organisations.get(code)
        row_ok = True
        if not code:
            problem(row_number, 0, "enter the provider's ODS code")
            row_ok = False
        elif code in first_row_of:
            problem(row_number, 0, f"{code} is already on row {first_row_of[code]}")
            row_ok = False
        elif provider is None:
            problem(row_number, 0, f"no provider has the ODS code {code}")
            row_ok = False
        elif not has_capability(actor, Capability.APPROVE_CLAIM_TIER_1, provider):
            problem(row_number, 0, f"{provider.name} is not a provider of your ICB")
            row_ok = False
        elif provider.id not in accepted:
            problem(row_number, 0, f"{provider.name} has not accepted {option.scheme.code}")
            row_ok = False
        elif provider.id in existing:
            claim = existing[provider.id]
            problem(
                row_number,
                0,
                f"{provider.name} already has a claim for {option.window.period_label}: "
                f"{claim.reference} ({claim.status.value.lower()})",
            )
            row_ok = False
        if code:
            first_row_of.setdefault(code, row_number)
        units: dict[int, int | None] = {}
        for index, component in enumerate(components, start=2):
            value = cells[index]
            if _blank(value):
                units[component.id] = None
                continue
            number = _whole_number(value)
            if number is None:
                problem(row_number, index, "enter a whole number, 0 or more")
                row_ok = False
            elif number > MAX_UNITS:
                problem(row_number, index, f"enter {MAX_UNITS:,} or fewer")
                row_ok = False
            elif component.max_units_per_claim is not None and (
                number > component.max_units_per_claim
            ):
                problem(
                    row_number,
                    index,
                    f"enter {component.max_units_per_claim:,} or fewer (the most one claim "
                    "can have)",
                )
                row_ok = False
            units[component.id] = number
        notes = None if _blank(cells[notes_index]) else str(cells[notes_index]).strip()
        if notes is not None:
            text_problem = free_text_problem(notes, what="The notes", limit=MAX_NOTES)
            if text_problem:
                problem(row_number, notes_index, text_problem)
                row_ok = False
        if row_ok and provider is not None:
            parsed.append(BulkRow(row_number, provider, units, notes))
    if problems:
        raise ClaimInvalid(problems)
    if not parsed:
        raise _problem("The spreadsheet has no units entered: enter at least one provider's")
    return ParsedUpload(option, inspected.filename, inspected.sha256, parsed)


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


# --- Making the claims ---------------------------------------------------------------------


def create_bulk_claims(
    session: DbSession, actor: User, parsed: ParsedUpload, *, base_url: str = ""
) -> BulkUpload:
    """One claim per row, all or none (flush only; raises :class:`ClaimInvalid` if a
    claim cannot be made, e.g. someone started one for the provider meanwhile)."""
    scheme, window = parsed.option.scheme, parsed.option.window
    session.execute(
        select(Offer.id)
        .where(
            Offer.scheme_id == scheme.id,
            Offer.provider_id.in_([row.provider.id for row in parsed.rows]),
            Offer.status == OfferStatus.ACTIVE,
        )
        .order_by(Offer.id)
        .with_for_update()
    ).all()
    upload = BulkUpload(
        scheme_id=scheme.id,
        window_id=window.id,
        uploaded_by_id=actor.id,
        filename=parsed.filename,
        sha256=parsed.sha256,
        claim_count=len(parsed.rows),
        uploaded_at=utcnow(),
    )
    session.add(upload)
    session.flush()
    claims = [_create_one(session, actor, parsed, upload, row) for row in parsed.rows]
    record_event(
        session,
        action="claim.bulk_upload",
        object_type="claim_bulk_upload",
        object_id=upload.id,
        actor=actor,
        organisation=scheme.commissioner,
        after={
            "scheme": scheme.code,
            "period_start": window.period_start,
            "filename": upload.filename,
            "sha256": upload.sha256,
            "claims": [c.id for c in claims],
            "total": sum((c.value or 0) for c in claims),
        },
    )
    _tell_reviewers(session, actor, parsed, claims, base_url)
    return upload


def _create_one(
    session: DbSession, actor: User, parsed: ParsedUpload, upload: BulkUpload, row: BulkRow
) -> Claim:
    scheme, window = parsed.option.scheme, parsed.option.window
    now = utcnow()
    claim = Claim(
        provider_id=row.provider.id,
        scheme_id=scheme.id,
        window_id=window.id,
        period_start=window.period_start,
        period_end=window.period_end,
        scope=WHOLE_SCHEME_SCOPE,
        status=ClaimStatus.AWAITING_COMMISSIONER_REVIEW,
        version=2,
        round=1,
        created_by_id=actor.id,
        submitted_at=now,
        submitted_by_id=actor.id,
        reached_commissioner_at=now,
        status_changed_at=now,
        updated_at=now,
        updated_by_id=actor.id,
    )
    claim.lines = [
        ClaimLine(component_id=c.id, units=row.units.get(c.id)) for c in scheme.components
    ]
    try:
        with session.begin_nested():
            session.add(claim)
            session.flush()
    except IntegrityError:
        raise ClaimInvalid(
            Problem(
                f"Row {row.row_number}: {row.provider.name} has just started a claim for "
                f"{window.period_label}. Nothing was created: upload the file again to see it.",
                FILE_FIELD,
            )
        ) from None
    priced, problems = try_price_claim(session, claim)
    if priced is None:
        raise ClaimInvalid(
            [Problem(f"Row {row.row_number}: {p.message}", FILE_FIELD) for p in problems]
        )
    store_prices(claim, priced)
    details = submitted_details(claim, priced)
    details["bulk_upload"] = {"id": upload.id, "row": row.row_number, "notes": row.notes}
    session.add_all(
        [
            ClaimEvent(
                claim_id=claim.id,
                round=1,
                action=ClaimAction.START,
                from_status=None,
                to_status=ClaimStatus.DRAFT,
                actor_id=actor.id,
                version=1,
                occurred_at=now,
            ),
            ClaimEvent(
                claim_id=claim.id,
                round=1,
                action=ClaimAction.SUBMIT,
                from_status=ClaimStatus.DRAFT,
                to_status=ClaimStatus.AWAITING_COMMISSIONER_REVIEW,
                actor_id=actor.id,
                reason=row.notes,
                value=claim.value,
                version=2,
                details=details,
                occurred_at=now,
            ),
            BulkUploadClaim(upload_id=upload.id, claim_id=claim.id, row_number=row.row_number),
        ]
    )
    session.flush()
    record_event(
        session,
        action="claim.bulk_created",
        object_type="claim",
        object_id=claim.id,
        actor=actor,
        organisation=row.provider,
        after={
            "reference": claim.reference,
            "scheme": scheme.code,
            "period_start": window.period_start,
            "status": claim.status,
            "value": claim.value,
            "bulk_upload": upload.id,
            "row": row.row_number,
        },
    )
    return claim


def _tell_reviewers(
    session: DbSession,
    actor: User,
    parsed: ParsedUpload,
    claims: Sequence[Claim],
    base_url: str,
) -> None:
    """One email to every other tier 1 approver reaching the providers (not one per claim)."""
    scheme, window = parsed.option.scheme, parsed.option.window
    people: dict[int, User] = {}
    for provider in _distinct(row.provider for row in parsed.rows):
        for person in holders(session, provider, Capability.APPROVE_CLAIM_TIER_1):
            people.setdefault(person.id, person)
    people.pop(actor.id, None)
    link = f"{base_url.rstrip('/')}/claims?status=AWAITING_COMMISSIONER_REVIEW&scheme={scheme.id}"
    for person in people.values():
        enqueue(
            session,
            to=person.email,
            subject=f"{len(claims)} bulk claims under {scheme.code} are waiting for review",
            body=(
                f"Dear {person.full_name},\n\n{actor.full_name} uploaded {len(claims)} claims "
                f"under {scheme.name} for {window.period_label}. They are waiting for "
                "commissioner review (tier 1) by someone other than the person who uploaded "
                f"them.\n\nOpen the list:\n{link}\n\nClaims portal\n"
                "This is an automatic email: replies are not read."
            ),
            kind=EmailKind.CLAIM_TO_APPROVE,
            user=person,
        )


def _distinct(items: Iterable[Organisation]) -> list[Organisation]:
    seen: dict[int, Organisation] = {}
    for item in items:
        seen.setdefault(item.id, item)
    return list(seen.values())
