"""Bulk claims: a tier 1 commissioner claims for many providers with one spreadsheet.

1. :func:`template_workbook` builds the .xlsx for a scheme's open window: one row per
   provider with an Active offer that the commissioner reaches, one column per component,
   and a very hidden sheet naming the scheme, window, components and template version (so a
   wrong or stale template is recognised).
2. ``bulk_reading.read_upload`` checks the file by its content and every row and column of
   it, collecting every problem (that module's doc says how).
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

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import ensure_capability, has_capability
from claims_portal.audit.services import record_event
from claims_portal.claims.models import (
    WHOLE_SCHEME_SCOPE,
    BulkUpload,
    BulkUploadClaim,
    Claim,
    ClaimAction,
    ClaimLine,
    ClaimStatus,
)
from claims_portal.claims.services._common import ClaimInvalid, Problem, holders
from claims_portal.claims.services.lifecycle import record_start, transition
from claims_portal.db import DbSession, utcnow
from claims_portal.formatting import long_date
from claims_portal.mail.kinds import EmailKind
from claims_portal.mail.services import DigestEntry, enqueue
from claims_portal.organisations.models import Organisation
from claims_portal.organisations.services import commissioners_of
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


def column_headings(components: Sequence[Component]) -> list[str]:
    """The headings of the claims sheet, which an upload must keep."""
    units = [f"{c.name} ({c.code}): {c.unit_label}" for c in components]
    return ["ODS code", "Provider name", *units, "Notes"]


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
    headings = column_headings(scheme.components)
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


# --- What an upload holds (read by ``bulk_reading.read_upload``) ---------------------------


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


# --- Making the claims ---------------------------------------------------------------------


def create_bulk_claims(
    session: DbSession, actor: User, parsed: ParsedUpload, *, base_url: str = ""
) -> BulkUpload:
    """One claim per row, all or none (flush only; raises :class:`ClaimInvalid` if a
    claim cannot be made, e.g. someone started one for the provider meanwhile)."""
    lock_offers(session, parsed.option.scheme, parsed.rows)
    upload = new_upload(session, actor, parsed)
    claims = [create_row_claim(session, actor, parsed, upload, row) for row in parsed.rows]
    finish_upload(session, actor, parsed, upload, claims, base_url=base_url)
    return upload


def lock_offers(session: DbSession, scheme: Scheme, rows: Sequence[BulkRow]) -> set[int]:
    """Lock the Active offers of ``scheme`` to the rows' providers (so none is withdrawn
    while their claims are made); the providers that have one."""
    return {
        int(provider_id)
        for provider_id in session.scalars(
            select(Offer.provider_id)
            .where(
                Offer.scheme_id == scheme.id,
                Offer.provider_id.in_([row.provider.id for row in rows]),
                Offer.status == OfferStatus.ACTIVE,
            )
            .order_by(Offer.id)
            .with_for_update()
        )
    }


def new_upload(session: DbSession, actor: User, parsed: ParsedUpload) -> BulkUpload:
    """The upload's row, counting every row (flushes)."""
    upload = BulkUpload(
        scheme_id=parsed.option.scheme.id,
        window_id=parsed.option.window.id,
        uploaded_by_id=actor.id,
        filename=parsed.filename,
        sha256=parsed.sha256,
        claim_count=len(parsed.rows),
        uploaded_at=utcnow(),
    )
    session.add(upload)
    session.flush()
    return upload


def finish_upload(
    session: DbSession,
    actor: User,
    parsed: ParsedUpload,
    upload: BulkUpload,
    claims: Sequence[Claim],
    *,
    base_url: str = "",
) -> None:
    """Once the upload's claims are made: its audit event, and one email to every other
    tier 1 approver reaching the providers (flush only)."""
    scheme, window = parsed.option.scheme, parsed.option.window
    record_event(
        session,
        action="claim.bulk_uploaded",
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


def create_row_claim(
    session: DbSession, actor: User, parsed: ParsedUpload, upload: BulkUpload, row: BulkRow
) -> Claim:
    """A Draft claim for the row, submitted through the lifecycle (``BULK_SUBMIT``)."""
    scheme, window = parsed.option.scheme, parsed.option.window
    now = utcnow()
    path = commissioners_of(row.provider)
    claim = Claim(
        provider_id=row.provider.id,
        icb_id=path.icb_id,
        sub_location_id=path.sub_location_id,
        scheme_id=scheme.id,
        window_id=window.id,
        period_start=window.period_start,
        period_end=window.period_end,
        scope=WHOLE_SCHEME_SCOPE,
        status=ClaimStatus.DRAFT,
        version=1,
        round=1,
        created_by_id=actor.id,
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
    record_start(session, claim, actor)
    session.add(BulkUploadClaim(upload_id=upload.id, claim_id=claim.id, row_number=row.row_number))
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
            "bulk_upload": upload.id,
            "row": row.row_number,
        },
    )
    reference = {"id": upload.id, "row": row.row_number, "notes": row.notes}
    try:
        transition(
            session,
            claim.id,
            ClaimAction.BULK_SUBMIT,
            actor,
            expected_version=claim.version,
            reason=row.notes,
            bulk=reference,
        )
    except ClaimInvalid as error:
        raise ClaimInvalid(
            [Problem(f"Row {row.row_number}: {p.message}", FILE_FIELD) for p in error.problems]
        ) from None
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
    path = f"/claims?status=AWAITING_COMMISSIONER_REVIEW&scheme={scheme.id}"
    link = f"{base_url.rstrip('/')}{path}"
    digest = DigestEntry(
        f"{len(claims)} bulk claims under {scheme.name} for {window.period_label}, uploaded "
        f"by {actor.full_name}, are waiting for commissioner review (tier 1).",
        path,
    )
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
            digest=digest,
        )


def _distinct(items: Iterable[Organisation]) -> list[Organisation]:
    seen: dict[int, Organisation] = {}
    for item in items:
        seen.setdefault(item.id, item)
    return list(seen.values())
