"""The Achievement Summary (issue 16, "Calculation and what providers see"): a provider's
calculated achievement for a service and achievement date, by domain and indicator group,
with how each figure was worked out; the data still missing; and a commissioner's list of
its providers' totals.

The figures are the stored calculation (``CalculatedAchievement``), never recalculated here.
Each indicator's steps are rebuilt by the calculation core from the stored snapshot (the
counts, list size, registers and reference values it used) and checked against the stored
payment; when the service's definitions or reference values have changed since, the summary
says the result is out of date and shows the stored figures without steps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Select, func, select

from claims_portal import calculation
from claims_portal.db import DbSession
from claims_portal.national.models import (
    CalculatedAchievement,
    IndicatorGroup,
    IndicatorPurpose,
    QualityIndicator,
    QualityService,
)
from claims_portal.national.services import core_inputs
from claims_portal.national.services.calculate import definitions_fingerprint
from claims_portal.organisations.models import Organisation, OrganisationKind
from claims_portal.rules import RuleError

PAGE_SIZE = 100
_S = TypeVar("_S", bound="Select[*tuple[Any, ...]]")


@dataclass(frozen=True)
class IndicatorLine:
    """One indicator's row of the summary."""

    code: str
    description: str
    max_points: Decimal
    tick_box: bool
    register: str | None
    points: Decimal
    payment: Decimal
    achievement: Decimal | None
    prevalence_factor: Decimal | None
    numerator: int | None = None
    denominator: int | None = None
    pcas: int | None = None
    exclusions: int | None = None
    answer: bool | None = None
    #: The core's steps (``Step.as_dict()``), or None when the result is out of date.
    steps: tuple[dict[str, Any], ...] | None = None

    @property
    def has_data(self) -> bool:
        return self.numerator is not None or self.answer is not None

    @property
    def cohort(self) -> int | None:
        if self.denominator is None:
            return None
        return self.denominator - (self.pcas or 0) - (self.exclusions or 0)


@dataclass(frozen=True)
class GroupLines:
    domain_code: str
    domain_description: str
    code: str
    description: str
    lines: tuple[IndicatorLine, ...]

    @property
    def points(self) -> Decimal:
        return sum((line.points for line in self.lines), Decimal(0))

    @property
    def max_points(self) -> Decimal:
        return sum((line.max_points for line in self.lines), Decimal(0))

    @property
    def payment(self) -> Decimal:
        return sum((line.payment for line in self.lines), Decimal("0.00"))


@dataclass(frozen=True)
class DomainTotal:
    code: str
    description: str
    points: Decimal
    payment: Decimal


@dataclass(frozen=True)
class Prevalence:
    register: str
    size: int
    national: Decimal | None
    factor: Decimal | None


@dataclass(frozen=True)
class AchievementSummary:
    service: QualityService
    provider: Organisation
    achievement_date: dt.date
    calculated_at: dt.datetime
    list_size: int
    contractor_population_index: Decimal
    pounds_per_point: Decimal
    national_average_list_size: int
    points: Decimal
    total: Decimal
    groups: tuple[GroupLines, ...]
    prevalences: tuple[Prevalence, ...]
    #: The service's definitions or reference values changed since it was calculated.
    out_of_date: bool
    total_steps: tuple[dict[str, Any], ...] = field(default=())

    @property
    def domains(self) -> tuple[DomainTotal, ...]:
        order: dict[str, DomainTotal] = {}
        for group in self.groups:
            known = order.get(group.domain_code)
            order[group.domain_code] = DomainTotal(
                group.domain_code,
                group.domain_description,
                (known.points if known else Decimal(0)) + group.points,
                (known.payment if known else Decimal("0.00")) + group.payment,
            )
        return tuple(order.values())

    @property
    def lines(self) -> tuple[IndicatorLine, ...]:
        return tuple(line for group in self.groups for line in group.lines)

    @property
    def max_points(self) -> Decimal:
        return sum((group.max_points for group in self.groups), Decimal(0))

    def filename(self, extension: str) -> str:
        """``achievement-QOF-2025-26-A81001-2026-03-31.pdf``."""
        year = self.service.year_label.replace("/", "-")
        return (
            f"achievement-{self.service.code}-{year}-{self.provider.ods_code}-"
            f"{self.achievement_date.isoformat()}.{extension}"
        )


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def calculated_for(
    session: DbSession, service_id: int, provider_id: int, achievement_date: dt.date
) -> CalculatedAchievement | None:
    return session.scalar(
        select(CalculatedAchievement).where(
            CalculatedAchievement.service_id == service_id,
            CalculatedAchievement.provider_id == provider_id,
            CalculatedAchievement.achievement_date == achievement_date,
        )
    )


