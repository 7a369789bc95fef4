"""Schemes, components, tariffs, claim windows and questions: the rules (flush only).

Every function here checks the actor's capability (:class:`PermissionDenied`), refuses what
the rules forbid with :class:`SchemeError` (its messages are for the user) and records an
audit event with the fields before and after. The web pages and the ICB's admin both call
these functions, so neither can bypass a rule. Offers are in ``offers.py``.

What may change once a scheme is published (it is never deleted, only closed):

- the scheme's name, description, evidence setting, multi-service setting, window length
  and sharing; never its code, commissioner, year, dates, frequency, participation-only
  setting, paycode or payment route;
- components' names, unit labels, evidence flags and caps; components cannot be added or
  removed, nor their codes changed;
- tariffs: a new unit value is a new tariff from an effective date (it prices the periods
  from that date on; claims already submitted keep their values); existing tariffs are
  edited or removed only while the scheme is a draft;
- windows: opening and closing dates; missing periods can be generated; none removed;
- questions: wording, help, order, whether required and choices; not their kind; none
  added or removed.

A closed scheme changes no more.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.access.permissions import (
    PermissionDenied,
    ancestors_and_self,
    ensure_capability,
    icb_of,
)
from claims_portal.access.roles import Capability
from claims_portal.audit.services import record_event
from claims_portal.db import DbSession, utcnow
from claims_portal.organisations.models import Organisation, OrganisationKind
from claims_portal.schemes.models import (
    ClaimFrequency,
    ClaimWindow,
    Component,
    EvidenceRequirement,
    QuestionKind,
    Scheme,
    SchemeShare,
    SchemeStatus,
    SupplementaryQuestion,
    Tariff,
)
from claims_portal.schemes.schedule import claim_periods, default_window


class SchemeError(Exception):
    """A scheme rule was broken. ``problems`` lists every message, each for the user."""

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


# --- Who sees what ------------------------------------------------------------------------


def commissioner_scope(session: DbSession, organisation: Organisation | None) -> list[int]:
    """Ids of the ICB at or above ``organisation`` and of the ICB's sub-locations.

    This is what a commissioner's staff see in the admin (tenant scoping). Empty when the
    organisation sits under no ICB.
    """
    if organisation is None:
        return []
    icb = icb_of(organisation)
    if icb is None:
        return []
    sub_locations = session.scalars(
        select(Organisation.id).where(
            Organisation.parent_id == icb.id,
            Organisation.kind == OrganisationKind.ICB_SUB_LOCATION,
        )
    ).all()
    return [icb.id, *sub_locations]


def providers_in_scope(session: DbSession, scope: Sequence[int]) -> list[Organisation]:
    """Practices, PCNs and federations under the commissioners in ``scope``, by name."""
    return list(
        session.scalars(
            select(Organisation)
            .where(
                Organisation.parent_id.in_(scope),
                Organisation.kind.in_(PROVIDER_KINDS),
            )
            .order_by(Organisation.kind, Organisation.name)
        )
    )


PROVIDER_KINDS = (OrganisationKind.GP_PRACTICE, OrganisationKind.PCN, OrganisationKind.FEDERATION)
COMMISSIONER_KINDS = (OrganisationKind.ICB, OrganisationKind.ICB_SUB_LOCATION)


def ensure_can_configure(actor: User, scheme: Scheme) -> None:
    """Raise :class:`PermissionDenied` unless ``actor`` administers the scheme's commissioner."""
    ensure_capability(actor, Capability.CONFIGURE_SCHEMES, scheme.commissioner)


# --- Small validators ---------------------------------------------------------------------

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,29}$")
_PAYCODE = re.compile(r"^[A-Z0-9-]{1,20}$")
_FY = re.compile(r"^(\d{4})/(\d{2})$")


def financial_year_dates(label: str) -> tuple[dt.date, dt.date] | None:
    """(1 April, 31 March) of a year labelled like ``2026/27``; None if not such a label."""
    match = _FY.match(label or "")
    if match is None or (int(match[1]) + 1) % 100 != int(match[2]):
        return None
    start = int(match[1])
    return dt.date(start, 4, 1), dt.date(start + 1, 3, 31)


