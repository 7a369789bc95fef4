"""Schemes and their parts, built straight into the database (no rules applied).

Use the services when a test is about a rule; use these to set the scene.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from claims_portal.db import utcnow
from claims_portal.schemes.models import (
    ClaimFrequency,
    ClaimWindow,
    Component,
    EvidenceRequirement,
    Offer,
    OfferStatus,
    QuestionKind,
    Scheme,
    SchemeStatus,
    SupplementaryQuestion,
    Tariff,
)
from tests.factories import BaseFactory
from tests.factories.organisations import IcbFactory, PracticeFactory

FY_START = dt.date(2026, 4, 1)
FY_END = dt.date(2027, 3, 31)


class SchemeFactory(BaseFactory):
    class Meta:
        model = Scheme

    code = factory.Sequence(lambda n: f"LES-T{n:04d}")
    name = factory.Sequence(lambda n: f"Test local scheme {n}")
    description = ""
    commissioner = factory.SubFactory(IcbFactory)
    financial_year = "2026/27"
    start_date = FY_START
    end_date = FY_END
    status = SchemeStatus.DRAFT
    claim_frequency = ClaimFrequency.MONTHLY
    window_days = 30
    evidence_requirement = EvidenceRequirement.NOT_REQUIRED
    multi_service_claims = False
    participation_only = False
    pay_through_agency = True
    agency_enrolment_date = factory.LazyAttribute(
        lambda o: o.start_date if o.pay_through_agency else None
    )
    paycode = factory.Sequence(lambda n: f"PC{n:04d}")


class ComponentFactory(BaseFactory):
    class Meta:
        model = Component

    scheme = factory.SubFactory(SchemeFactory)
    code = factory.Sequence(lambda n: f"C{n:03d}")
    name = factory.Sequence(lambda n: f"Component {n}")
    unit_label = "health check completed"


class TariffFactory(BaseFactory):
    class Meta:
        model = Tariff

    component = factory.SubFactory(ComponentFactory)
    unit_value = Decimal("25.00")
    effective_from = FY_START


class ClaimWindowFactory(BaseFactory):
    class Meta:
        model = ClaimWindow

    scheme = factory.SubFactory(SchemeFactory)
    period_start = dt.date(2026, 4, 1)
    period_end = dt.date(2026, 4, 30)
    opens_on = dt.date(2026, 5, 1)
    closes_on = dt.date(2026, 5, 30)


class QuestionFactory(BaseFactory):
    class Meta:
        model = SupplementaryQuestion

    scheme = factory.SubFactory(SchemeFactory)
    text = "How many patients declined?"
    kind = QuestionKind.NUMBER
    required = True
    help_text = ""
    choices = ""
    display_order = 0


class OfferFactory(BaseFactory):
    class Meta:
        model = Offer

    scheme = factory.SubFactory(SchemeFactory, status=SchemeStatus.PUBLISHED)
    provider = factory.SubFactory(PracticeFactory)
    status = OfferStatus.PENDING
    offered_at = factory.LazyFunction(utcnow)
    status_changed_at = factory.LazyFunction(utcnow)


def ready_scheme(**kwargs: object) -> Scheme:
    """A draft monthly scheme for 2026/27 with one component, a tariff and all windows."""
    from claims_portal.schemes.services.schedule import claim_periods, default_window

    scheme = SchemeFactory(**kwargs)
    component = ComponentFactory(scheme=scheme)
    TariffFactory(component=component, effective_from=scheme.start_date)
    for period in claim_periods(scheme.claim_frequency, scheme.start_date, scheme.end_date):
        opens, closes = default_window(period.end, scheme.window_days)
        ClaimWindowFactory(
            scheme=scheme,
            period_start=period.start,
            period_end=period.end,
            opens_on=opens,
            closes_on=closes,
        )
    return scheme