def summary_for(
    session: DbSession, service: QualityService, provider: Organisation, achievement_date: dt.date
) -> AchievementSummary | None:
    """The provider's summary, or None when nothing has been calculated for it yet."""
    calculated = calculated_for(session, service.id, provider.id, achievement_date)
    if calculated is None:
        return None
    figures: dict[str, Any] = (calculated.explanation or {}).get("figures", {})
    entries = {entry["code"]: entry for entry in calculated.indicators}
    indicator_set = core_inputs.indicator_set_for(session, service)
    steps, total_steps = _rebuilt_steps(session, service, indicator_set, calculated, figures)
    groups = []
    for group, rows in _payment_groups(session, service):
        lines = tuple(
            _line(row, entries.get(row.code), None if steps is None else steps.get(row.code))
            for row in rows
        )
        groups.append(
            GroupLines(
                group.domain_code, group.domain_description, group.code, group.description, lines
            )
        )
    return AchievementSummary(
        service=service,
        provider=provider,
        achievement_date=achievement_date,
        calculated_at=calculated.calculated_at,
        list_size=calculated.list_size or 0,
        contractor_population_index=Decimal(
            figures.get("contractor_population_index")
            or str(calculated.contractor_population_index or 0)
        ),
        pounds_per_point=Decimal(figures.get("pounds_per_point", "0")),
        national_average_list_size=figures.get("national_average_list_size") or 0,
        points=Decimal(figures.get("total_points") or calculated.points),
        total=calculated.total,
        groups=tuple(groups),
        prevalences=_prevalences(groups, figures),
        out_of_date=steps is None,
        total_steps=total_steps,
    )


def _payment_groups(
    session: DbSession, service: QualityService
) -> list[tuple[IndicatorGroup, list[QualityIndicator]]]:
    rows = core_inputs.payment_indicators(session, service)
    groups: dict[int, tuple[IndicatorGroup, list[QualityIndicator]]] = {}
    for row in rows:
        groups.setdefault(row.group_id, (row.group, []))[1].append(row)
    return list(groups.values())


def _line(
    row: QualityIndicator, entry: dict[str, Any] | None, steps: tuple[dict[str, Any], ...] | None
) -> IndicatorLine:
    entry = entry or {}
    return IndicatorLine(
        code=row.code,
        description=row.description,
        max_points=Decimal(row.points),
        tick_box=row.tick_box,
        register=row.prevalence_register,
        points=Decimal(entry.get("points", "0")),
        payment=Decimal(entry.get("payment", "0.00")),
        achievement=_decimal(entry.get("achievement")),
        prevalence_factor=_decimal(entry.get("prevalence_factor")),
        numerator=entry.get("numerator"),
        denominator=entry.get("denominator"),
        pcas=entry.get("pcas"),
        exclusions=entry.get("exclusions"),
        answer=entry.get("answer"),
        steps=steps,
    )


def _prevalences(groups: Sequence[GroupLines], figures: dict[str, Any]) -> tuple[Prevalence, ...]:
    factors: dict[str, Decimal] = {}
    for group in groups:
        for line in group.lines:
            if line.register is not None and line.prevalence_factor is not None:
                factors.setdefault(line.register, line.prevalence_factor)
    national = figures.get("national_prevalence", {})
    return tuple(
        Prevalence(register, size, _decimal(national.get(register)), factors.get(register))
        for register, size in sorted(figures.get("registers", {}).items())
    )