def financial_year_of(day: dt.date) -> str:
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def parse_money(value: object, label: str) -> Decimal:
    """A non-negative amount in pounds with at most two decimal places."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise SchemeError(f"Enter {label} as an amount in pounds, like 25.50") from None
    if not amount.is_finite():
        raise SchemeError(f"Enter {label} as an amount in pounds, like 25.50")
    if amount < 0:
        raise SchemeError(f"{label.capitalize()} must be 0 or more")
    if amount != amount.quantize(Decimal("0.01")):
        raise SchemeError(f"{label.capitalize()} must be in pounds and pence, like 25.50")
    if amount >= Decimal("10000000000"):
        raise SchemeError(f"{label.capitalize()} is too large")
    return amount.quantize(Decimal("0.01"))


def _text(value: str | None) -> str:
    return " ".join((value or "").split())


def plain(value: Any) -> Any:
    """What the audit trail stores: enum member names and ODS codes, not objects.

    (A ``StrEnum`` is a ``str``, so JSON would otherwise store its display value.)
    """
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, Organisation):
        return value.ods_code
    if isinstance(value, list):
        return sorted(plain(v) for v in value)
    return value


def _snapshot(obj: object, fields: Iterable[str]) -> dict[str, Any]:
    return {name: plain(getattr(obj, name)) for name in fields}


def _changes(obj: object, fields: Iterable[str], new: Mapping[str, Any]) -> list[str]:
    return [name for name in fields if name in new and getattr(obj, name) != new[name]]


def _audit(
    session: DbSession,
    action: str,
    obj: Any,
    *,
    actor: User,
    scheme: Scheme,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    record_event(
        session,
        action=action,
        object_type=obj.__tablename__,
        object_id=obj.id,
        actor=actor,
        organisation=scheme.commissioner,
        before=before,
        after=after,
    )


def _ensure_not_closed(scheme: Scheme) -> None:
    if scheme.status is SchemeStatus.CLOSED:
        raise SchemeError(f"{scheme.code} is closed: it can no longer be changed")


def _ensure_draft(scheme: Scheme, what: str) -> None:
    _ensure_not_closed(scheme)
    if scheme.status is not SchemeStatus.DRAFT:
        raise SchemeError(f"{scheme.code} is published: {what}")


# --- Schemes ------------------------------------------------------------------------------

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
        "paycode",
    }
)


def _clean_scheme_fields(values: dict[str, Any]) -> dict[str, Any]:
    """Normalise and check a scheme's own fields; raises one error listing every problem."""
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
            f"({year[0]:%d %B %Y} to {year[1]:%d %B %Y})"
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
    if problems:
        raise SchemeError(problems)
    return {
        **values,
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
            "paycode": paycode,
        }
    )
    ensure_capability(actor, Capability.CONFIGURE_SCHEMES, commissioner)
    _ensure_code_free(session, commissioner, values["code"], None)
    shares = _clean_shares(commissioner, shared_with)
    scheme = Scheme(status=SchemeStatus.DRAFT, **values)
    session.add(scheme)
    session.flush()
    for organisation in shares:
        session.add(SchemeShare(scheme_id=scheme.id, commissioner_id=organisation.id))
    session.flush()
    session.refresh(scheme, ["shares"])
    _audit(
        session,
        "scheme.created",
        scheme,
        actor=actor,
        scheme=scheme,
        after={**_snapshot(scheme, SCHEME_FIELDS), "shared_with": _ods(shares)},
    )
    return scheme


