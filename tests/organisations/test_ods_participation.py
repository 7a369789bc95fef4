"""A practice leaving its PCN ends the participation that follows the PCN's offers
(national.services.participation), and the import's command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select

from claims_portal.audit.models import AuditEvent
from claims_portal.national.models import OfferStatus, ProviderLevel
from claims_portal.national.services.participation import end_network_participation
from claims_portal.organisations.cli import organisations_group
from claims_portal.organisations.models import OdsImport, Organisation, OrganisationKind
from claims_portal.organisations.services import ods
from tests.factories.national import QualityServiceFactory, ServiceOfferFactory
from tests.factories.organisations import PcnFactory, PracticeFactory

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ods"
LAST_DAY = dt.date(2025, 9, 30)


def offers(practice, network, *, status=OfferStatus.APPROVED, service=None):
    service = service or QualityServiceFactory(
        financial_year=2025, provider_level=ProviderLevel.NETWORK
    )
    of_network = ServiceOfferFactory(service=service, provider=network, status=OfferStatus.APPROVED)
    return ServiceOfferFactory(
        service=service, provider=practice, status=status, network_offer=of_network
    )


def end(session, practice, network, last_day=LAST_DAY):
    return end_network_participation(
        session, practice=practice, network=network, last_day=last_day, reason="Left the PCN"
    )


def test_only_approved_offers_following_that_network_end(db_session):
    practice, network, other_network = PracticeFactory(), PcnFactory(), PcnFactory()
    following = offers(practice, network)
    answered_no = offers(practice, network, status=OfferStatus.REJECTED)
    elsewhere = offers(practice, other_network)
    own = ServiceOfferFactory(provider=practice, status=OfferStatus.APPROVED)

    outcome = end(db_session, practice, network)

    assert outcome.ended == [following]
    assert (following.end_date, following.reason) == (LAST_DAY, "Left the PCN")
    assert following.version == 2
    for untouched in (answered_no, elsewhere, own):
        db_session.refresh(untouched)
        assert untouched.end_date != LAST_DAY
    event = db_session.scalar(
        select(AuditEvent).where(AuditEvent.action == "national_offer.participation_ended")
    )
    assert event.object_id == str(following.id)
    assert event.before == {"end_date": "2026-03-31"}


def test_ending_again_changes_nothing(db_session):
    practice, network = PracticeFactory(), PcnFactory()
    offers(practice, network)
    assert len(end(db_session, practice, network).ended) == 1
    assert end(db_session, practice, network).ended == []
    # A later last day never lengthens it.
    assert end(db_session, practice, network, dt.date(2025, 12, 31)).ended == []
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "national_offer.participation_ended")
        )
        == 1
    )


def test_participation_starting_after_the_last_day_is_left_for_the_commissioner(db_session):
    practice, network = PracticeFactory(), PcnFactory()
    later = offers(practice, network)
    outcome = end(db_session, practice, network, dt.date(2025, 3, 31))
    assert outcome.ended == []
    assert outcome.starting_later == [later]
    db_session.refresh(later)
    assert later.end_date == dt.date(2026, 3, 31)


def test_the_mapping_with_the_older_headings_and_new_sub_icb_codes_is_read(db_session):
    mapping = (
        "PRACTICE_CODE,PRACTICE_NAME,PCN_ODS_CODE,PCN_NAME,CCG_ODS_CODE,CCG_ONS_CODE,CCG_NAME,"
        "STP_ODS_CODE,STP_ONS_CODE,STP_NAME,REGION_ODS_CODE,REGION_ONS_CODE,REGION_NAME\n"
        # A real row of QOF_MANUAL_MAPPINGS.csv (NHSDigital/QOF), a five-character sub-ICB.
        "F82001,HALBUTT STREET SURGERY,U11211,BARKING & DAGENHAM WEST PCN,A3A8R,E38000255,"
        "NHS North East London ICB - A3A8R,QMF,E54000029,"
        "NHS North East London Integrated Care Board,Y56,E40000003,London\n"
    )
    ods.import_ods(db_session, [("m.csv", mapping.encode())], as_of=dt.date(2025, 4, 1))
    practice = db_session.scalar(select(Organisation).where(Organisation.ods_code == "F82001"))
    assert practice.parent.ods_code == "A3A8R"
    assert practice.parent.kind is OrganisationKind.ICB_SUB_LOCATION
    assert practice.parent.parent.ods_code == "QMF"


def test_the_command_imports_files_and_refuses_a_bad_one(app, db_session, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(
        organisations_group,
        [
            "import-ods",
            str(FIXTURES / "mapping_nhs_geographies.csv"),
            str(FIXTURES / "ord_records.json"),
            "--as-of",
            "2025-04-01",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "15 organisations created" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("PRACTICE_CODE\nA84002\n")
    result = runner.invoke(organisations_group, ["import-ods", str(bad)])
    assert result.exit_code == 1
    assert "Nothing was imported" in result.output
    assert "lacks the columns" in result.output
    assert db_session.scalar(select(func.count()).select_from(OdsImport)) == 1
