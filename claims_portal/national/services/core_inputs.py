"""The calculation core's inputs, read from the national tables.

- :func:`indicator_set_for` - a service's payment indicators as a ``calculation.IndicatorSet``
  (management-information indicators earn nothing and are left out);
- :func:`reference_data_for` - its year's reference values (pounds per point, national average
  list size, national prevalences) as ``calculation.ReferenceData``;
- :func:`current_values` - the figures that count (``last_submission``) of many providers in
  one query; :func:`build_submission` turns one provider's into a
  ``calculation.AchievementSubmission``; :func:`submission_for` does both for one provider.

Bad or missing data are refused with a :class:`~claims_portal.rules.RuleError` naming the
provider and the indicator, before anything is calculated. Nothing here is cached between
calls: the three reads are small and a cache would outlive an administrator's correction.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from decimal import Decimal

from sqlalchemy import func, select

from claims_portal import calculation
from claims_portal.db import DbSession
from claims_portal.national.models import (
    AchievementValue,
    IndicatorGroup,
    IndicatorPurpose,
    NationalPrevalence,
    QualityIndicator,
    QualityService,
    ServiceReference,
)
from claims_portal.organisations.models import Organisation
from claims_portal.rules import RuleError


class Field(enum.StrEnum):
    """``AchievementValue.field``: what a figure is."""

    NUMERATOR = "NUMERATOR"
    DENOMINATOR = "DENOMINATOR"
    PCAS = "PCAS"
    EXCLUSIONS = "EXCLUSIONS"
    #: A tick-box: 1 yes, 0 no.
    ANSWER = "ANSWER"
    #: A register's size (``code`` is the register).
    REGISTER = "REGISTER"
    #: The practice's list size (``code`` is ``LIST_SIZE``).
    LIST_SIZE = "LIST_SIZE"


LIST_SIZE_CODE = "LIST_SIZE"
COUNT_FIELDS = (Field.NUMERATOR, Field.DENOMINATOR, Field.PCAS, Field.EXCLUSIONS)

#: One provider's current figures: (code, field) -> value.
Values = Mapping[tuple[str, str], int]


def payment_indicators(session: DbSession, service: QualityService) -> list[QualityIndicator]:
    """The service's payment indicators, by group position then code."""
    return list(
        session.scalars(
            select(QualityIndicator)
            .join(IndicatorGroup, IndicatorGroup.id == QualityIndicator.group_id)
            .where(
                QualityIndicator.service_id == service.id,
                QualityIndicator.purpose == IndicatorPurpose.PAYMENT,
            )
            .order_by(IndicatorGroup.position, IndicatorGroup.code, QualityIndicator.code)
        )
    )


def indicator_set_for(session: DbSession, service: QualityService) -> calculation.IndicatorSet:
    """The service's payment indicators as the core's ``IndicatorSet`` (its year)."""
    indicators = []
    for row in payment_indicators(session, service):
        try:
            indicators.append(
                calculation.Indicator(
                    code=row.code,
                    max_points=Decimal(row.points),
                    lower_threshold=row.lower_threshold,
                    upper_threshold=row.upper_threshold,
                    prevalence_register=row.prevalence_register or None,
                    tick_box=row.tick_box,
                    description=row.description,
                )
            )
        except calculation.CalculationError as error:
            raise RuleError(f"{service}: indicator {row.code} cannot be used: {error}") from error
    return calculation.IndicatorSet(
        service=service.code,
        year=calculation.FinancialYear(service.financial_year),
        indicators=tuple(indicators),
    )


def reference_data_for(session: DbSession, service: QualityService) -> calculation.ReferenceData:
    """The service's reference values for its year as the core's ``ReferenceData``.

    A service without pounds per point cannot pay; the national average list size may be
    missing (the core then refuses, as it must not be invented)."""
    reference = session.scalar(
        select(ServiceReference).where(ServiceReference.service_id == service.id)
    )
    if reference is None or reference.pounds_per_point is None:
        raise RuleError(f"{service}: no pounds per point has been set for the year")
    prevalences = {
        row.register: Decimal(row.prevalence).normalize()
        for row in session.scalars(
            select(NationalPrevalence).where(NationalPrevalence.service_id == service.id)
        )
    }
    try:
        yearly = calculation.YearlyReference(
            year=calculation.FinancialYear(service.financial_year),
            pounds_per_point=Decimal(reference.pounds_per_point),
            national_average_list_size=reference.national_average_list_size,
            aspiration_share=reference.aspiration_share,
            national_prevalence=prevalences,
            source=reference.source,
        )
    except calculation.CalculationError as error:
        raise RuleError(f"{service}: the reference values cannot be used: {error}") from error
    return calculation.ReferenceData(service.code, (yearly,))


def check_reference(
    service: QualityService,
    indicator_set: calculation.IndicatorSet,
    reference_data: calculation.ReferenceData,
) -> None:
    """Refuse, naming the indicator, when a figure the calculation needs is missing."""
    yearly = reference_data.for_year(indicator_set.year)
    if yearly.national_average_list_size is None:
        raise RuleError(
            f"{service}: the national average list size for {indicator_set.year} has not been"
            " set (it is needed for the contractor population index)"
        )
    for indicator in indicator_set.indicators:
        register = indicator.prevalence_register
        if register is not None and register not in yearly.national_prevalence:
            raise RuleError(
                f"{service}: indicator {indicator.code} is weighted by register {register},"
                " whose national prevalence has not been set"
            )


