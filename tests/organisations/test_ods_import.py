"""Importing organisations and PCN memberships from ODS files (real public rows:
tests/fixtures/ods/)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from claims_portal.audit.models import AuditEvent
from claims_portal.national.models import OfferStatus, ProviderLevel
from claims_portal.organisations.models import (
    ApprovalMode,
    NetworkMembership,
    OdsImport,
    Organisation,
    OrganisationChange,
    OrganisationKind,
)
from claims_portal.organisations.services import ods
from claims_portal.organisations.services.ods_files import OdsFileRefused
from tests.factories.claims import ClaimFactory
from tests.factories.national import QualityServiceFactory, ServiceOfferFactory
from tests.factories.organisations import NationalCommissionerFactory

K = OrganisationKind
FIXTURES = Path(__file__).parent.parent / "fixtures" / "ods"
MAPPING = (FIXTURES / "mapping_nhs_geographies.csv").read_bytes()
ORD = json.loads((FIXTURES / "ord_records.json").read_text())
AS_OF = dt.date(2025, 4, 1)


def org(session, code):
    return session.scalar(select(Organisation).where(Organisation.ods_code == code))


def memberships(session, code):
    return session.scalars(
        select(NetworkMembership)
        .join(Organisation, NetworkMembership.practice_id == Organisation.id)
        .where(Organisation.ods_code == code)
        .order_by(NetworkMembership.start_date)
    ).all()


def changes(session, record):
    return {
        (c.organisation.ods_code, c.field): c
        for c in session.scalars(
            select(OrganisationChange).where(OrganisationChange.import_id == record.id)
        )
    }


def counts(session):
    return (
        session.scalar(select(func.count()).select_from(Organisation)),
        session.scalar(select(func.count()).select_from(NetworkMembership)),
    )


def ord_file(records=None):
    return ("ord.json", json.dumps(records if records is not None else ORD).encode())


def record_of(data, code):
    return next(
        r["Organisation"]
        for r in data["Organisations"]
        if r["Organisation"]["OrgId"]["extension"] == code
    )


def test_first_import_of_the_mapping_builds_the_tree_and_memberships(db_session):
    national = NationalCommissionerFactory(ods_code="X24")
    record = ods.import_ods(db_session, [("mapping.csv", MAPPING)], as_of=AS_OF, run_by="test")

    region = org(db_session, "Y63")
    assert region.kind is K.REGION
    assert region.parent == national
    icb = org(db_session, "QHM")
    assert (icb.kind, icb.parent) == (K.ICB, region)
    assert icb.name == "NHS North East and North Cumbria Integrated Care Board"
    sub = org(db_session, "00L")
    assert (sub.kind, sub.parent) == (K.ICB_SUB_LOCATION, icb)
    practice = org(db_session, "A84002")
    assert (practice.kind, practice.parent, practice.name) == (
        K.GP_PRACTICE,
        sub,
        "THE ROTHBURY PRACTICE",
    )
    assert practice.approval_mode is ApprovalMode.ONE_STEP
    assert practice.active_from == AS_OF
    pcn = org(db_session, "U09980")
    assert (pcn.kind, pcn.parent, pcn.name) == (K.PCN, sub, "NORTHUMBRIA PCN")
    assert org(db_session, "03K").parent == org(db_session, "QOQ")

    [membership] = memberships(db_session, "A84002")
    assert (membership.network, membership.start_date, membership.end_date) == (pcn, AS_OF, None)
    # "U, Unallocated": in no PCN.
    assert memberships(db_session, "A84035") == []

    assert record.records == 7
    assert record.organisations_created == 1 + 2 + 2 + 3 + 7
    assert record.memberships_added == 6
    assert record.files[0]["layout"] == "mapping CSV"
    assert len(record.files[0]["sha256"]) == 64
    assert changes(db_session, record)[("A84002", "created")].new == (
        "THE ROTHBURY PRACTICE under 00L"
    )
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "ods_import.completed"))
    assert event.after["created"] == 15


def test_ord_records_give_real_dates_and_roles(db_session):
    ods.import_ods(db_session, [ord_file()], as_of=AS_OF)
    practice = org(db_session, "A84007")
    assert practice.kind is K.GP_PRACTICE
    assert practice.active_from == dt.date(1974, 4, 1)
    assert practice.parent == org(db_session, "00L")
    assert org(db_session, "00L").parent == org(db_session, "QHM")
    assert org(db_session, "QHM").parent == org(db_session, "Y63")
    assert org(db_session, "U05512").parent == org(db_session, "00L")
    [membership] = memberships(db_session, "A84011")
    assert membership.network.ods_code == "U05512"
    assert (membership.start_date, membership.end_date) == (dt.date(2019, 7, 1), None)


def test_running_the_same_files_again_records_no_changes(db_session):
    ods.import_ods(db_session, [("mapping.csv", MAPPING), ord_file()], as_of=AS_OF)
    before = counts(db_session)
    again = ods.import_ods(db_session, [("mapping.csv", MAPPING), ord_file()], as_of=AS_OF)
    assert changes(db_session, again) == {}
    assert counts(db_session) == before
    assert (again.organisations_created, again.organisations_changed) == (0, 0)
    assert (again.memberships_added, again.memberships_ended) == (0, 0)
    # Later, the same files still describe the same tree.
    later = ods.import_ods(
        db_session, [("mapping.csv", MAPPING), ord_file()], as_of=dt.date(2025, 10, 1)
    )
    assert changes(db_session, later) == {}


def network_offer(session, practice_code, pcn_code):
    service = QualityServiceFactory(financial_year=2025, provider_level=ProviderLevel.NETWORK)
    pcn, practice = org(session, pcn_code), org(session, practice_code)
    commissioner = org(session, "QHM")
    of_network = ServiceOfferFactory(
        service=service, provider=pcn, commissioner=commissioner, status=OfferStatus.APPROVED
    )
    return ServiceOfferFactory(
        service=service,
        provider=practice,
        commissioner=commissioner,
        status=OfferStatus.APPROVED,
        network_offer=of_network,
    )


def test_reimport_renames_moves_and_ends_a_membership_with_its_participation(db_session):
    ods.import_ods(db_session, [ord_file()], as_of=AS_OF)
    followed = network_offer(db_session, "A84002", "U09980")
    other = network_offer(db_session, "A84007", "U09980")
    data = copy.deepcopy(ORD)
    # Renamed.
    record_of(data, "A84007")["Name"] = "PONTELAND MEDICAL PRACTICE"
    # Moved to another sub-ICB location (a new one, under the same ICB).
    data["Organisations"].append(
        {
            "Organisation": {
                "Name": "NHS NORTH EAST AND NORTH CUMBRIA ICB - 01H",
                "Date": [{"Type": "Operational", "Start": "2013-04-01"}],
                "OrgId": {"extension": "01H"},
                "Roles": {"Role": [{"id": "RO98", "primaryRole": True}, {"id": "RO319"}]},
                "Rels": {
                    "Rel": [
                        {
                            "id": "RE5",
                            "Date": [{"Type": "Operational", "Start": "2022-07-01"}],
                            "Target": {
                                "OrgId": {"extension": "QHM"},
                                "PrimaryRoleId": {"id": "RO261"},
                            },
                        }
                    ]
                },
            }
        }
    )
    moved = record_of(data, "A84011")
    moved["Rels"]["Rel"][0]["Target"]["OrgId"]["extension"] = "01H"
    # Left its PCN on 30 September 2025.
    leaving = record_of(data, "A84002")
    leaving["Rels"]["Rel"][1]["Date"][0]["End"] = "2025-09-30"

    record = ods.import_ods(db_session, [ord_file(data)], as_of=dt.date(2025, 10, 1))

    found = changes(db_session, record)
    assert org(db_session, "A84007").name == "PONTELAND MEDICAL PRACTICE"
    assert (found[("A84007", "name")].old, found[("A84007", "name")].new) == (
        "PONTELAND MEDICAL GROUP",
        "PONTELAND MEDICAL PRACTICE",
    )
    assert org(db_session, "A84011").parent == org(db_session, "01H")
    assert (found[("A84011", "parent")].old, found[("A84011", "parent")].new) == ("00L", "01H")
    assert found[("A84011", "parent")].held_reason is None
    [membership] = memberships(db_session, "A84002")
    assert membership.end_date == dt.date(2025, 9, 30)
    assert found[("A84002", "membership_end")].new == "2025-09-30"
    # The practice's participation that follows the PCN's ends on its last day.
    db_session.refresh(followed)
    assert followed.end_date == dt.date(2025, 9, 30)
    assert "Left NORTHUMBRIA PCN" in followed.reason
    assert followed.status is OfferStatus.APPROVED
    db_session.refresh(other)
    assert other.end_date == dt.date(2026, 3, 31)
    assert record.participations_ended == 1
    assert db_session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "national_offer.participation_ended",
            AuditEvent.object_id == str(followed.id),
        )
    )
    # History kept: nothing deleted, and the old PONTELAND name is in the change rows.
    assert org(db_session, "00L") is not None
    assert record.organisations_created == 1


def test_the_mapping_moves_a_practice_to_another_pcn_from_its_date(db_session):
    ods.import_ods(db_session, [("mapping.csv", MAPPING)], as_of=AS_OF)
    offer = network_offer(db_session, "A84002", "U09980")
    moved = MAPPING.replace(
        b"U09980,NORTHUMBRIA PCN,A84002", b"U05512,WEST NORTHUMBERLAND PCN,A84002"
    )
    moved = moved.replace(b"U05512,WEST NORTHUMBERLAND PCN,A84016", b"U,Unallocated,A84016")
    record = ods.import_ods(db_session, [("mapping.csv", moved)], as_of=dt.date(2025, 7, 1))
    first, second = memberships(db_session, "A84002")
    assert (first.network.ods_code, first.end_date) == ("U09980", dt.date(2025, 6, 30))
    assert (second.network.ods_code, second.start_date, second.end_date) == (
        "U05512",
        dt.date(2025, 7, 1),
        None,
    )
    [left] = memberships(db_session, "A84016")
    assert left.end_date == dt.date(2025, 6, 30)
    db_session.refresh(offer)
    assert offer.end_date == dt.date(2025, 6, 30)
    assert (record.memberships_added, record.memberships_ended) == (1, 2)


def test_a_practice_with_claims_is_not_moved_to_another_icb(db_session):
    ods.import_ods(db_session, [("mapping.csv", MAPPING)], as_of=AS_OF)
    practice = org(db_session, "A84035")
    ClaimFactory(provider=practice)
    elsewhere = MAPPING.replace(
        b"QHM,E54000050,NHS North East and North Cumbria Integrated Care Board,00L,"
        b"E38000130,NHS North East and North Cumbria ICB - 00L,U,Unallocated,A84035",
        b"QOQ,E54000051,NHS Humber and North Yorkshire Integrated Care Board,03K,"
        b"E38000122,NHS Humber and North Yorkshire ICB - 03K,U,Unallocated,A84035",
    )
    assert elsewhere != MAPPING
    record = ods.import_ods(db_session, [("mapping.csv", elsewhere)], as_of=AS_OF)
    db_session.refresh(practice)
    assert practice.parent.ods_code == "00L"
    held = changes(db_session, record)[("A84035", "parent")]
    assert (held.old, held.new) == ("00L", "03K")
    assert "claims" in held.held_reason
    assert record.changes_held == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PRACTICE_CODE,PRACTICE_NAME\nA84002,X\n", "lacks the columns PCN_ODS_CODE"),
        (
            MAPPING.replace(b",A84007,", b",A8400,"),
            "line 3 PRACTICE_CODE: Enter a valid ODS code",
        ),
        (b"{not json", "not valid JSON"),
    ],
)
def test_a_malformed_file_is_refused_and_changes_nothing(db_session, content, message):
    before = counts(db_session)
    with pytest.raises(OdsFileRefused, match=message):
        ods.import_ods(db_session, [("bad", content)], as_of=AS_OF)
    assert counts(db_session) == before
    assert db_session.scalar(select(func.count()).select_from(OdsImport)) == 0


def test_bad_dates_and_unknown_roles_are_all_listed(db_session):
    data = copy.deepcopy(ORD)
    record_of(data, "A84002")["Date"][0]["Start"] = "01/04/1974"
    record_of(data, "A84007")["Rels"]["Rel"][1]["Date"][0]["End"] = "2025-02-30"
    record_of(data, "A84011")["Roles"]["Role"] = [{"id": "RO999"}]
    record_of(data, "U05512")["Roles"]["Role"][0]["Date"] = [
        {"Type": "Operational", "Start": "2019-07-01", "End": "2001-01-01"}
    ]
    with pytest.raises(OdsFileRefused) as refused:
        ods.import_ods(db_session, [ord_file(data)], as_of=AS_OF)
    messages = refused.value.messages
    assert any("(A84002) Date Start: '01/04/1974' is not a date" in m for m in messages)
    assert any("A84007" in m and "'2025-02-30' is not a date" in m for m in messages)
    assert any("(A84011): none of its roles (RO999)" in m for m in messages)
    assert any("(U05512): its role ends (2001-01-01) before" in m for m in messages)
    assert counts(db_session) == (0, 0)


def test_a_refusal_found_while_importing_leaves_nothing_behind(db_session):
    ods.import_ods(db_session, [("mapping.csv", MAPPING)], as_of=AS_OF)
    before = counts(db_session)
    renamed = MAPPING.replace(b"THE ROTHBURY PRACTICE", b"ROTHBURY")
    # The same day: the membership that started on it cannot end the day before.
    moved = renamed.replace(
        b"U09980,NORTHUMBRIA PCN,A84002", b"U05512,WEST NORTHUMBERLAND PCN,A84002"
    )
    with pytest.raises(OdsFileRefused, match="cannot end before then"):
        ods.import_ods(db_session, [("mapping.csv", moved)], as_of=AS_OF)
    assert counts(db_session) == before
    assert org(db_session, "A84002").name == "THE ROTHBURY PRACTICE"
    assert db_session.scalar(select(func.count()).select_from(OdsImport)) == 1


def test_a_parent_nowhere_to_be_found_is_refused(db_session):
    data = {"Organisations": [copy.deepcopy(ORD["Organisations"][-1])]}
    with pytest.raises(OdsFileRefused, match="parent 00L is neither in the files nor"):
        ods.import_ods(db_session, [ord_file(data)], as_of=AS_OF)


def test_a_region_reads_as_a_commissioner():
    assert K.REGION.is_commissioner
    assert K.REGION.with_article == "an NHS England region"


def test_organisations_missing_from_a_later_file_stay_as_they_were(db_session):
    ods.import_ods(db_session, [("mapping.csv", MAPPING)], as_of=AS_OF)
    without = b"\n".join(line for line in MAPPING.split(b"\n") if b",A84002," not in line)
    record = ods.import_ods(db_session, [("mapping.csv", without)], as_of=dt.date(2025, 10, 1))
    assert changes(db_session, record) == {}
    practice = org(db_session, "A84002")
    assert (practice.active_to, practice.parent.ods_code) == (None, "00L")
    [membership] = memberships(db_session, "A84002")
    assert membership.end_date is None


def test_a_sub_icb_location_with_claims_is_not_moved_to_another_icb(db_session):
    ods.import_ods(db_session, [ord_file()], as_of=AS_OF)
    ClaimFactory(provider=org(db_session, "A84002"))
    data = copy.deepcopy(ORD)
    data["Organisations"].append(
        {
            "Organisation": {
                "Name": "NHS HUMBER AND NORTH YORKSHIRE INTEGRATED CARE BOARD",
                "Date": [{"Type": "Operational", "Start": "2022-07-01"}],
                "OrgId": {"extension": "QOQ"},
                "Roles": {"Role": [{"id": "RO261", "primaryRole": True}]},
                "Rels": {
                    "Rel": [
                        {
                            "id": "RE5",
                            "Date": [{"Type": "Operational", "Start": "2022-07-01"}],
                            "Target": {
                                "OrgId": {"extension": "Y63"},
                                "PrimaryRoleId": {"id": "RO209"},
                            },
                        }
                    ]
                },
            }
        }
    )
    record_of(data, "00L")["Rels"]["Rel"][0]["Target"]["OrgId"]["extension"] = "QOQ"
    record = ods.import_ods(db_session, [ord_file(data)], as_of=AS_OF)
    assert org(db_session, "00L").parent.ods_code == "QHM"
    held = changes(db_session, record)[("00L", "parent")]
    assert (held.old, held.new) == ("QHM", "QOQ")
    assert held.held_reason
    assert org(db_session, "QOQ").parent.ods_code == "Y63"
