"""National administrators' edits to the catalogue, through the services: who may, what is
refused (every problem at once, nothing changed), and that each change is audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from claims_portal.access.roles import Role
from claims_portal.access.services.permissions import PermissionDenied
from claims_portal.audit.models import AuditEvent
from claims_portal.national.models import (
    NationalPrevalence,
    QualityIndicator,
    QualityService,
    ServiceReference,
)
from claims_portal.national.services import catalogue_edits as edits
from claims_portal.national.services.catalogue import DATA_DIR, CatalogueError, load_service_file
from tests.factories.access import user_with_role
from tests.factories.organisations import IcbFactory, NationalCommissionerFactory


@pytest.fixture
def qof(db_session) -> QualityService:
    return load_service_file(db_session, DATA_DIR / "qof-2025-26.json", actor=None).service


@pytest.fixture
def national(db_session):
    organisation = NationalCommissionerFactory()
    return user_with_role(Role.ADMINISTRATOR, organisation), organisation


def _indicator(db_session, service, code) -> QualityIndicator:
    return db_session.scalars(
        select(QualityIndicator).filter_by(service_id=service.id, code=code)
    ).one()


def _events(db_session, action) -> list[AuditEvent]:
    return list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_an_icb_administrator_may_not_edit(db_session, qof):
    icb = IcbFactory()
    admin = user_with_role(Role.ADMINISTRATOR, icb)
    assert not edits.can_configure_national_services(admin, icb)
    with pytest.raises(PermissionDenied):
        edits.update_indicator(
            db_session,
            _indicator(db_session, qof, "AF006"),
            actor=admin,
            organisation=icb,
            points=1,
        )
    national = NationalCommissionerFactory()
    viewer = user_with_role(Role.APPROVER_TIER_1, national)
    with pytest.raises(PermissionDenied):
        edits.update_service(db_session, qof, actor=viewer, organisation=national, name="X")
    assert _events(db_session, "quality_indicator.updated") == []


def test_an_indicator_edit_is_validated_and_audited(db_session, qof, national):
    actor, organisation = national
    af008 = _indicator(db_session, qof, "AF008")
    with pytest.raises(CatalogueError) as refused:
        edits.update_indicator(
            db_session,
            af008,
            actor=actor,
            organisation=organisation,
            description="  ",
            points="lots",
        )
    assert refused.value.messages == [
        "Enter what the indicator measures",
        "The points must be a number",
    ]
    with pytest.raises(CatalogueError, match="thresholds out of order"):
        edits.update_indicator(
            db_session, af008, actor=actor, organisation=organisation, lower_threshold="0.96"
        )
    assert af008.points == 12
    assert edits.update_indicator(
        db_session,
        af008,
        actor=actor,
        organisation=organisation,
        points="13",
        upper_threshold=Decimal("0.97"),
    )
    assert not edits.update_indicator(
        db_session, af008, actor=actor, organisation=organisation, points=Decimal("13.0")
    )
    (event,) = _events(db_session, "quality_indicator.updated")
    assert event.organisation_id == organisation.id
    assert set(event.after) == {"points", "upper_threshold"}


def test_service_dates_and_flags_are_checked_and_audited(db_session, qof, national):
    actor, organisation = national
    with pytest.raises(CatalogueError) as refused:
        edits.update_service(
            db_session,
            qof,
            actor=actor,
            organisation=organisation,
            end_date=dt.date(2025, 1, 1),
            amendment_window_days=-1,
        )
    assert [p.field for p in refused.value.problems] == ["end_date", "amendment_window_days"]
    assert edits.update_service(
        db_session, qof, actor=actor, organisation=organisation, approval_required=False
    )
    (event,) = _events(db_session, "quality_service.updated")
    assert (event.before, event.after) == (
        {"approval_required": True},
        {"approval_required": False},
    )


def test_reference_values_are_added_when_missing_and_checked(db_session, national):
    actor, organisation = national
    service = load_service_file(db_session, DATA_DIR / "shingles-2025-26.json", actor=None).service
    assert db_session.scalar(select(ServiceReference).filter_by(service_id=service.id)) is None
    with pytest.raises(CatalogueError) as refused:
        edits.update_reference(
            db_session,
            service,
            actor=actor,
            organisation=organisation,
            aspiration_share="80",
            national_average_list_size=0,
        )
    assert len(refused.value.problems) == 2
    reference = edits.update_reference(
        db_session,
        service,
        actor=actor,
        organisation=organisation,
        national_average_list_size=10_000,
        source="project value",
    )
    assert reference.national_average_list_size == 10_000
    (event,) = _events(db_session, "service_reference.updated")
    assert event.after == {"national_average_list_size": 10_000, "source": "project value"}


def test_a_national_prevalence_is_added_then_changed(db_session, qof, national):
    actor, organisation = national
    with pytest.raises(CatalogueError, match="fraction above 0"):
        edits.set_national_prevalence(
            db_session, qof, register="AF", prevalence="2.1", actor=actor, organisation=organisation
        )
    for value in ("0.0215", "0.0221", "0.0221"):
        edits.set_national_prevalence(
            db_session,
            qof,
            register="af",
            prevalence=value,
            source="QOF 2025-26 publication",
            actor=actor,
            organisation=organisation,
        )
    row = db_session.scalars(select(NationalPrevalence).filter_by(service_id=qof.id)).one()
    assert (row.register, row.prevalence) == ("AF", Decimal("0.0221"))
    assert len(_events(db_session, "national_prevalence.added")) == 1
    assert len(_events(db_session, "national_prevalence.updated")) == 1


def test_achievement_dates_are_month_ends_added_changed_and_removed(db_session, qof, national):
    from claims_portal.national.models import (
        AchievementDate,
        DataSubmission,
        SubmissionSource,
        SubmissionStatus,
    )
    from tests.factories.organisations import PracticeFactory

    actor, organisation = national
    for day, message in (
        (dt.date(2025, 9, 29), "last day of a month"),
        (dt.date(2026, 4, 30), "within the service dates"),
    ):
        with pytest.raises(CatalogueError, match=message):
            edits.set_achievement_date(
                db_session, qof, day, is_payment_date=True, actor=actor, organisation=organisation
            )
    september = edits.set_achievement_date(
        db_session,
        qof,
        dt.date(2025, 9, 30),
        is_payment_date=True,
        actor=actor,
        organisation=organisation,
    )
    assert september.is_payment_date
    (event,) = _events(db_session, "achievement_date.updated")
    assert (event.before, event.after) == ({"is_payment_date": False}, {"is_payment_date": True})
    march = db_session.scalars(
        select(AchievementDate).filter_by(service_id=qof.id, date=dt.date(2026, 3, 31))
    ).one()
    db_session.add(
        DataSubmission(
            service_id=qof.id,
            provider_id=PracticeFactory().id,
            achievement_date=march.date,
            source=SubmissionSource.EXTRACT,
            status=SubmissionStatus.SUBMITTED,
        )
    )
    db_session.flush()
    with pytest.raises(CatalogueError, match="cannot be removed"):
        edits.remove_achievement_date(db_session, march, actor=actor, organisation=organisation)
    edits.remove_achievement_date(db_session, september, actor=actor, organisation=organisation)
    dates = db_session.scalars(select(AchievementDate.date).filter_by(service_id=qof.id)).all()
    assert dt.date(2025, 9, 30) not in dates
    assert len(dates) == 11
    assert len(_events(db_session, "achievement_date.removed")) == 1
