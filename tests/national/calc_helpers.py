"""Building a service's figures through the database for the calculation and summary tests:
a service with its reference values and indicators, and submissions of current values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import update

from claims_portal.extensions import db
from claims_portal.national.models import (
    AchievementValue,
    DataSubmission,
    IndicatorGroup,
    NationalPrevalence,
    QualityIndicator,
    QualityService,
    ServiceReference,
    SubmissionSource,
    SubmissionStatus,
)
from claims_portal.organisations.models import Organisation
from tests.factories.national import (
    IndicatorGroupFactory,
    QualityIndicatorFactory,
    QualityServiceFactory,
)


def year_end(service: QualityService) -> dt.date:
    return dt.date(service.financial_year + 1, 3, 31)


def make_service(
    financial_year: int,
    pounds_per_point: str,
    average_list_size: int | None,
    prevalence: Mapping[str, str] | None = None,
    **fields: object,
) -> QualityService:
    """A service with its year's reference values (no indicators yet)."""
    service = QualityServiceFactory(financial_year=financial_year, **fields)
    db.session.add(
        ServiceReference(
            service_id=service.id,
            pounds_per_point=Decimal(pounds_per_point),
            national_average_list_size=average_list_size,
            source="test",
        )
    )
    for register, value in (prevalence or {}).items():
        db.session.add(
            NationalPrevalence(service_id=service.id, register=register, prevalence=Decimal(value))
        )
    db.session.commit()
    return service


def group(
    service: QualityService, code: str, domain: str = "CL", **fields: object
) -> IndicatorGroup:
    fields.setdefault("description", f"{code} group")
    return IndicatorGroupFactory(service=service, code=code, domain_code=domain, **fields)


def indicator(
    group_: IndicatorGroup,
    code: str,
    points: int | str,
    thresholds: tuple[str, str] | None = ("0.40", "0.90"),
    register: str | None = None,
    **fields: object,
) -> QualityIndicator:
    tick_box = thresholds is None
    return QualityIndicatorFactory(
        group=group_,
        code=code,
        points=Decimal(points),
        lower_threshold=None if tick_box else Decimal(thresholds[0]),
        upper_threshold=None if tick_box else Decimal(thresholds[1]),
        prevalence_register=register,
        tick_box=tick_box,
        **fields,
    )


def submit(
    service: QualityService,
    provider: Organisation,
    values: Mapping[tuple[str, str], int],
    achievement_date: dt.date | None = None,
) -> DataSubmission:
    """A submitted extract of ``values`` ((code, field) -> value); the newest counts."""
    day = achievement_date or year_end(service)
    submission = DataSubmission(
        service_id=service.id,
        provider_id=provider.id,
        achievement_date=day,
        source=SubmissionSource.EXTRACT,
        status=SubmissionStatus.SUBMITTED,
    )
    db.session.add(submission)
    db.session.flush()
    for (code, field), value in values.items():
        db.session.execute(
            update(AchievementValue)
            .where(
                AchievementValue.service_id == service.id,
                AchievementValue.provider_id == provider.id,
                AchievementValue.achievement_date == day,
                AchievementValue.code == code,
                AchievementValue.field == field,
            )
            .values(last_submission=False)
        )
        db.session.add(
            AchievementValue(
                submission_id=submission.id,
                service_id=service.id,
                provider_id=provider.id,
                achievement_date=day,
                code=code,
                field=field,
                value=value,
                last_submission=True,
            )
        )
    db.session.commit()
    return submission


def counts(
    code: str, numerator: int, denominator: int, pcas: int = 0, exclusions: int = 0
) -> dict[tuple[str, str], int]:
    return {
        (code, "NUMERATOR"): numerator,
        (code, "DENOMINATOR"): denominator,
        (code, "PCAS"): pcas,
        (code, "EXCLUSIONS"): exclusions,
    }


def list_size(size: int) -> dict[tuple[str, str], int]:
    return {("LIST_SIZE", "LIST_SIZE"): size}


def register(code: str, size: int) -> dict[tuple[str, str], int]:
    return {(code, "REGISTER"): size}