def _rebuilt_steps(
    session: DbSession,
    service: QualityService,
    indicator_set: calculation.IndicatorSet,
    calculated: CalculatedAchievement,
    figures: dict[str, Any],
) -> tuple[dict[str, tuple[dict[str, Any], ...]] | None, tuple[dict[str, Any], ...]]:
    """Each indicator's steps as the core works them out from the stored snapshot, or None
    when the snapshot no longer matches the service (definitions or reference changed)."""
    total_steps = tuple((calculated.explanation or {}).get("steps", ()))
    try:
        reference_data = core_inputs.reference_data_for(session, service)
        current = definitions_fingerprint(indicator_set, reference_data)
    except (RuleError, calculation.CalculationError):
        return None, total_steps
    if not figures or figures.get("definitions_sha256") != current:
        return None, total_steps
    records: list[calculation.Achievement | calculation.TickBoxAnswer] = []
    for entry in calculated.indicators:
        if "answer" in entry:
            records.append(calculation.TickBoxAnswer(entry["code"], entry["answer"]))
        elif "numerator" in entry:
            records.append(
                calculation.Achievement(
                    entry["code"],
                    entry["numerator"],
                    entry["denominator"],
                    entry["pcas"],
                    entry["exclusions"],
                )
            )
    submission = calculation.AchievementSubmission(
        organisation_code=figures["organisation"],
        list_size=figures["list_size"],
        registers=figures["registers"],
        records=tuple(records),
        achievement_date=calculated.achievement_date,
    )
    result = calculation.calculate_achievement(submission, indicator_set, reference_data)
    if result.total != calculated.total:
        return None, total_steps
    steps = {
        item.code: tuple(step.as_dict() for step in item.explanation.steps)
        for item in result.results
    }
    return steps, tuple(step.as_dict() for step in result.explanation.steps)


# --- Missing data ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MissingIndicator:
    code: str
    description: str
    #: What is still to come: "numerator", "denominator", "answer (yes or no)", "register HYP".
    missing: tuple[str, ...]


@dataclass(frozen=True)
class GroupCompleteness:
    code: str
    description: str
    domain_description: str
    indicators: int
    submitted: int
    missing: tuple[MissingIndicator, ...]

    @property
    def complete(self) -> bool:
        return self.submitted == self.indicators


@dataclass(frozen=True)
class MissingData:
    list_size_missing: bool
    groups: tuple[GroupCompleteness, ...]

    @property
    def complete(self) -> bool:
        return not self.list_size_missing and all(g.complete for g in self.groups)


def missing_data(
    session: DbSession, service: QualityService, provider: Organisation, achievement_date: dt.date
) -> MissingData:
    """Per indicator group, how many indicators have their figures ("2 of 2") and what each
    incomplete one lacks, from the current figures (whether or not calculated yet)."""
    values = core_inputs.current_values(session, service.id, achievement_date, [provider.id]).get(
        provider.id, {}
    )
    rows = session.execute(
        select(IndicatorGroup, QualityIndicator)
        .join(QualityIndicator, QualityIndicator.group_id == IndicatorGroup.id)
        .where(IndicatorGroup.service_id == service.id)
        .order_by(IndicatorGroup.position, IndicatorGroup.code, QualityIndicator.code)
    ).all()
    grouped: dict[int, tuple[IndicatorGroup, list[QualityIndicator]]] = {}
    for group, indicator in rows:
        grouped.setdefault(group.id, (group, []))[1].append(indicator)
    groups = []
    for group, indicators in grouped.values():
        missing = []
        for indicator in indicators:
            lacking = _lacking(indicator, values)
            if lacking:
                missing.append(MissingIndicator(indicator.code, indicator.description, lacking))
        groups.append(
            GroupCompleteness(
                group.code,
                group.description,
                group.domain_description,
                len(indicators),
                len(indicators) - len(missing),
                tuple(missing),
            )
        )
    return MissingData(
        list_size_missing=(core_inputs.LIST_SIZE_CODE, "LIST_SIZE") not in values,
        groups=tuple(groups),
    )


def _lacking(indicator: QualityIndicator, values: core_inputs.Values) -> tuple[str, ...]:
    code = indicator.code
    if indicator.tick_box:
        return () if (code, "ANSWER") in values else ("answer (yes or no)",)
    lacking = [name.lower() for name in ("NUMERATOR", "DENOMINATOR") if (code, name) not in values]
    register = indicator.prevalence_register
    if (
        indicator.purpose is IndicatorPurpose.PAYMENT
        and register
        and (register, "REGISTER") not in values
    ):
        lacking.append(f"register {register}")
    return tuple(lacking)


# --- Who sees what ----------------------------------------------------------------------------