def current_values(
    session: DbSession,
    service_id: int,
    achievement_date: dt.date,
    provider_ids: Iterable[int] | None = None,
) -> dict[int, dict[tuple[str, str], int]]:
    """provider id -> its current figures ((code, field) -> value), in one query.

    One row per provider with its codes, fields and values as three arrays (the driver
    decodes arrays in C: a national run reads millions of figures)."""
    values = AchievementValue.__table__.c
    query = (
        select(
            values.provider_id,
            func.array_agg(values.code),
            func.array_agg(values.field),
            func.array_agg(values.value),
        )
        .where(
            values.service_id == service_id,
            values.achievement_date == achievement_date,
            values.last_submission.is_(True),
        )
        .group_by(values.provider_id)
    )
    if provider_ids is not None:
        query = query.where(values.provider_id.in_(list(provider_ids)))
    return {
        provider_id: dict(zip(zip(codes, fields, strict=True), figures, strict=True))
        for provider_id, codes, fields, figures in session.execute(query)
    }


def _record(
    provider: str, indicator: calculation.Indicator, values: Values
) -> calculation.Achievement | calculation.TickBoxAnswer | None:
    code = indicator.code
    get = values.get
    # Plain strings: a StrEnum member hashes in Python, too slow for a national run.
    numerator, denominator = get((code, "NUMERATOR")), get((code, "DENOMINATOR"))
    pcas, exclusions = get((code, "PCAS")), get((code, "EXCLUSIONS"))
    answer = get((code, "ANSWER"))
    no_counts = numerator is None and denominator is None and pcas is None and exclusions is None
    if indicator.tick_box:
        if not no_counts:
            raise RuleError(
                f"{provider} {code}: a tick-box indicator takes a Yes or No, not counts"
            )
        if answer is None:
            return None
        if answer not in (0, 1):
            raise RuleError(
                f"{provider} {code}: a tick-box answer is 1 (Yes) or 0 (No), not {answer}"
            )
        return calculation.TickBoxAnswer(code, answer == 1)
    if answer is not None:
        raise RuleError(f"{provider} {code}: a counted indicator takes counts, not a Yes or No")
    if no_counts:
        return None
    if numerator is None or denominator is None:
        missing = "numerator" if numerator is None else "denominator"
        raise RuleError(f"{provider} {code}: the {missing} is missing")
    try:
        return calculation.Achievement(code, numerator, denominator, pcas or 0, exclusions or 0)
    except calculation.CalculationError as error:
        raise RuleError(f"{provider} {error}") from error


def build_submission(
    provider: str,
    achievement_date: dt.date,
    values: Values,
    indicator_set: calculation.IndicatorSet,
) -> calculation.AchievementSubmission:
    """One provider's current figures as the core's ``AchievementSubmission``.

    ``provider`` is its ODS code. Refuses (``RuleError`` naming provider and indicator):
    no list size; a register missing for an indicator with data; counts for a tick-box or
    an answer for a counted indicator; a numerator or denominator alone; counts the core
    refuses (numerator above the cohort ...). A register needed only by indicators without
    data is taken as 0 (they earn nothing whatever it is)."""
    list_size = values.get((LIST_SIZE_CODE, "LIST_SIZE"))
    if not list_size:
        raise RuleError(f"{provider}: no list size has been submitted for {achievement_date}")
    records = []
    registers: dict[str, int] = {}
    for indicator in indicator_set.indicators:
        record = _record(provider, indicator, values)
        register = indicator.prevalence_register
        if register is not None:
            size = values.get((register, "REGISTER"))
            if size is None and record is not None:
                raise RuleError(
                    f"{provider} {indicator.code}: no size has been submitted for register"
                    f" {register}"
                )
            if size is not None and size > list_size:
                raise RuleError(
                    f"{provider} {indicator.code}: register {register} ({size}) exceeds the"
                    f" list size ({list_size})"
                )
            registers.setdefault(register, size or 0)
        if record is not None:
            records.append(record)
    try:
        return calculation.AchievementSubmission(
            organisation_code=provider,
            list_size=list_size,
            registers=registers,
            records=tuple(records),
            achievement_date=achievement_date,
        )
    except calculation.CalculationError as error:
        raise RuleError(f"{provider}: {error}") from error


def submission_for(
    session: DbSession,
    service: QualityService,
    provider: Organisation,
    achievement_date: dt.date,
    indicator_set: calculation.IndicatorSet | None = None,
) -> calculation.AchievementSubmission:
    """The provider's current figures for the service and date as a submission."""
    indicators = indicator_set or indicator_set_for(session, service)
    values = current_values(session, service.id, achievement_date, [provider.id])
    return build_submission(
        provider.ods_code, achievement_date, values.get(provider.id, {}), indicators
    )
