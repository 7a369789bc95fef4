"""The capability table, spelled out: for every capability, exactly which roles hold it.

Changing who may do what means changing this list too, on purpose.
"""

from __future__ import annotations

import datetime as dt

import pytest

from claims_portal.access.roles import (
    ROLE_CAPABILITIES,
    Capability,
    Role,
    capabilities_of,
    roles_allowed_for,
)
from claims_portal.access.services.permissions import has_capability
from claims_portal.organisations.models import OrganisationKind
from tests.factories.access import MembershipFactory, UserFactory, user_with_role
from tests.factories.organisations import IcbFactory, PracticeFactory, SubLocationFactory

R = Role
PROVIDERS = {R.PROVIDER_USER_SINGLE, R.PROVIDER_USER_MULTI, R.PROVIDER_APPROVER}
COMMISSIONERS = {R.ADMINISTRATOR, R.APPROVER_TIER_1, R.APPROVER_TIER_2, R.FINANCE}
NATIONAL = {
    R.COMMISSIONING_MANAGEMENT,
    R.SERVICE_MANAGEMENT,
    R.ACHIEVEMENT_ENTRY,
    R.DECLARATION_MANAGEMENT,
    R.APPROVAL_MANAGEMENT,
    R.FINANCE_MANAGEMENT,
    R.USER_ADMINISTRATOR,
    R.VIEW,
}

EXPECTED: dict[Capability, set[Role]] = {
    Capability.VIEW_ORGANISATION: set(Role),
    Capability.VIEW_AUDIT_TRAIL: {R.ADMINISTRATOR},
    Capability.HEAR_OF_QUARANTINED_FILES: {R.ADMINISTRATOR},
    Capability.CHANGE_APPROVAL_MODE: {R.ADMINISTRATOR},
    Capability.ADMINISTER_USERS: {R.ADMINISTRATOR, R.USER_ADMINISTRATOR},
    Capability.APPROVE_PRACTICE_ACCESS: {R.PROVIDER_APPROVER},
    Capability.CONFIGURE_SCHEMES: {R.ADMINISTRATOR},
    Capability.VIEW_SCHEMES: COMMISSIONERS,
    Capability.ACCESS_ADMIN: COMMISSIONERS,
    Capability.CREATE_CLAIM: PROVIDERS,
    Capability.SUBMIT_CLAIM_TO_COMMISSIONER: {R.PROVIDER_USER_SINGLE, R.PROVIDER_APPROVER},
    Capability.APPROVE_CLAIM_PROVIDER: {R.PROVIDER_APPROVER},
    Capability.VIEW_PROVIDER_CLAIMS: PROVIDERS,
    Capability.VIEW_COMMISSIONER_CLAIMS: COMMISSIONERS,
    Capability.APPROVE_CLAIM_TIER_1: {R.APPROVER_TIER_1},
    Capability.APPROVE_CLAIM_TIER_2: {R.APPROVER_TIER_2},
    Capability.APPROVE_CLAIM_FINANCE: {R.FINANCE},
    Capability.MANAGE_PAYMENTS: {R.FINANCE},
    Capability.VIEW_PAYMENT_REPORTS: {R.ADMINISTRATOR, R.APPROVER_TIER_2, R.FINANCE},
    Capability.VIEW_PRACTICE_PAYMENTS: PROVIDERS,
    Capability.RESPOND_TO_OFFER: {R.PROVIDER_USER_SINGLE, R.PROVIDER_APPROVER},
    Capability.ENTER_ACHIEVEMENT: {R.ACHIEVEMENT_ENTRY},
    Capability.DECLARE_ACHIEVEMENT: {R.DECLARATION_MANAGEMENT},
    Capability.APPROVE_ACHIEVEMENT: {R.APPROVAL_MANAGEMENT},
    Capability.APPROVE_ACHIEVEMENT_FINANCE: {R.FINANCE_MANAGEMENT},
    Capability.MANAGE_NATIONAL_OFFERS: {R.COMMISSIONING_MANAGEMENT},
    Capability.RESPOND_TO_NATIONAL_OFFER: {R.SERVICE_MANAGEMENT},
    Capability.LOAD_ACHIEVEMENT_EXTRACTS: {R.ADMINISTRATOR, R.COMMISSIONING_MANAGEMENT},
    Capability.CONFIGURE_NATIONAL_SERVICES: {R.ADMINISTRATOR},
    Capability.VIEW_NATIONAL_ACHIEVEMENT: NATIONAL,
}