def can_see(viewer: Organisation, provider: Organisation) -> bool:
    """Whether ``viewer`` (the current organisation) sees ``provider``'s achievement: itself,
    a commissioner above it (its parent chain), or the national commissioner."""
    if viewer.id == provider.id or viewer.kind is OrganisationKind.NATIONAL_COMMISSIONER:
        return True
    if not viewer.kind.is_commissioner:
        return False
    seen: set[int] = set()
    node = provider.parent
    while node is not None and node.id not in seen:
        if node.id == viewer.id:
            return True
        seen.add(node.id)
        node = node.parent
    return False


def _descendant_ids(commissioner: Organisation) -> Select[tuple[int]]:
    tree = (
        select(Organisation.id)
        .where(Organisation.parent_id == commissioner.id)
        .cte("achievement_tree", recursive=True)
    )
    tree = tree.union_all(select(Organisation.id).where(Organisation.parent_id == tree.c.id))
    return select(tree.c.id)


def _visible(statement: _S, viewer: Organisation) -> _S:
    if viewer.kind is OrganisationKind.NATIONAL_COMMISSIONER:
        return statement
    if viewer.kind.is_commissioner:
        return statement.where(CalculatedAchievement.provider_id.in_(_descendant_ids(viewer)))
    return statement.where(CalculatedAchievement.provider_id == viewer.id)


@dataclass(frozen=True)
class CalculatedDate:
    """A service and achievement date with results the viewer may see."""

    service: QualityService
    achievement_date: dt.date
    providers: int
    total: Decimal


def calculated_dates(session: DbSession, viewer: Organisation) -> list[CalculatedDate]:
    """The services and dates with calculated achievement the viewer sees, newest first."""
    statement = _visible(
        select(
            CalculatedAchievement.service_id,
            CalculatedAchievement.achievement_date,
            func.count(),
            func.sum(CalculatedAchievement.total),
        ).group_by(CalculatedAchievement.service_id, CalculatedAchievement.achievement_date),
        viewer,
    )
    rows = session.execute(statement).all()
    services = {
        s.id: s
        for s in session.scalars(
            select(QualityService).where(QualityService.id.in_({row[0] for row in rows}))
        )
    }
    found = [CalculatedDate(services[row[0]], row[1], row[2], row[3]) for row in rows]
    found.sort(key=lambda d: (d.achievement_date, d.service.code), reverse=True)
    return found


@dataclass(frozen=True)
class ProviderTotal:
    provider: Organisation
    points: Decimal
    total: Decimal
    calculated_at: dt.datetime


@dataclass(frozen=True)
class ProviderTotals:
    rows: Sequence[ProviderTotal]
    count: int
    total: Decimal
    page: int
    pages: int


def provider_totals(
    session: DbSession,
    viewer: Organisation,
    service: QualityService,
    achievement_date: dt.date,
    page: int = 1,
) -> ProviderTotals:
    """The viewer's providers' totals for the service and date (by name, a page at a time),
    with their count and overall sum."""
    where = (
        CalculatedAchievement.service_id == service.id,
        CalculatedAchievement.achievement_date == achievement_date,
    )
    count, overall = session.execute(
        _visible(
            select(func.count(), func.coalesce(func.sum(CalculatedAchievement.total), 0)).where(
                *where
            ),
            viewer,
        )
    ).one()
    pages = max(1, -(-count // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = session.execute(
        _visible(
            select(CalculatedAchievement, Organisation)
            .join(Organisation, Organisation.id == CalculatedAchievement.provider_id)
            .where(*where)
            .order_by(Organisation.name, Organisation.id)
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE),
            viewer,
        )
    ).all()
    return ProviderTotals(
        rows=[
            ProviderTotal(provider, calc.points, calc.total, calc.calculated_at)
            for calc, provider in rows
        ],
        count=count,
        total=Decimal(overall).quantize(Decimal("0.01")),
        page=page,
        pages=pages,
    )


# --- Figures as pages show them ---------------------------------------------------------------


def points_text(value: Decimal | None) -> str:
    """Points to two places (``35.20``); exact figures are in the steps and downloads."""
    return "" if value is None else f"{value.quantize(Decimal('0.01')):,}"


def percent_text(value: Decimal | None) -> str:
    """An achievement rate as a percentage to one place (``80.0%``); empty for none."""
    return "" if value is None else f"{(value * 100).quantize(Decimal('0.1'))}%"
