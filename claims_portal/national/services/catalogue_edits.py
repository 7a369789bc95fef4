"""National administrators' edits to the catalogue: a service's dates and flags, an
indicator's points, thresholds and description, the year's reference values and national
prevalences. Each needs ``CONFIGURE_NATIONAL_SERVICES`` at the national commissioner
(``PermissionDenied`` otherwise), is validated (``CatalogueError`` lists every problem), and
is audited with the changed fields before and after: the audit trail is the history.

A later version of the service's data file overwrites edited fields it also sets (see
``catalogue_sync.py``); edits stay while the loaded version stays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import PermissionDenied, ensure_capability
from claims_portal.audit.services import record_event
from claims_portal.db import DbSession
from claims_portal.national.models import (
    AchievementDate,
    DataSubmission,
    IndicatorPurpose,
    QualityIndicator,
    QualityService,
    ServiceReference,
)
from claims_portal.national.services.catalogue import CatalogueError, threshold_problems
from claims_portal.national.services.catalogue_sync import apply_audited, set_prevalence
from claims_portal.organisations.models import Organisation, OrganisationKind
from claims_portal.rules import Problem

EDITABLE_SERVICE_FIELDS = (
    "name",
    "start_date",
    "end_date",
    "response_date",
    "automatically_accepted",
    "declaration_required",
    "approval_required",
    "amendment_window_days",
    "source",
)
EDITABLE_INDICATOR_FIELDS = (
    "description",
    "points",
    "lower_threshold",
    "upper_threshold",
    "prevalence_register",
    "purpose",
    "manual",
    "tick_box",
)
EDITABLE_REFERENCE_FIELDS = (
    "pounds_per_point",
    "national_average_list_size",
    "aspiration_share",
    "source",
)


def can_configure_national_services(user: User, organisation: Organisation | None) -> bool:
    """Whether ``user`` may edit the catalogue acting for ``organisation``: an administrator
    of the national commissioner (an ICB's administrator may not)."""
    from claims_portal.access.services.permissions import has_capability

    return (
        organisation is not None
        and organisation.kind is OrganisationKind.NATIONAL_COMMISSIONER
        and has_capability(user, Capability.CONFIGURE_NATIONAL_SERVICES, organisation)
    )


def ensure_national_administrator(user: User, organisation: Organisation) -> None:
    if organisation.kind is not OrganisationKind.NATIONAL_COMMISSIONER:
        raise PermissionDenied(
            f"{user.email} may not configure national services for {organisation.ods_code}:"
            " only the national commissioner may"
        )
    ensure_capability(user, Capability.CONFIGURE_NATIONAL_SERVICES, organisation)


def _unknown(changes: Mapping[str, Any], allowed: tuple[str, ...], what: str) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise TypeError(f"unknown {what} fields: {sorted(unknown)}")


def _decimal(
    raw: Any, field: str, label: str, problems: list[Problem], *, optional: bool = True
) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if not optional:
            problems.append(Problem(f"Enter the {label}", field))
        return None
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    except InvalidOperation:
        problems.append(Problem(f"The {label} must be a number", field))
        return None
    if not value.is_finite() or value < 0:
        problems.append(Problem(f"The {label} must be a number, 0 or more", field))
        return None
    return value


def update_service(
    session: DbSession,
    service: QualityService,
    *,
    actor: User,
    organisation: Organisation,
    **changes: Any,
) -> bool:
    """Change a service's name, dates, flags, amendment window or source; False when
    nothing changed."""
    ensure_national_administrator(actor, organisation)
    _unknown(changes, EDITABLE_SERVICE_FIELDS, "service")
    merged = {name: getattr(service, name) for name in EDITABLE_SERVICE_FIELDS} | changes
    problems: list[Problem] = []
    merged["name"] = " ".join(str(merged["name"] or "").split())
    if not merged["name"]:
        problems.append(Problem("Enter the service's name", "name"))
    for field in ("start_date", "end_date"):
        if not isinstance(merged[field], dt.date):
            problems.append(Problem(f"Enter the service's {field.replace('_', ' ')}", field))
    start, end = merged["start_date"], merged["end_date"]
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        problems.append(Problem("The service cannot end before it starts", "end_date"))
    window = merged["amendment_window_days"]
    if window is not None and (not isinstance(window, int) or window < 0):
        problems.append(
            Problem(
                "The amendment window is a whole number of days, 0 or more", "amendment_window_days"
            )
        )
    if problems:
        raise CatalogueError(problems)
    merged["source"] = str(merged["source"] or "")
    return apply_audited(
        session,
        service,
        merged,
        EDITABLE_SERVICE_FIELDS,
        action="quality_service.updated",
        actor=actor,
        organisation=organisation,
    )


def update_indicator(
    session: DbSession,
    indicator: QualityIndicator,
    *,
    actor: User,
    organisation: Organisation,
    **changes: Any,
) -> bool:
    """Change an indicator's description, points, thresholds (fractions), register, purpose
    or flags; False when nothing changed."""
    ensure_national_administrator(actor, organisation)
    _unknown(changes, EDITABLE_INDICATOR_FIELDS, "indicator")
    merged = {name: getattr(indicator, name) for name in EDITABLE_INDICATOR_FIELDS} | changes
    problems: list[Problem] = []
    merged["description"] = " ".join(str(merged["description"] or "").split())
    if not merged["description"]:
        problems.append(Problem("Enter what the indicator measures", "description"))
    merged["points"] = _decimal(merged["points"], "points", "points", problems, optional=False)
    for field in ("lower_threshold", "upper_threshold"):
        merged[field] = _decimal(merged[field], field, field.replace("_", " "), problems)
    register = str(merged["prevalence_register"] or "").strip().upper()
    merged["prevalence_register"] = register or None
    if not isinstance(merged["purpose"], IndicatorPurpose):
        problems.append(Problem("Choose payment or management information", "purpose"))
    if not problems:
        problems += [
            Problem(message, "lower_threshold")
            for message in threshold_problems(merged, f"Indicator {indicator.code}")
        ]
    if problems:
        raise CatalogueError(problems)
    return apply_audited(
        session,
        indicator,
        merged,
        EDITABLE_INDICATOR_FIELDS,
        action="quality_indicator.updated",
        actor=actor,
        organisation=organisation,
    )


def update_reference(
    session: DbSession,
    service: QualityService,
    *,
    actor: User,
    organisation: Organisation,
    **changes: Any,
) -> ServiceReference:
    """Set the year's reference values (added when the service has none yet)."""
    ensure_national_administrator(actor, organisation)
    _unknown(changes, EDITABLE_REFERENCE_FIELDS, "reference")
    reference = session.scalar(select(ServiceReference).filter_by(service_id=service.id))
    current = {name: getattr(reference, name, None) for name in EDITABLE_REFERENCE_FIELDS}
    merged = current | changes
    problems: list[Problem] = []
    merged["pounds_per_point"] = _decimal(
        merged["pounds_per_point"], "pounds_per_point", "pounds per point", problems
    )
    share = _decimal(merged["aspiration_share"], "aspiration_share", "aspiration share", problems)
    if share is not None and share > 1:
        problems.append(
            Problem("The aspiration share is a fraction of 1 (0.80 is 80%)", "aspiration_share")
        )
    merged["aspiration_share"] = share
    size = merged["national_average_list_size"]
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        problems.append(
            Problem(
                "The national average list size is a whole number, 1 or more",
                "national_average_list_size",
            )
        )
    if problems:
        raise CatalogueError(problems)
    merged["source"] = str(merged["source"] or "")
    if reference is None:
        reference = ServiceReference(service_id=service.id)
        for name in EDITABLE_REFERENCE_FIELDS:
            setattr(reference, name, None if name != "source" else "")
        session.add(reference)
        session.flush()
    apply_audited(
        session,
        reference,
        merged,
        EDITABLE_REFERENCE_FIELDS,
        action="service_reference.updated",
        actor=actor,
        organisation=organisation,
    )
    return reference


def set_national_prevalence(
    session: DbSession,
    service: QualityService,
    *,
    register: str,
    prevalence: Any,
    source: str = "",
    actor: User,
    organisation: Organisation,
) -> bool:
    """Add or change a register's national prevalence (a fraction above 0, at most 1)."""
    ensure_national_administrator(actor, organisation)
    problems: list[Problem] = []
    code = str(register or "").strip().upper()
    if not code or len(code) > 20:
        problems.append(Problem("Enter the register's code (up to 20 characters)", "register"))
    value = _decimal(prevalence, "prevalence", "prevalence", problems, optional=False)
    if value is not None and not 0 < value <= 1:
        problems.append(
            Problem(
                "The prevalence is a fraction above 0, at most 1 (0.0215 is 2.15%)", "prevalence"
            )
        )
    if problems:
        raise CatalogueError(problems)
    return set_prevalence(
        session, service, code, value, str(source or ""), actor=actor, organisation=organisation
    )


def set_achievement_date(
    session: DbSession,
    service: QualityService,
    day: dt.date,
    *,
    is_payment_date: bool,
    actor: User,
    organisation: Organisation,
) -> AchievementDate:
    """Add an achievement date (a month end within the service dates) or change whether it
    is a payment date; audited."""
    ensure_national_administrator(actor, organisation)
    if not isinstance(day, dt.date) or (day + dt.timedelta(days=1)).day != 1:
        raise CatalogueError(Problem("An achievement date is the last day of a month", "date"))
    if not service.start_date <= day <= service.end_date:
        raise CatalogueError(
            Problem("The achievement date must be within the service dates", "date")
        )
    row = session.scalar(select(AchievementDate).filter_by(service_id=service.id, date=day))
    if row is None:
        row = AchievementDate(service_id=service.id, date=day, is_payment_date=is_payment_date)
        session.add(row)
        session.flush()
        record_event(
            session,
            action="achievement_date.added",
            object_type=row.__tablename__,
            object_id=row.id,
            actor=actor,
            organisation=organisation,
            after={"service": service.code, "date": day, "is_payment_date": is_payment_date},
        )
        return row
    apply_audited(
        session,
        row,
        {"is_payment_date": is_payment_date},
        ("is_payment_date",),
        action="achievement_date.updated",
        actor=actor,
        organisation=organisation,
    )
    return row


def remove_achievement_date(
    session: DbSession, row: AchievementDate, *, actor: User, organisation: Organisation
) -> None:
    """Remove an achievement date no achievement data was entered for; audited."""
    ensure_national_administrator(actor, organisation)
    used = session.scalar(
        select(DataSubmission.id)
        .where(
            DataSubmission.service_id == row.service_id,
            DataSubmission.achievement_date == row.date,
        )
        .limit(1)
    )
    if used is not None:
        raise CatalogueError("Achievement data was entered for this date, so it cannot be removed")
    record_event(
        session,
        action="achievement_date.removed",
        object_type=row.__tablename__,
        object_id=row.id,
        actor=actor,
        organisation=organisation,
        before={"date": row.date, "is_payment_date": row.is_payment_date},
    )
    session.delete(row)
    session.flush()
