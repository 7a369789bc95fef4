from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from claims_portal.access.roles import Role
from claims_portal.access.services.permissions import PermissionDenied
from claims_portal.audit.models import AuditEvent
from claims_portal.organisations import services
from claims_portal.organisations.models import ApprovalMode, OrganisationKind
from tests.factories.access import user_with_role
from tests.factories.organisations import (
    IcbFactory,
    NationalCommissionerFactory,
    NetworkMembershipFactory,
    PcnFactory,
    PracticeFactory,
    SubLocationFactory,
)

K = OrganisationKind


@pytest.mark.parametrize(
    ("kind", "code", "valid"),
    [
        (K.GP_PRACTICE, "A81001", True),
        (K.GP_PRACTICE, "a81001", True),
        (K.GP_PRACTICE, "A8100", False),
        (K.GP_PRACTICE, "181001", False),
        (K.ICB, "QHM", True),
        (K.ICB, "XHM", False),
        (K.ICB_SUB_LOCATION, "00L", True),
        (K.ICB_SUB_LOCATION, "L00", False),
        (K.PCN, "U12345", True),
        (K.PCN, "U1234", False),
        (K.NATIONAL_COMMISSIONER, "X24", True),
        (K.FEDERATION, "NL5", True),
        (K.FEDERATION, "N-L5", False),
    ],
)
def test_ods_code_format_is_checked_per_kind(kind, code, valid):
    if valid:
        assert services.validate_ods_code(kind, code) == code.upper()
    else:
        with pytest.raises(services.OrganisationError, match="Enter a valid ODS code"):
            services.validate_ods_code(kind, code)


def test_creating_an_organisation_is_audited(db_session):
    icb = IcbFactory()
    practice = services.create_organisation(
        db_session,
        kind=K.GP_PRACTICE,
        ods_code="b86001",
        name="  Hill   Top Surgery ",
        parent=icb,
        active_from=dt.date(2024, 4, 1),
    )
    assert practice.ods_code == "B86001"
    assert practice.name == "Hill Top Surgery"
    assert practice.approval_mode is ApprovalMode.ONE_STEP
    event = db_session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "organisation.created", AuditEvent.object_id == str(practice.id)
        )
    )
    assert event.after["ods_code"] == "B86001"


def test_ods_codes_are_unique(db_session):
    PracticeFactory(ods_code="C81001")
    with pytest.raises(services.OrganisationError, match="already exists"):
        services.create_organisation(
            db_session,
            kind=K.GP_PRACTICE,
            ods_code="C81001",
            name="Copy",
            parent=IcbFactory(),
            active_from=dt.date(2024, 4, 1),
        )


@pytest.mark.parametrize(
    ("kind", "parent_factory"),
    [
        (K.GP_PRACTICE, PcnFactory),
        (K.ICB, IcbFactory),
        (K.ICB_SUB_LOCATION, NationalCommissionerFactory),
        (K.NATIONAL_COMMISSIONER, IcbFactory),
    ],
)
def test_parent_must_be_of_an_allowed_kind(db_session, kind, parent_factory):
    code = {K.GP_PRACTICE: "D81001", K.ICB: "QZZ", K.ICB_SUB_LOCATION: "99Z"}.get(kind, "X99")
    with pytest.raises(services.OrganisationError, match="must sit under"):
        services.create_organisation(
            db_session,
            kind=kind,
            ods_code=code,
            name="Somewhere",
            parent=parent_factory(),
            active_from=dt.date(2024, 4, 1),
        )


def test_only_practices_have_an_approval_mode(db_session):
    with pytest.raises(services.OrganisationError, match="Only GP practices"):
        services.create_organisation(
            db_session,
            kind=K.PCN,
            ods_code="U00099",
            name="A PCN",
            parent=IcbFactory(),
            active_from=dt.date(2024, 4, 1),
            approval_mode=ApprovalMode.TWO_STEP,
        )


def test_end_date_before_start_is_refused(db_session):
    with pytest.raises(services.OrganisationError, match="end date"):
        services.create_organisation(
            db_session,
            kind=K.ICB,
            ods_code="QYY",
            name="An ICB",
            parent=NationalCommissionerFactory(),
            active_from=dt.date(2024, 4, 1),
            active_to=dt.date(2024, 3, 31),
        )


# --- PCN memberships ----------------------------------------------------------------------

D = dt.date


