"""The national tables' own guards: what the database refuses whatever the services do."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from claims_portal.national.models import OfferStatus
from tests.factories.national import (
    QualityIndicatorFactory,
    QualityServiceFactory,
    ServiceOfferFactory,
)


def test_one_live_offer_per_service_and_provider(db_session):
    offer = ServiceOfferFactory()
    with pytest.raises(IntegrityError):
        ServiceOfferFactory(service=offer.service, provider=offer.provider)


def test_a_withdrawn_offer_leaves_room_for_a_new_one(db_session):
    offer = ServiceOfferFactory(status=OfferStatus.WITHDRAWN)
    again = ServiceOfferFactory(service=offer.service, provider=offer.provider)
    assert again.status is OfferStatus.OFFERED


def test_thresholds_must_be_in_order(db_session):
    with pytest.raises(IntegrityError):
        QualityIndicatorFactory(lower_threshold=Decimal("0.9"), upper_threshold=Decimal("0.4"))


def test_a_service_code_is_unique_within_a_year(db_session):
    service = QualityServiceFactory(code="QOF", financial_year=2025)
    QualityServiceFactory(code="QOF", financial_year=2024)
    assert service.year_label == "2025/26"
    with pytest.raises(IntegrityError):
        QualityServiceFactory(code="QOF", financial_year=2025)


def test_reference_values_and_prevalences_belong_to_their_service(db_session):
    from tests.factories.national import NationalPrevalenceFactory, ServiceReferenceFactory

    service = QualityServiceFactory()
    reference = ServiceReferenceFactory(service=service)
    prevalence = NationalPrevalenceFactory(service=service, register="AF")
    assert reference.service_id == prevalence.service_id == service.id
    with pytest.raises(IntegrityError):
        ServiceReferenceFactory(service=service)