def _ods(organisations: Iterable[Organisation]) -> list[str]:
    return sorted(o.ods_code for o in organisations)


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
    values = _clean_scheme_fields(merged)
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
        problems += error.problems
    if scheme.participation_only and scheme.components:
        problems.append(
            "A participation-only scheme pays nothing: remove its components or untick "
            "participation only"
        )
    if not scheme.participation_only and not scheme.components:
        problems.append("Add at least one component, or make the scheme participation only")
    if scheme.pay_through_agency and not scheme.paycode:
        problems.append("Enter the paycode: the scheme pays through the payments agency")
    if not scheme.windows:
        problems.append("Add the claim windows (generate them from the claim frequency)")
    previous: ClaimWindow | None = None
    for window in sorted(scheme.windows, key=lambda w: w.period_start):
        if window.period_start < scheme.start_date or window.period_end > scheme.end_date:
            problems.append(
                f"The claim period {window.period_label} falls outside the scheme's dates "
                f"({scheme.start_date:%d %B %Y} to {scheme.end_date:%d %B %Y})"
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


def publish_scheme(session: DbSession, scheme: Scheme, *, actor: User) -> None:
    """Validate the whole scheme and publish it; :class:`SchemeError` lists every problem."""
    ensure_can_configure(actor, scheme)
    if scheme.status is not SchemeStatus.DRAFT:
        raise SchemeError(f"{scheme.code} is already {scheme.status.lower()}")
    problems = publication_problems(scheme)
    if problems:
        raise SchemeError(problems)
    scheme.status = SchemeStatus.PUBLISHED
    scheme.published_at = utcnow()
    session.flush()
    _audit(
        session,
        "scheme.published",
        scheme,
        actor=actor,
        scheme=scheme,
        before={"status": SchemeStatus.DRAFT.name},
        after={"status": scheme.status.name, "paycode": scheme.paycode},
    )


def close_scheme(session: DbSession, scheme: Scheme, *, actor: User) -> None:
    """Close a published scheme: it stays, with its offers, as history."""
    ensure_can_configure(actor, scheme)
    if scheme.status is not SchemeStatus.PUBLISHED:
        raise SchemeError(
            f"Only a published scheme can be closed; {scheme.code} is {scheme.status.lower()}"
        )
    scheme.status = SchemeStatus.CLOSED
    scheme.closed_at = utcnow()
    session.flush()
    _audit(
        session,
        "scheme.closed",
        scheme,
        actor=actor,
        scheme=scheme,
        before={"status": SchemeStatus.PUBLISHED.name},
        after={"status": SchemeStatus.CLOSED.name},
    )


# --- Components and tariffs ---------------------------------------------------------------

COMPONENT_FIELDS = (
    "code",
    "name",
    "unit_label",
    "max_units_per_claim",
    "period_cap_units",
    "period_cap_amount",
    "year_cap_units",
    "year_cap_amount",
    "evidence_required",
)


def _clean_component_fields(values: dict[str, Any]) -> dict[str, Any]:
    problems: list[str] = []
    code = (values.get("code") or "").strip().upper()
    if not _CODE.match(code):
        problems.append("Enter a component code of 2 to 30 capital letters, digits and hyphens")
    name = _text(values.get("name"))
    if not name:
        problems.append("Enter the component's name")
    unit_label = _text(values.get("unit_label"))
    if not unit_label:
        problems.append("Enter the unit label, like “health check completed”")
    result = {
        **values,
        "code": code,
        "name": name[:200],
        "unit_label": unit_label[:120],
        "evidence_required": bool(values.get("evidence_required")),
    }
    for field in ("max_units_per_claim", "period_cap_units", "year_cap_units"):
        units = values.get(field)
        if units is not None and (not isinstance(units, int) or units < 0):
            problems.append(f"The {field.replace('_', ' ')} must be a whole number, 0 or more")
    for field in ("period_cap_amount", "year_cap_amount"):
        amount = values.get(field)
        if amount is not None:
            try:
                result[field] = parse_money(amount, f"the {field.replace('_', ' ')}")
            except SchemeError as error:
                problems += error.problems
    if problems:
        raise SchemeError(problems)
    return result


def add_component(session: DbSession, scheme: Scheme, *, actor: User, **fields: Any) -> Component:
    """Add a component to a draft scheme (``fields``: see :data:`COMPONENT_FIELDS`)."""
    ensure_can_configure(actor, scheme)
    _ensure_draft(scheme, "components can no longer be added")
    values = _clean_component_fields({name: fields.get(name) for name in COMPONENT_FIELDS})
    if any(c.code == values["code"] for c in scheme.components):
        raise SchemeError(f"{scheme.code} already has a component {values['code']}")
    component = Component(scheme=scheme, **values)
    session.add(component)
    session.flush()
    _audit(
        session,
        "scheme_component.added",
        component,
        actor=actor,
        scheme=scheme,
        after={"scheme": scheme.code, **_snapshot(component, COMPONENT_FIELDS)},
    )
    return component


def update_component(
    session: DbSession, component: Component, *, actor: User, **changes: Any
) -> bool:
    """Change a component; a published scheme's component keeps its code."""
    scheme = component.scheme
    ensure_can_configure(actor, scheme)
    _ensure_not_closed(scheme)
    unknown = set(changes) - set(COMPONENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown component fields: {sorted(unknown)}")
    merged = {name: getattr(component, name) for name in COMPONENT_FIELDS} | changes
    values = _clean_component_fields(merged)
    changed = _changes(component, COMPONENT_FIELDS, values)
    if "code" in changed:
        if not scheme.is_draft:
            raise SchemeError(f"{scheme.code} is published: component codes can no longer change")
        if any(c.code == values["code"] for c in scheme.components if c is not component):
            raise SchemeError(f"{scheme.code} already has a component {values['code']}")
    if not changed:
        return False
    before = _snapshot(component, changed)
    for name in changed:
        setattr(component, name, values[name])
    session.flush()
    _audit(
        session,
        "scheme_component.updated",
        component,
        actor=actor,
        scheme=scheme,
        before=before,
        after=_snapshot(component, changed),
    )
    return True


def remove_component(session: DbSession, component: Component, *, actor: User) -> None:
    scheme = component.scheme
    ensure_can_configure(actor, scheme)
    _ensure_draft(scheme, "components can no longer be removed")
    before = {
        "scheme": scheme.code,
        **_snapshot(component, COMPONENT_FIELDS),
        "tariffs": [f"{t.unit_value} from {t.effective_from}" for t in component.tariffs],
    }
    for tariff in component.tariffs:
        session.delete(tariff)
    _audit(
        session, "scheme_component.removed", component, actor=actor, scheme=scheme, before=before
    )
    session.delete(component)
    session.flush()
    session.refresh(scheme, ["components"])


def tariff_for_period(component: Component, period_start: dt.date) -> Tariff | None:
    """The tariff that prices a period: the one in force on the period's first day.

    The same rule as ``calculation.RateSchedule.for_period``: a tariff taking effect inside
    a period applies from the next period.
    """
    in_force = [t for t in component.tariffs if t.effective_from <= period_start]
    return max(in_force, key=lambda t: t.effective_from) if in_force else None


def tariff_used_by_submitted_claim(tariff: Tariff) -> bool:
    """Whether a submitted claim was priced with ``tariff`` (claims arrive in issue 6)."""
    return False


def _clean_tariff(component: Component, unit_value: object, effective_from: object) -> tuple:
    scheme = component.scheme
    problems = []
    amount = None
    try:
        amount = parse_money(unit_value, "the unit value")
    except SchemeError as error:
        problems += error.problems
    if not isinstance(effective_from, dt.date):
        problems.append("Enter the date the tariff takes effect")
    elif not scheme.start_date <= effective_from <= scheme.end_date:
        problems.append(
            f"The tariff must take effect within the scheme's dates "
            f"({scheme.start_date:%d %B %Y} to {scheme.end_date:%d %B %Y})"
        )
    if problems:
        raise SchemeError(problems)
    return amount, effective_from


def add_tariff(
    session: DbSession,
    component: Component,
    *,
    actor: User,
    unit_value: object,
    effective_from: dt.date,
) -> Tariff:
    """Give a component a unit value from a date (a new row; earlier values are kept).

    Allowed on draft and published schemes: the new value prices the periods starting on or
    after ``effective_from``; claims already submitted keep their values.
    """
    scheme = component.scheme
    ensure_can_configure(actor, scheme)
    _ensure_not_closed(scheme)
    if scheme.participation_only:
        raise SchemeError(f"{scheme.code} is participation only: it has no tariffs")
    amount, effective = _clean_tariff(component, unit_value, effective_from)
    if any(t.effective_from == effective for t in component.tariffs):
        raise SchemeError(
            f"{component.code} already has a tariff from {effective:%d %B %Y}: choose another date"
        )
    tariff = Tariff(component=component, unit_value=amount, effective_from=effective)
    session.add(tariff)
    session.flush()
    _audit(
        session,
        "scheme_tariff.added",
        tariff,
        actor=actor,
        scheme=scheme,
        after={
            "scheme": scheme.code,
            "component": component.code,
            "unit_value": amount,
            "effective_from": effective,
        },
    )
    return tariff


def update_tariff(
    session: DbSession,
    tariff: Tariff,
    *,
    actor: User,
    unit_value: object,
    effective_from: dt.date,
) -> bool:
    """Correct a tariff while the scheme is a draft (afterwards add a new tariff instead)."""
    component = tariff.component
    scheme = component.scheme
    ensure_can_configure(actor, scheme)
    _ensure_draft(scheme, "add a new tariff from an effective date instead of changing this one")
    if tariff_used_by_submitted_claim(tariff):
        raise SchemeError("A submitted claim used this tariff: add a new tariff instead")
    amount, effective = _clean_tariff(component, unit_value, effective_from)
    if any(t.effective_from == effective for t in component.tariffs if t is not tariff):
        raise SchemeError(f"{component.code} already has a tariff from {effective:%d %B %Y}")
    fields = ("unit_value", "effective_from")
    changed = _changes(tariff, fields, {"unit_value": amount, "effective_from": effective})
    if not changed:
        return False
    before = _snapshot(tariff, changed)
    tariff.unit_value, tariff.effective_from = amount, effective
    session.flush()
    _audit(
        session,
        "scheme_tariff.updated",
        tariff,
        actor=actor,
        scheme=scheme,
        before=before,
        after=_snapshot(tariff, changed),
    )
    return True


def remove_tariff(session: DbSession, tariff: Tariff, *, actor: User) -> None:
    component = tariff.component
    scheme = component.scheme
    ensure_can_configure(actor, scheme)
    _ensure_draft(scheme, "tariffs are kept as history and cannot be removed")
    before = {
        "scheme": scheme.code,
        "component": component.code,
        "unit_value": tariff.unit_value,
        "effective_from": tariff.effective_from,
    }
    _audit(session, "scheme_tariff.removed", tariff, actor=actor, scheme=scheme, before=before)
    session.delete(tariff)
    session.flush()
    session.refresh(component, ["tariffs"])


def component_terms(component: Component) -> Any:
    """The component as the calculation core prices it (``calculation.ComponentTerms``).

    Claims (issue 6) price their lines with this.
    """
    from claims_portal.calculation import (
        Cap,
        CapMeasure,
        CapScope,
        ComponentTerms,
        Rate,
        RateSchedule,
    )

    caps = []
    for scope, measure, limit in (
        (CapScope.CLAIM, CapMeasure.UNITS, component.max_units_per_claim),
        (CapScope.PERIOD, CapMeasure.UNITS, component.period_cap_units),
        (CapScope.PERIOD, CapMeasure.MONEY, component.period_cap_amount),
        (CapScope.FINANCIAL_YEAR, CapMeasure.UNITS, component.year_cap_units),
        (CapScope.FINANCIAL_YEAR, CapMeasure.MONEY, component.year_cap_amount),
    ):
        if limit is not None:
            caps.append(Cap(scope=scope, measure=measure, limit=Decimal(limit)))
    rates = tuple(
        Rate(amount=t.unit_value, effective_from=t.effective_from) for t in component.tariffs
    )
    return ComponentTerms(
        code=component.code,
        unit_label=component.unit_label,
        tariffs=RateSchedule(rates),
        caps=tuple(caps),
    )


# --- Claim windows ------------------------------------------------------------------------


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
            f"({scheme.start_date:%d %B %Y} to {scheme.end_date:%d %B %Y})"
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


# --- Supplementary questions --------------------------------------------------------------

QUESTION_FIELDS = ("text", "kind", "required", "help_text", "choices", "display_order")


def _clean_question_fields(values: dict[str, Any]) -> dict[str, Any]:
    problems = []
    text = _text(values.get("text"))
    if not text:
        problems.append("Enter the question")
    elif len(text) > 500:
        problems.append("The question must be 500 characters or fewer")
    kind = values.get("kind")
    if not isinstance(kind, QuestionKind):
        problems.append("Choose the kind of answer")
    choices = "\n".join(
        line.strip() for line in (values.get("choices") or "").splitlines() if line.strip()
    )
    if kind is QuestionKind.SINGLE_CHOICE and len(choices.splitlines()) < 2:
        problems.append("A single-choice question needs at least two choices, one per line")
    if kind is not QuestionKind.SINGLE_CHOICE:
        choices = ""
    order = values.get("display_order")
    if order is None:
        order = 0
    if not isinstance(order, int):
        problems.append("The order must be a whole number")
    if problems:
        raise SchemeError(problems)
    return {
        **values,
        "text": text,
        "required": bool(values.get("required")),
        "help_text": _text(values.get("help_text"))[:500],
        "choices": choices,
        "display_order": order,
    }


def add_question(
    session: DbSession, scheme: Scheme, *, actor: User, **fields: Any
) -> SupplementaryQuestion:
    """Add a supplementary question to a draft scheme (``fields``: :data:`QUESTION_FIELDS`)."""
    ensure_can_configure(actor, scheme)
    _ensure_draft(scheme, "questions can no longer be added")
    values = _clean_question_fields({name: fields.get(name) for name in QUESTION_FIELDS})
    question = SupplementaryQuestion(scheme=scheme, **values)
    session.add(question)
    session.flush()
    _audit(
        session,
        "supplementary_question.added",
        question,
        actor=actor,
        scheme=scheme,
        after={"scheme": scheme.code, **_snapshot(question, QUESTION_FIELDS)},
    )
    return question


def update_question(
    session: DbSession, question: SupplementaryQuestion, *, actor: User, **changes: Any
) -> bool:
    scheme = question.scheme
    ensure_can_configure(actor, scheme)
    _ensure_not_closed(scheme)
    unknown = set(changes) - set(QUESTION_FIELDS)
    if unknown:
        raise TypeError(f"unknown question fields: {sorted(unknown)}")
    merged = {name: getattr(question, name) for name in QUESTION_FIELDS} | changes
    values = _clean_question_fields(merged)
    changed = _changes(question, QUESTION_FIELDS, values)
    if "kind" in changed and not scheme.is_draft:
        raise SchemeError(f"{scheme.code} is published: a question's kind can no longer change")
    if not changed:
        return False
    before = _snapshot(question, changed)
    for name in changed:
        setattr(question, name, values[name])
    session.flush()
    _audit(
        session,
        "supplementary_question.updated",
        question,
        actor=actor,
        scheme=scheme,
        before=before,
        after=_snapshot(question, changed),
    )
    return True


def remove_question(session: DbSession, question: SupplementaryQuestion, *, actor: User) -> None:
    scheme = question.scheme
    ensure_can_configure(actor, scheme)
    _ensure_draft(scheme, "questions can no longer be removed")
    before = {"scheme": scheme.code, **_snapshot(question, QUESTION_FIELDS)}
    _audit(
        session,
        "supplementary_question.removed",
        question,
        actor=actor,
        scheme=scheme,
        before=before,
    )
    session.delete(question)
    session.flush()
    session.refresh(scheme, ["questions"])


def shared_with_ancestors(scheme: Scheme, provider: Organisation) -> bool:
    """Whether ``scheme`` is shared with a commissioner above ``provider``."""
    chain = {o.id for o in ancestors_and_self(provider)}
    return any(share.commissioner_id in chain for share in scheme.shares)


__all__ = [
    "PermissionDenied",
    "SchemeError",
    "add_component",
    "add_question",
    "add_tariff",
    "add_window",
    "close_scheme",
    "commissioner_scope",
    "component_terms",
    "create_scheme",
    "delete_scheme",
    "generate_windows",
    "publication_problems",
    "publish_scheme",
    "remove_component",
    "remove_question",
    "remove_tariff",
    "remove_window",
    "tariff_for_period",
    "update_component",
    "update_question",
    "update_scheme",
    "update_tariff",
    "update_window",
]
