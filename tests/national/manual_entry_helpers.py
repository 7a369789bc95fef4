"""A scene for manual entry: an ICB's practice taking part in a QOF-like service with one group
of two indicators (a manual quality improvement one, and an extracted one weighted by the AF
register), the practice's and the ICB's Achievement entry people, and another ICB."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from claims_portal.access.models import User
from claims_portal.access.roles import Role
from claims_portal.extensions import db
from claims_portal.national.models import (
    AchievementLoad,
    AchievementValue,
    DataSubmission,
    IndicatorGroup,
    LoadStatus,
    NationalPrevalence,
    OfferStatus,
    QualityIndicator,
    QualityService,
    ServiceReference,
    SubmissionSource,
    SubmissionStatus,
)
from claims_portal.organisations.models import Organisation
from tests.admin.helpers import make_tenant
from tests.factories.access import user_with_role
from tests.factories.national import (
    AchievementDateFactory,
    IndicatorGroupFactory,
    QualityIndicatorFactory,
    QualityServiceFactory,
    ServiceOfferFactory,
)


@dataclass
class Scene:
    icb: Organisation
    practice: Organisation
    other_icb: Organisation
    other_practice: Organisation
    service: QualityService
    day: dt.date
    group: IndicatorGroup
    manual: QualityIndicator
    extracted: QualityIndicator
    provider: User
    commissioner: User
    other_commissioner: User


def month_end_before(day: dt.date) -> dt.date:
    return day.replace(day=1) - dt.timedelta(days=1)


def financial_year_of(day: dt.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def make_scene(day: dt.date = dt.date(2026, 3, 31), **service: object) -> Scene:
    ours, theirs = make_tenant(), make_tenant()
    qof = QualityServiceFactory(
        code=service.pop("code", "QOF"), name=service.pop("name", "Quality and Outcomes Framework"),
        financial_year=financial_year_of(day), **service,
    )  # fmt: skip
    AchievementDateFactory(service=qof, date=day)
    group = IndicatorGroupFactory(service=qof, code="AF", description="Atrial fibrillation")
    manual = QualityIndicatorFactory(
        group=group, code="QI013", description="Quality improvement: the practice took part",
        manual=True, tick_box=True, lower_threshold=None, upper_threshold=None,
        points=Decimal("27"),
    )  # fmt: skip
    extracted = QualityIndicatorFactory(
        group=group, code="AF006", description="Patients with AF treated", prevalence_register="AF"
    )
    db.session.add_all(
        [
            ServiceReference(
                service_id=qof.id, pounds_per_point=Decimal("225.49"),
                national_average_list_size=9964, source="test data",
            ),
            NationalPrevalence(
                service_id=qof.id, register="AF", prevalence=Decimal("0.0215"), source="test"
            ),
        ]
    )  # fmt: skip
    db.session.commit()
    for practice, icb in ((ours.practice, ours.icb), (theirs.practice, theirs.icb)):
        ServiceOfferFactory(
            service=qof, provider=practice, commissioner=icb, status=OfferStatus.APPROVED
        )
    return Scene(
        icb=ours.icb,
        practice=ours.practice,
        other_icb=theirs.icb,
        other_practice=theirs.practice,
        service=qof,
        day=day,
        group=group,
        manual=manual,
        extracted=extracted,
        provider=user_with_role(Role.ACHIEVEMENT_ENTRY, ours.practice, full_name="Aisha Rahman"),
        commissioner=user_with_role(Role.ACHIEVEMENT_ENTRY, ours.icb, full_name="Priya Shah"),
        other_commissioner=user_with_role(Role.ACHIEVEMENT_ENTRY, theirs.icb),
    )


def extract_loaded(
    scene: Scene, finished_at: dt.datetime, values: dict[tuple[str, str], int] | None = None
) -> AchievementLoad:
    """A finished extract load for the scene's service, with the practice's ``values``."""
    load = AchievementLoad(
        service_id=scene.service.id,
        filename="extract.csv",
        sha256="0" * 64,
        status=LoadStatus.LOADED,
        finished_at=finished_at,
    )
    db.session.add(load)
    db.session.flush()
    if values:
        submission = DataSubmission(
            service_id=scene.service.id,
            provider_id=scene.practice.id,
            achievement_date=scene.day,
            source=SubmissionSource.EXTRACT,
            status=SubmissionStatus.SUBMITTED,
            load_id=load.id,
            submitted_at=finished_at,
        )
        db.session.add(submission)
        db.session.flush()
        db.session.add_all(
            AchievementValue(
                submission_id=submission.id,
                service_id=scene.service.id,
                provider_id=scene.practice.id,
                achievement_date=scene.day,
                code=code,
                field=field,
                value=value,
                last_submission=True,
            )
            for (code, field), value in values.items()
        )
    db.session.commit()
    return load


def figures(**named: object) -> dict[str, str]:
    """Form figures: ``figures(AF006_numerator=40)`` -> ``{"AF006-numerator": "40"}``."""
    return {name.replace("_", "-", 1): str(value) for name, value in named.items()}


#: A full, valid group: QI013 yes, AF006 40 of 50 (2 PCAs, 3 exclusions), AF 120 of 8,000.
FULL = figures(
    QI013_answer=1,
    AF006_numerator=40,
    AF006_denominator=50,
    AF006_pcas=2,
    AF006_exclusions=3,
    register_AF=120,
    list_size=8000,
)