@pytest.mark.parametrize(
    ("existing", "new", "overlaps"),
    [
        ((D(2024, 4, 1), None), (D(2025, 4, 1), None), True),
        ((D(2024, 4, 1), D(2025, 3, 31)), (D(2025, 3, 31), None), True),  # shares one day
        ((D(2024, 4, 1), D(2025, 3, 31)), (D(2025, 4, 1), None), False),  # the next day
        ((D(2024, 4, 1), D(2025, 3, 31)), (D(2023, 4, 1), D(2024, 3, 31)), False),
        ((D(2024, 4, 1), D(2025, 3, 31)), (D(2023, 4, 1), None), True),
        ((D(2024, 4, 1), D(2024, 4, 30)), (D(2024, 4, 10), D(2024, 4, 20)), True),  # inside
    ],
    ids=["both-open", "one-day", "adjacent", "before", "open-before", "inside"],
)
def test_overlapping_pcn_memberships_are_refused(db_session, existing, new, overlaps):
    first = NetworkMembershipFactory(start_date=existing[0], end_date=existing[1])
    other_network = PcnFactory()
    call = lambda: services.add_network_membership(  # noqa: E731
        db_session,
        practice=first.practice,
        network=other_network,
        start_date=new[0],
        end_date=new[1],
    )
    if overlaps:
        with pytest.raises(services.OrganisationError, match="already a member"):
            call()
    else:
        assert call().network_id == other_network.id


def test_database_refuses_overlap_too(db_session):
    """The exclusion constraint holds even if the service is bypassed."""
    first = NetworkMembershipFactory(start_date=D(2024, 4, 1), end_date=None)
    insert = text(
        "INSERT INTO network_membership (practice_id, network_id, start_date) "
        "VALUES (:p, :n, '2025-01-01')"
    )
    params = {"p": first.practice_id, "n": first.network_id}
    with (
        pytest.raises(IntegrityError, match="ex_network_membership_no_overlap"),
        db_session.begin_nested(),
    ):
        db_session.execute(insert, params)


def test_membership_needs_a_practice_and_a_pcn(db_session):
    practice, pcn = PracticeFactory(), PcnFactory()
    with pytest.raises(services.OrganisationError, match="Only a GP practice"):
        services.add_network_membership(
            db_session, practice=pcn, network=pcn, start_date=D(2024, 4, 1)
        )
    with pytest.raises(services.OrganisationError, match="only be a member of a primary"):
        services.add_network_membership(
            db_session, practice=practice, network=practice, start_date=D(2024, 4, 1)
        )


# --- Approval mode ------------------------------------------------------------------------


def test_icb_administrator_changes_approval_mode_with_audit(db_session):
    icb = IcbFactory()
    practice = PracticeFactory(parent=SubLocationFactory(parent=icb))
    admin = user_with_role(Role.ADMINISTRATOR, icb)
    changed = services.change_approval_mode(
        db_session, practice=practice, mode=ApprovalMode.TWO_STEP, actor=admin, reason="asked"
    )
    assert changed
    assert practice.approval_mode is ApprovalMode.TWO_STEP
    event = db_session.scalar(
        select(AuditEvent).where(AuditEvent.action == "organisation.approval_mode_changed")
    )
    assert event.before == {"approval_mode": "ONE_STEP"}
    assert event.after == {"approval_mode": "TWO_STEP"}
    assert event.actor_id == admin.id
    assert event.reason == "asked"


def test_setting_the_same_mode_records_nothing(db_session):
    icb = IcbFactory()
    practice = PracticeFactory(parent=icb)
    admin = user_with_role(Role.ADMINISTRATOR, icb)
    assert not services.change_approval_mode(
        db_session, practice=practice, mode=ApprovalMode.ONE_STEP, actor=admin
    )


@pytest.mark.parametrize(
    "who",
    ["other-icb-administrator", "own-icb-tier-1", "practice-approver"],
)
def test_only_the_practices_own_icb_administrator_may_change_it(db_session, who):
    icb = IcbFactory()
    practice = PracticeFactory(parent=icb, approval_mode=ApprovalMode.TWO_STEP)
    actor = {
        "other-icb-administrator": lambda: user_with_role(Role.ADMINISTRATOR, IcbFactory()),
        "own-icb-tier-1": lambda: user_with_role(Role.APPROVER_TIER_1, icb),
        "practice-approver": lambda: user_with_role(Role.PROVIDER_APPROVER, practice),
    }[who]()
    with pytest.raises(PermissionDenied):
        services.change_approval_mode(
            db_session, practice=practice, mode=ApprovalMode.ONE_STEP, actor=actor
        )
    assert practice.approval_mode is ApprovalMode.TWO_STEP