@pytest.mark.parametrize("capability", list(Capability), ids=lambda c: c.name)
def test_who_holds_each_capability(capability):
    assert set(ROLE_CAPABILITIES[capability]) == EXPECTED[capability]


def test_every_capability_is_in_the_table():
    assert set(ROLE_CAPABILITIES) == set(Capability) == set(EXPECTED)


def test_capabilities_of_a_role_reads_the_same_table():
    assert Capability.APPROVE_CLAIM_TIER_1 in capabilities_of(R.APPROVER_TIER_1)
    assert Capability.APPROVE_CLAIM_TIER_2 not in capabilities_of(R.APPROVER_TIER_1)


def test_roles_fit_the_kind_of_organisation():
    assert R.ADMINISTRATOR in roles_allowed_for(OrganisationKind.ICB)
    assert R.ADMINISTRATOR not in roles_allowed_for(OrganisationKind.GP_PRACTICE)
    assert R.PROVIDER_APPROVER in roles_allowed_for(OrganisationKind.GP_PRACTICE)
    assert R.PROVIDER_APPROVER not in roles_allowed_for(OrganisationKind.ICB)


# --- Scope: which organisations a membership reaches ----------------------------------------


def test_commissioner_role_reaches_practices_under_its_icb(db_session):
    icb = IcbFactory()
    practice = PracticeFactory(parent=SubLocationFactory(parent=icb))
    tier1 = user_with_role(R.APPROVER_TIER_1, icb)
    assert has_capability(tier1, Capability.APPROVE_CLAIM_TIER_1, practice)
    assert not has_capability(tier1, Capability.APPROVE_CLAIM_TIER_1, PracticeFactory())


def test_provider_role_reaches_only_its_own_practice(db_session):
    icb = IcbFactory()
    practice, neighbour = PracticeFactory(parent=icb), PracticeFactory(parent=icb)
    approver = user_with_role(R.PROVIDER_APPROVER, practice)
    assert has_capability(approver, Capability.APPROVE_CLAIM_PROVIDER, practice)
    assert not has_capability(approver, Capability.APPROVE_CLAIM_PROVIDER, neighbour)
    assert not has_capability(approver, Capability.APPROVE_CLAIM_PROVIDER, icb)


def test_memberships_count_only_inside_their_dates(db_session):
    practice = PracticeFactory()
    user = UserFactory()
    MembershipFactory(
        user=user,
        organisation=practice,
        role=R.PROVIDER_USER_SINGLE,
        start_date=dt.date(2025, 1, 1),
        end_date=dt.date(2025, 12, 31),
    )
    cap = Capability.CREATE_CLAIM
    assert has_capability(user, cap, practice, today=dt.date(2025, 6, 1))
    assert not has_capability(user, cap, practice, today=dt.date(2024, 12, 31))
    assert not has_capability(user, cap, practice, today=dt.date(2026, 1, 1))


def test_revoked_membership_and_disabled_user_grant_nothing(db_session):
    practice = PracticeFactory()
    revoked = UserFactory()
    MembershipFactory(
        user=revoked,
        organisation=practice,
        role=R.PROVIDER_USER_SINGLE,
        revoked_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
    )
    disabled = user_with_role(R.PROVIDER_USER_SINGLE, practice, is_disabled=True)
    assert not has_capability(revoked, Capability.CREATE_CLAIM, practice)
    assert not has_capability(disabled, Capability.CREATE_CLAIM, practice)
