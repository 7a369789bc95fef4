"""Schemes: create, change, delete (drafts only), publish (every problem listed), close."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import func, select

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import (
    ensure_capability,
    icb_of,
)
from claims_portal.db import DbSession, utcnow
from claims_portal.decisions import NOTHING_CHANGED, by_event, last_event
from claims_portal.formatting import long_date
from claims_portal.organisations.models import Organisation
from claims_portal.payments.models import Paycode
from claims_portal.schemes.models import (
    ClaimFrequency,
    ClaimWindow,
    EvidenceRequirement,
    QuestionKind,
    Scheme,
    SchemeShare,
    SchemeStatus,
)
from claims_portal.schemes.services import closing
from claims_portal.schemes.services._common import (
    _CODE,
    _PAYCODE,
    COMMISSIONER_KINDS,
    SchemeConflict,
    SchemeError,
    _audit,
    _changes,
    _ensure_not_closed,
    _ods,
    _snapshot,
    _text,
    ensure_can_configure,
    financial_year_dates,
)
from claims_portal.schemes.services.components import tariff_for_period
from claims_portal.statemachine import Machine, Step, set_status

SCHEME_FIELDS = (
    "code",
    "name",
    "description",
    "commissioner",
    "financial_year",
    "start_date",
    "end_date",
    "claim_frequency",
    "window_days",
    "evidence_requirement",
    "multi_service_claims",
    "participation_only",
    "pay_through_agency",
    "agency_enrolment_date",
    "paycode",
)
#: Fixed once the scheme is published.
LOCKED_WHEN_PUBLISHED = frozenset(
    {
        "code",
        "commissioner",
        "financial_year",
        "start_date",
        "end_date",
        "claim_frequency",
        "participation_only",
        "pay_through_agency",
        "agency_enrolment_date",
        "paycode",
    }
)


#: The message for a paycode that is not in the paycode list (``payments.models.Paycode``).
NOT_A_LISTED_PAYCODE = "Choose a paycode from the list"


def paycode_listed(session: DbSession, code: str) -> bool:
    """Whether ``code`` is in the paycode list the administrators keep (any case)."""
    found = session.scalar(
        select(Paycode.id).where(func.upper(Paycode.code) == code.strip().upper())
    )
    return found is not None


def _clean_scheme_fields(
    values: dict[str, Any], *, listed: Callable[[str], bool] | None = None
) -> dict[str, Any]:
    """Normalise and check a scheme's own fields; raises one error listing every problem.

    ``listed(paycode)`` says whether a paycode may be chosen (it is in the paycode list);
    without it the paycode's form alone is checked."""
    problems: list[str] = []
    code = (values.get("code") or "").strip().upper()
    if not _CODE.match(code):
        problems.append(
            "Enter a scheme code of 2 to 30 capital letters, digits and hyphens, like LES-HC-2627"
        )
    name = _text(values.get("name"))
    if not name:
        problems.append("Enter the scheme's name")
    elif len(name) > 200:
        problems.append("The scheme's name must be 200 characters or fewer")
    commissioner = values.get("commissioner")
    if commissioner is None or commissioner.kind not in COMMISSIONER_KINDS:
        problems.append("Choose the commissioner: an ICB or one of its sub-locations")
    year = financial_year_dates(values.get("financial_year") or "")
    start, end = values.get("start_date"), values.get("end_date")
    if year is None:
        problems.append("Choose the financial year, like 2026/27")
    if start is None or end is None:
        problems.append("Enter the scheme's start and end dates")
    elif end < start:
        problems.append("The end date must be the same as or after the start date")
    elif year is not None and not (year[0] <= start and end <= year[1]):
        problems.append(
            f"The scheme's dates must lie inside the financial year {values['financial_year']} "
            f"({long_date(year[0])} to {long_date(year[1])})"
        )
    if not isinstance(values.get("claim_frequency"), ClaimFrequency):
        problems.append("Choose how often providers claim")
    window_days = values.get("window_days")
    if not isinstance(window_days, int) or not 1 <= window_days <= 366:
        problems.append("Claim windows must stay open for 1 to 366 days")
    if not isinstance(values.get("evidence_requirement"), EvidenceRequirement):
        problems.append("Choose whether evidence is required")
    paycode = (values.get("paycode") or "").strip().upper() or None
    if paycode is not None and not _PAYCODE.match(paycode):
        problems.append(
            "The paycode can only hold capital letters, digits and hyphens (20 at most)"
        )
    elif paycode is not None and listed is not None and not listed(paycode):
        problems.append(f"{NOT_A_LISTED_PAYCODE}: there is no paycode {paycode}")
    # Claims approved before the enrolment date are never paid through the agency: without
    # one, a scheme paid through the agency is from its first day; other schemes have none.
    enrolment = values.get("agency_enrolment_date")
    if not values.get("pay_through_agency"):
        enrolment = None
    elif enrolment is None and isinstance(start, dt.date):
        enrolment = start
    if problems:
        raise SchemeError(problems)
    return {
        **values,
        "agency_enrolment_date": enrolment,
        "code": code,
        "name": name,
        "description": (values.get("description") or "").strip(),
        "paycode": paycode,
        "multi_service_claims": bool(values.get("multi_service_claims")),
        "participation_only": bool(values.get("participation_only")),
        "pay_through_agency": bool(values.get("pay_through_agency")),
    }


