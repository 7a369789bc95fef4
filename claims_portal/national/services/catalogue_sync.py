"""Bringing a loaded service up to a newer version of its data file, field by field, each
change audited (``catalogue.py`` reads and checks the file; this applies it).

What a newer file says wins for the service's fields, groups, indicators, achievement dates
and reference values: an indicator or group the file no longer lists is removed, unless
achievement data was entered against the group (``catalogue.py`` refuses that file before
anything changes). National
prevalences are only added or changed, never removed: administrators add each year's figures
when they are published, and a file without them keeps theirs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.audit.services import record_event
from claims_portal.db import DbSession
from claims_portal.national.models import (
    AchievementDate,
    DataSubmission,
    IndicatorGroup,
    NationalPrevalence,
    QualityIndicator,
    QualityService,
    ServiceReference,
)
from claims_portal.organisations.models import Organisation


def changed_fields(row: Any, values: Mapping[str, Any], names: Iterable[str]) -> list[str]:
    return [name for name in names if name in values and getattr(row, name) != values[name]]


def apply_audited(
    session: DbSession,
    row: Any,
    values: Mapping[str, Any],
    names: Iterable[str],
    *,
    action: str,
    actor: User | None,
    organisation: Organisation | None = None,
    reason: str | None = None,
) -> bool:
    """Set the fields of ``row`` that differ and record ``action`` with them before and
    after; False (nothing recorded) when none differs."""
    changed = changed_fields(row, values, names)
    if not changed:
        return False
    before = {name: getattr(row, name) for name in changed}
    for name in changed:
        setattr(row, name, values[name])
    session.flush()
    record_event(
        session,
        action=action,
        object_type=row.__tablename__,
        object_id=row.id,
        actor=actor,
        organisation=organisation,
        before=before,
        after={name: getattr(row, name) for name in changed},
        reason=reason,
    )
    return True


def _event(session: DbSession, action: str, row: Any, who: Who, **snapshot: Any) -> None:
    record_event(
        session,
        action=action,
        object_type=row.__tablename__,
        object_id=row.id,
        actor=who.actor,
        organisation=who.organisation,
        **snapshot,
    )


@dataclass(frozen=True)
class Who:
    """Who a load's events are recorded as: the person (None: the system) and the
    organisation (the national commissioner, so that its administrators see the history)."""

    actor: User | None
    organisation: Organisation | None


def sync_service(
    session: DbSession, service: QualityService, content: dict[str, Any], who: Who
) -> int:
    """Apply a newer file's ``content`` to ``service``; the number of changes recorded."""
    reason = f"loaded from {content['data_version']}"
    values = {**content["service"], "data_version": content["data_version"]}
    names = (*content["service"], "data_version")
    changes = int(
        apply_audited(
            session,
            service,
            values,
            names,
            action="quality_service.updated",
            actor=who.actor,
            organisation=who.organisation,
            reason=reason,
        )
    )
    groups, added = _sync_groups(session, service, content["groups"], who)
    changes += added
    changes += _sync_indicators(session, service, content["indicators"], groups, who)
    changes += _remove_groups(session, service, content["groups"], who)
    changes += _sync_dates(session, service, content["dates"], who)
    changes += _sync_reference(session, service, content["reference"], who)
    changes += _sync_prevalences(session, service, content["prevalences"], who)
    return changes


def _sync_groups(
    session: DbSession,
    service: QualityService,
    wanted: Mapping[str, dict[str, Any]],
    who: Who,
) -> tuple[dict[str, IndicatorGroup], int]:
    existing = {
        g.code: g for g in session.scalars(select(IndicatorGroup).filter_by(service_id=service.id))
    }
    changes = 0
    for code, values in wanted.items():
        group = existing.get(code)
        if group is None:
            group = IndicatorGroup(service_id=service.id, code=code, **values)
            session.add(group)
            session.flush()
            _event(session, "indicator_group.added", group, who, after={"code": code, **values})
            existing[code] = group
            changes += 1
        else:
            changes += apply_audited(
                session,
                group,
                values,
                values.keys(),
                action="indicator_group.updated",
                actor=who.actor,
                organisation=who.organisation,
            )
    return existing, changes


def _remove_groups(
    session: DbSession,
    service: QualityService,
    wanted: Mapping[str, Any],
    who: Who,
) -> int:
    changes = 0
    for group in list(session.scalars(select(IndicatorGroup).filter_by(service_id=service.id))):
        if group.code in wanted:
            continue
        _event(session, "indicator_group.removed", group, who, before={"code": group.code})
        session.delete(group)
        changes += 1
    session.flush()
    return changes


