"""National quality services, built straight into the database (no rules applied)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from claims_portal.national.models import (
    AchievementDate,
    IndicatorGroup,
    NationalPrevalence,
    OfferStatus,
    PaymentType,
    ProviderLevel,
    QualityIndicator,
    QualityService,
    ServiceKind,
    ServiceOffer,
    ServiceReference,
)
from tests.factories import BaseFactory
from tests.factories.organisations import IcbFactory, PracticeFactory


class QualityServiceFactory(BaseFactory):
    class Meta:
        model = QualityService

    code = factory.Sequence(lambda n: f"QS{n:03d}")
    financial_year = 2025
    name = factory.Sequence(lambda n: f"Test quality service {n}")
    kind = ServiceKind.QOF
    payment_type = PaymentType.ACHIEVEMENT
    provider_level = ProviderLevel.PRACTICE
    start_date = factory.LazyAttribute(lambda o: dt.date(o.financial_year, 4, 1))
    end_date = factory.LazyAttribute(lambda o: dt.date(o.financial_year + 1, 3, 31))
    response_date = None
    automatically_accepted = False
    declaration_required = True
    approval_required = True
    amendment_window_days = None
    source = "test data"


class AchievementDateFactory(BaseFactory):
    class Meta:
        model = AchievementDate

    service = factory.SubFactory(QualityServiceFactory)
    date = factory.LazyAttribute(lambda o: dt.date(o.service.financial_year + 1, 3, 31))
    is_payment_date = True


class IndicatorGroupFactory(BaseFactory):
    class Meta:
        model = IndicatorGroup

    service = factory.SubFactory(QualityServiceFactory)
    code = factory.Sequence(lambda n: f"G{n:03d}")
    description = factory.Sequence(lambda n: f"Test group {n}")
    domain_code = "CL"
    domain_description = "Clinical"
    position = factory.Sequence(lambda n: n)


class QualityIndicatorFactory(BaseFactory):
    class Meta:
        model = QualityIndicator

    group = factory.SubFactory(IndicatorGroupFactory)
    service_id = factory.LazyAttribute(lambda o: o.group.service_id)
    code = factory.Sequence(lambda n: f"TI{n:03d}")
    description = factory.Sequence(lambda n: f"Test indicator {n}")
    points = Decimal("10")
    lower_threshold = Decimal("0.40")
    upper_threshold = Decimal("0.90")
    prevalence_register = None
    tick_box = False
    manual = False


class ServiceReferenceFactory(BaseFactory):
    class Meta:
        model = ServiceReference
        exclude = ("service",)

    service = factory.SubFactory(QualityServiceFactory)
    service_id = factory.SelfAttribute("service.id")
    pounds_per_point = Decimal("225.49")
    national_average_list_size = 9964
    aspiration_share = Decimal("0.80")
    source = "test data"


class NationalPrevalenceFactory(BaseFactory):
    class Meta:
        model = NationalPrevalence
        exclude = ("service",)

    service = factory.SubFactory(QualityServiceFactory)
    service_id = factory.SelfAttribute("service.id")
    register = factory.Sequence(lambda n: f"R{n:02d}")
    prevalence = Decimal("0.0215")


class ServiceOfferFactory(BaseFactory):
    class Meta:
        model = ServiceOffer

    service = factory.SubFactory(QualityServiceFactory)
    provider = factory.SubFactory(PracticeFactory)
    commissioner = factory.SubFactory(IcbFactory)
    status = OfferStatus.OFFERED
    start_date = factory.LazyAttribute(lambda o: o.service.start_date)
    end_date = factory.LazyAttribute(lambda o: o.service.end_date)
    response_date = None
    offered_at = factory.LazyFunction(lambda: dt.datetime(2025, 4, 1, 9, 0, tzinfo=dt.UTC))