def _ensure_code_free(
    session: DbSession, commissioner: Organisation, code: str, scheme_id: int | None
) -> None:
    clash = session.scalar(
        select(Scheme.id).where(Scheme.commissioner_id == commissioner.id, Scheme.code == code)
    )
    if clash is not None and clash != scheme_id:
        raise SchemeError(f"{commissioner.name} already has a scheme with the code {code}")


def _clean_shares(scheme_commissioner: Organisation, shared_with: Iterable[Organisation]) -> list:
    own_icb = icb_of(scheme_commissioner)
    result = []
    for organisation in shared_with:
        if organisation.kind not in COMMISSIONER_KINDS:
            raise SchemeError("A scheme can only be shared with ICBs and their sub-locations")
        if own_icb is not None and icb_of(organisation) is own_icb:
            raise SchemeError(f"{organisation.name} already sees this ICB's schemes")
        if organisation not in result:
            result.append(organisation)
    return result


def create_scheme(
    session: DbSession,
    *,
    actor: User,
    commissioner: Organisation,
    code: str,
    name: str,
    financial_year: str,
    start_date: dt.date,
    end_date: dt.date,
    claim_frequency: ClaimFrequency,
    description: str = "",
    window_days: int = 30,
    evidence_requirement: EvidenceRequirement = EvidenceRequirement.NOT_REQUIRED,
    multi_service_claims: bool = False,
    participation_only: bool = False,
    pay_through_agency: bool = True,
    agency_enrolment_date: dt.date | None = None,
    paycode: str | None = None,
    shared_with: Iterable[Organisation] = (),
) -> Scheme:
    """Create a draft scheme. Raises :class:`SchemeError` listing every problem."""
    values = _clean_scheme_fields(
        {
            "code": code,
            "name": name,
            "description": description,
            "commissioner": commissioner,
            "financial_year": financial_year,
            "start_date": start_date,
            "end_date": end_date,
            "claim_frequency": claim_frequency,
            "window_days": window_days,
            "evidence_requirement": evidence_requirement,
            "multi_service_claims": multi_service_claims,
            "participation_only": participation_only,
            "pay_through_agency": pay_through_agency,
            "agency_enrolment_date": agency_enrolment_date,
            "paycode": paycode,
        },
        listed=lambda code: paycode_listed(session, code),
    )
    ensure_capability(actor, Capability.CONFIGURE_SCHEMES, commissioner)
    _ensure_code_free(session, commissioner, values["code"], None)
    shares = _clean_shares(commissioner, shared_with)
    scheme = Scheme(status=SCHEME.initial, **values)
    session.add(scheme)
    session.flush()
    for organisation in shares:
        session.add(SchemeShare(scheme_id=scheme.id, commissioner_id=organisation.id))
    session.flush()
    session.refresh(scheme, ["shares"])
    _audit(
        session,
        SCHEME.action(SCHEME.created),
        scheme,
        actor=actor,
        scheme=scheme,
        after={**_snapshot(scheme, SCHEME_FIELDS), "shared_with": _ods(shares)},
    )
    return scheme