def groups_in_use(session: DbSession, service: QualityService, kept: Iterable[str]) -> list[str]:
    """The codes of the service's groups not in ``kept`` that achievement data names."""
    return list(
        session.scalars(
            select(IndicatorGroup.code)
            .where(
                IndicatorGroup.service_id == service.id,
                IndicatorGroup.code.not_in(list(kept)),
                select(DataSubmission.id)
                .where(DataSubmission.group_id == IndicatorGroup.id)
                .exists(),
            )
            .order_by(IndicatorGroup.code)
        )
    )


def _sync_indicators(
    session: DbSession,
    service: QualityService,
    wanted: Mapping[str, dict[str, Any]],
    groups: Mapping[str, IndicatorGroup],
    who: Who,
) -> int:
    existing = {
        i.code: i
        for i in session.scalars(select(QualityIndicator).filter_by(service_id=service.id))
    }
    changes = 0
    for code, values in wanted.items():
        fields = {k: v for k, v in values.items() if k != "group_code"}
        fields["group_id"] = groups[values["group_code"]].id
        indicator = existing.pop(code, None)
        if indicator is None:
            indicator = QualityIndicator(service_id=service.id, code=code, **fields)
            session.add(indicator)
            session.flush()
            _event(
                session, "quality_indicator.added", indicator, who, after={"code": code, **values}
            )
            changes += 1
        else:
            changes += apply_audited(
                session,
                indicator,
                fields,
                fields.keys(),
                action="quality_indicator.updated",
                actor=who.actor,
                organisation=who.organisation,
            )
    for indicator in existing.values():
        _event(
            session, "quality_indicator.removed", indicator, who, before={"code": indicator.code}
        )
        session.delete(indicator)
        changes += 1
    session.flush()
    return changes


def _sync_dates(
    session: DbSession, service: QualityService, wanted: Mapping[dt.date, bool], who: Who
) -> int:
    existing = {
        d.date: d for d in session.scalars(select(AchievementDate).filter_by(service_id=service.id))
    }
    changes = 0
    for day, payment in wanted.items():
        row = existing.pop(day, None)
        if row is None:
            row = AchievementDate(service_id=service.id, date=day, is_payment_date=payment)
            session.add(row)
            session.flush()
            _event(
                session,
                "achievement_date.added",
                row,
                who,
                after={"service": service.code, "date": day, "is_payment_date": payment},
            )
            changes += 1
        else:
            changes += apply_audited(
                session,
                row,
                {"is_payment_date": payment},
                ("is_payment_date",),
                action="achievement_date.updated",
                actor=who.actor,
                organisation=who.organisation,
            )
    for row in existing.values():
        _event(session, "achievement_date.removed", row, who, before={"date": row.date})
        session.delete(row)
        changes += 1
    session.flush()
    return changes


def _sync_reference(
    session: DbSession,
    service: QualityService,
    wanted: Mapping[str, Any] | None,
    who: Who,
) -> int:
    if wanted is None:
        return 0
    reference = session.scalar(select(ServiceReference).filter_by(service_id=service.id))
    if reference is None:
        reference = ServiceReference(service_id=service.id, **wanted)
        session.add(reference)
        session.flush()
        _event(session, "service_reference.added", reference, who, after=dict(wanted))
        return 1
    return int(
        apply_audited(
            session,
            reference,
            wanted,
            wanted.keys(),
            action="service_reference.updated",
            actor=who.actor,
            organisation=who.organisation,
        )
    )


def _sync_prevalences(
    session: DbSession,
    service: QualityService,
    wanted: Mapping[str, tuple[Any, str]],
    who: Who,
) -> int:
    changes = 0
    for register, (value, source) in wanted.items():
        changes += set_prevalence(
            session,
            service,
            register,
            value,
            source,
            actor=who.actor,
            organisation=who.organisation,
        )
    return changes


def set_prevalence(
    session: DbSession,
    service: QualityService,
    register: str,
    value: Any,
    source: str,
    *,
    actor: User | None,
    organisation: Organisation | None = None,
) -> bool:
    """Add or change one register's national prevalence, audited; False when unchanged."""
    row = session.scalar(
        select(NationalPrevalence).filter_by(service_id=service.id, register=register)
    )
    if row is None:
        row = NationalPrevalence(
            service_id=service.id, register=register, prevalence=value, source=source
        )
        session.add(row)
        session.flush()
        record_event(
            session,
            action="national_prevalence.added",
            object_type=row.__tablename__,
            object_id=row.id,
            actor=actor,
            organisation=organisation,
            after={"service": service.code, "register": register, "prevalence": value},
        )
        return True
    return apply_audited(
        session,
        row,
        {"prevalence": value, "source": source},
        ("prevalence", "source"),
        action="national_prevalence.updated",
        actor=actor,
        organisation=organisation,
    )


__all__ = [
    "Who",
    "apply_audited",
    "changed_fields",
    "groups_in_use",
    "set_prevalence",
    "sync_service",
]
