"""Components and their tariff history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from claims_portal.access.models import User
from claims_portal.db import DbSession
from claims_portal.formatting import long_date
from claims_portal.schemes.models import (
    Component,
    Scheme,
    Tariff,
)
from claims_portal.schemes.services._common import (
    _CODE,
    SchemeError,
    _audit,
    _changes,
    _ensure_draft,
    _ensure_not_closed,
    _snapshot,
    _text,
    ensure_can_configure,
    parse_money,
)
from claims_portal.schemes.services.claims_usage import claims_usage

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
                problems += error.messages
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
    """Whether a submitted claim was priced with ``tariff`` (asked of the claims package)."""
    return claims_usage().tariff_used(tariff)


def _clean_tariff(component: Component, unit_value: object, effective_from: object) -> tuple:
    scheme = component.scheme
    problems = []
    amount = None
    try:
        amount = parse_money(unit_value, "the unit value")
    except SchemeError as error:
        problems += error.messages
    if not isinstance(effective_from, dt.date):
        problems.append("Enter the date the tariff takes effect")
    elif not scheme.start_date <= effective_from <= scheme.end_date:
        problems.append(
            f"The tariff must take effect within the scheme's dates "
            f"({long_date(scheme.start_date)} to {long_date(scheme.end_date)})"
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
            f"{component.code} already has a tariff from {long_date(effective)}: "
            "choose another date"
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
        raise SchemeError(f"{component.code} already has a tariff from {long_date(effective)}")
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


def edit_tariff(
    session: DbSession,
    tariff: Tariff,
    *,
    actor: User,
    unit_value: object,
    effective_from: dt.date,
) -> Tariff:
    """What saving a tariff's edit page does: a draft scheme's tariff is corrected in place
    (:func:`update_tariff`); a published scheme's tariffs are history, so the values given
    become a new dated tariff (:func:`add_tariff`) and this one stays as it was."""
    if tariff.component.scheme.is_draft:
        update_tariff(
            session, tariff, actor=actor, unit_value=unit_value, effective_from=effective_from
        )
        return tariff
    return add_tariff(
        session,
        tariff.component,
        actor=actor,
        unit_value=unit_value,
        effective_from=effective_from,
    )


def tariff_warnings(session: DbSession, component: Component, effective_from: dt.date) -> list[str]:
    """What an administrator should know about a tariff taking effect on ``effective_from``
    (saved all the same): it starts part-way through a claim period (so it prices claims
    from the next period, as :func:`tariff_for_period` reads it), or it is back-dated into
    periods that already have submitted or approved claims (they keep their values)."""
    scheme = component.scheme
    warnings = []
    inside = next(
        (w for w in scheme.windows if w.period_start < effective_from <= w.period_end), None
    )
    if inside is not None:
        following = [w.period_start for w in scheme.windows if w.period_start > effective_from]
        since = f"from {long_date(min(following))}" if following else "from the next period"
        warnings.append(
            f"The tariff from {long_date(effective_from)} starts part-way through the period "
            f"{inside.period_label}: claims for that period keep the earlier value, and the "
            f"new value prices claims {since}"
        )
    claimed = claims_usage().claims_from(session, scheme, effective_from)
    if claimed:
        claims = "claim is" if claimed == 1 else "claims are"
        warnings.append(
            f"The tariff from {long_date(effective_from)} is back-dated: {claimed} {claims} "
            f"already submitted or approved for periods from then, and they keep the values "
            f"they were priced with"
        )
    return warnings


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