def update_scheme(
    session: DbSession,
    scheme: Scheme,
    *,
    actor: User,
    shared_with: Iterable[Organisation] | None = None,
    **changes: Any,
) -> bool:
    """Change a scheme's fields (see the module docstring for what a published one allows).

    ``changes`` takes the keyword arguments of :func:`create_scheme`; fields left out keep
    their values. Returns False when nothing changed.
    """
    ensure_can_configure(actor, scheme)
    _ensure_not_closed(scheme)
    unknown = set(changes) - set(SCHEME_FIELDS)
    if unknown:
        raise TypeError(f"unknown scheme fields: {sorted(unknown)}")
    merged = {name: getattr(scheme, name) for name in SCHEME_FIELDS} | changes
    # A draft's paycode is chosen from the list; the one it has is kept even if the list no
    # longer holds it (renamed there since). A published scheme's paycode is locked below.
    values = _clean_scheme_fields(
        merged,
        listed=lambda code: (
            code == scheme.paycode
            or scheme.status is not SchemeStatus.DRAFT
            or paycode_listed(session, code)
        ),
    )
    changed = _changes(scheme, SCHEME_FIELDS, values)
    if scheme.status is not SchemeStatus.DRAFT:
        locked = [name for name in changed if name in LOCKED_WHEN_PUBLISHED]
        if locked:
            labels = ", ".join(name.replace("_", " ") for name in locked)
            raise SchemeError(f"{scheme.code} is published: its {labels} can no longer change")
    if "commissioner" in changed:
        ensure_capability(actor, Capability.CONFIGURE_SCHEMES, values["commissioner"])
    if "code" in changed or "commissioner" in changed:
        _ensure_code_free(session, values["commissioner"], values["code"], scheme.id)
    before = _snapshot(scheme, changed)
    new_shares = None
    if shared_with is not None:
        new_shares = _clean_shares(values["commissioner"], shared_with)
        if _ods(new_shares) != _ods(scheme.shared_with):
            before["shared_with"] = _ods(scheme.shared_with)
        else:
            new_shares = None
    if not changed and new_shares is None:
        return False
    for name in changed:
        setattr(scheme, name, values[name])
    if new_shares is not None:
        wanted = {o.id for o in new_shares}
        for share in list(scheme.shares):
            if share.commissioner_id not in wanted:
                session.delete(share)
        have = {share.commissioner_id for share in scheme.shares}
        for organisation in new_shares:
            if organisation.id not in have:
                session.add(SchemeShare(scheme_id=scheme.id, commissioner_id=organisation.id))
    session.flush()
    session.refresh(scheme, ["shares"])
    after = _snapshot(scheme, changed)
    if new_shares is not None:
        after["shared_with"] = _ods(scheme.shared_with)
    _audit(
        session, "scheme.updated", scheme, actor=actor, scheme=scheme, before=before, after=after
    )
    return True


def delete_scheme(session: DbSession, scheme: Scheme, *, actor: User) -> None:
    """Delete a draft scheme and its parts. Published schemes are never deleted: close them."""
    ensure_can_configure(actor, scheme)
    if scheme.status is not SchemeStatus.DRAFT:
        raise SchemeError(
            f"{scheme.code} has been published, so it cannot be deleted: close it instead"
        )
    before = _snapshot(scheme, SCHEME_FIELDS)
    before["components"] = [c.code for c in scheme.components]
    for component in scheme.components:
        for tariff in component.tariffs:
            session.delete(tariff)
        session.delete(component)
    for row in [*scheme.windows, *scheme.questions, *scheme.shares]:
        session.delete(row)
    _audit(session, "scheme.deleted", scheme, actor=actor, scheme=scheme, before=before)
    session.delete(scheme)
    session.flush()


def publication_problems(scheme: Scheme) -> list[str]:
    """Everything that stops ``scheme`` being published (empty when it is ready)."""
    problems: list[str] = []
    try:
        _clean_scheme_fields({name: getattr(scheme, name) for name in SCHEME_FIELDS})
    except SchemeError as error:
        problems += error.messages
    if scheme.participation_only and scheme.components:
        problems.append(
            "A participation-only scheme pays nothing: remove its components or untick "
            "participation only"
        )
    if not scheme.participation_only and not scheme.components:
        problems.append("Add at least one component, or make the scheme participation only")
    if scheme.pay_through_agency and not scheme.paycode:
        problems.append("Choose the paycode: the scheme pays through the payments agency")
    if not scheme.windows:
        problems.append("Add the claim windows (generate them from the claim frequency)")
    previous: ClaimWindow | None = None
    for window in sorted(scheme.windows, key=lambda w: w.period_start):
        if window.period_start < scheme.start_date or window.period_end > scheme.end_date:
            problems.append(
                f"The claim period {window.period_label} falls outside the scheme's dates "
                f"({long_date(scheme.start_date)} to {long_date(scheme.end_date)})"
            )
        if previous is not None and window.period_start <= previous.period_end:
            problems.append(
                f"The claim periods {previous.period_label} and {window.period_label} overlap"
            )
        previous = window
    if not scheme.participation_only:
        for component in scheme.components:
            missing = [
                w.period_label
                for w in scheme.windows
                if tariff_for_period(component, w.period_start) is None
            ]
            if missing:
                problems.append(
                    f"Component {component.code} has no tariff in force for "
                    f"{_listing(missing)}: add a tariff effective on or before the start of "
                    "each period"
                )
    for question in scheme.questions:
        if question.kind is QuestionKind.SINGLE_CHOICE and len(question.choice_list) < 2:
            problems.append(f"Give the question “{question.text}” at least two choices")
    return problems


def _listing(items: list[str]) -> str:
    if len(items) > 3:
        return f"{', '.join(items[:3])} and {len(items) - 3} more periods"
    return ", ".join(items)


#: A scheme's life: built as a draft, published once complete, closed at its end (it stays,
#: with its offers, as history). Drafts may also be deleted (:func:`delete_scheme`).
SCHEME = Machine(
    object_type="scheme",
    title="Scheme",
    initial=SchemeStatus.DRAFT,
    created="created",
    creator=Capability.CONFIGURE_SCHEMES,
    final=frozenset({SchemeStatus.CLOSED}),
    steps=(
        Step(
            "publish",
            frozenset({SchemeStatus.DRAFT}),
            SchemeStatus.PUBLISHED,
            Capability.CONFIGURE_SCHEMES,
            "published",
            "Only a draft scheme can be published",
        ),
        Step(
            "close",
            frozenset({SchemeStatus.PUBLISHED}),
            SchemeStatus.CLOSED,
            Capability.CONFIGURE_SCHEMES,
            "closed",
            "Only a published scheme can be closed",
        ),
    ),
)


def _lock(session: DbSession, scheme: Scheme) -> None:
    """Lock the scheme's row and read it afresh: of two people publishing (or closing) it
    at once, the second waits, then finds it published (or closed)."""
    session.execute(
        select(Scheme)
        .where(Scheme.id == scheme.id)
        .with_for_update(of=Scheme, key_share=True)
        .execution_options(populate_existing=True)
    ).all()


def _already(session: DbSession, scheme: Scheme, *, also: str = "") -> SchemeConflict:
    """ "LES-HC-2627 is already published by Tom Okafor at 14:02. Nothing was changed." """
    event = last_event(session, "scheme", scheme.id, SCHEME.actions())
    status = scheme.status.lower()
    return SchemeConflict(
        f"{also}{scheme.code} is already {status}{by_event(event)}. {NOTHING_CHANGED}"
    )


def take_step(
    session: DbSession,
    scheme: Scheme,
    name: str,
    *,
    actor: User,
    base_url: str | None = None,
) -> closing.InProgress:
    """Take the step ``name`` of :data:`SCHEME` (the one way a scheme's status changes):
    locks the row, re-checks the status (:class:`SchemeConflict` says who moved it first;
    :class:`SchemeError` for a step that never fitted), checks publication, moves the status
    and records the audit event; closing tells each practice with claims in progress
    (``closing.py``; emailed links start with ``base_url``). Returns the claims in progress
    the step found (closing only). Flushes; the caller commits."""
    step = SCHEME.step(name)
    ensure_can_configure(actor, scheme)
    _lock(session, scheme)
    if scheme.status not in step.sources:
        if name == "publish":
            raise _already(session, scheme)
        if scheme.status is step.target:
            raise _already(session, scheme, also=f"{step.refusal}: ")
        raise SchemeError(f"{step.refusal}; {scheme.code} is {scheme.status.lower()}")
    if name == "publish":
        problems = publication_problems(scheme)
        if problems:
            raise SchemeError(problems)
    before = set_status(scheme, step.target)
    after: dict[str, object] = {"status": scheme.status.name}
    if step.target is SchemeStatus.PUBLISHED:
        scheme.published_at = utcnow()
        after["paycode"] = scheme.paycode
    claims = closing.InProgress()
    if step.target is SchemeStatus.CLOSED:
        scheme.closed_at = utcnow()
        claims = closing.in_progress(session, scheme)
        after["claims_in_progress"] = claims.count
        after["practices_told"] = [p.ods_code for p in claims.practices]
    session.flush()
    _audit(
        session,
        SCHEME.action(step),
        scheme,
        actor=actor,
        scheme=scheme,
        before={"status": before.name},
        after=after,
    )
    if claims.count:
        closing.tell_practices(session, scheme, claims, actor=actor, base_url=base_url)
    return claims


def publish_scheme(session: DbSession, scheme: Scheme, *, actor: User) -> None:
    """Validate the whole scheme and publish it; :class:`SchemeError` lists every problem,
    :class:`SchemeConflict` says who published (or closed) it first."""
    take_step(session, scheme, "publish", actor=actor)


def close_scheme(
    session: DbSession, scheme: Scheme, *, actor: User, base_url: str | None = None
) -> closing.InProgress:
    """Close a published scheme: it stays, with its offers, as history
    (:class:`SchemeConflict` if someone closed it first). Returns the claims that were in
    progress (their practices were told)."""
    return take_step(session, scheme, "close", actor=actor, base_url=base_url)
