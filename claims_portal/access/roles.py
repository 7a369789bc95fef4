"""Roles and the capabilities they grant: the one place that maps one to the other.

Views and services ask for a *capability* (``Capability.APPROVE_CLAIM_TIER_1``), never a role,
so that who may do what is read and changed here alone. ``tests/access/test_roles.py`` lists,
for every capability, the roles that hold it.
"""

from __future__ import annotations

import enum

from claims_portal.organisations.models import OrganisationKind


class Role(enum.StrEnum):
    # Provider side (practices, PCNs, federations).
    PROVIDER_USER_SINGLE = "User (single-level practice)"
    PROVIDER_USER_MULTI = "User (multi-level practice)"
    PROVIDER_APPROVER = "Approver (multi-level practice)"
    # Commissioner side (ICBs and their sub-locations).
    ADMINISTRATOR = "Administrator"
    APPROVER_TIER_1 = "Approver tier 1"
    APPROVER_TIER_2 = "Approver tier 2"
    FINANCE = "Finance"
    # National quality services (later issues).
    COMMISSIONING_MANAGEMENT = "Commissioning management"
    #: A provider's: answers offers of national services.
    SERVICE_MANAGEMENT = "Service management"
    ACHIEVEMENT_ENTRY = "Achievement entry"
    DECLARATION_MANAGEMENT = "Declaration management"
    APPROVAL_MANAGEMENT = "Approval management"
    FINANCE_MANAGEMENT = "Finance management"
    #: Manages the people of its organisation (and those under it): access requests,
    #: roles, links; without a commissioner administrator's scheme set-up.
    USER_ADMINISTRATOR = "User administrator"
    VIEW = "View"

    @property
    def is_commissioner_role(self) -> bool:
        return self in COMMISSIONER_ROLES


PROVIDER_ROLES = frozenset(
    {Role.PROVIDER_USER_SINGLE, Role.PROVIDER_USER_MULTI, Role.PROVIDER_APPROVER}
)
COMMISSIONER_ROLES = frozenset(
    {Role.ADMINISTRATOR, Role.APPROVER_TIER_1, Role.APPROVER_TIER_2, Role.FINANCE}
)
NATIONAL_ROLES = frozenset(
    {
        Role.COMMISSIONING_MANAGEMENT,
        Role.SERVICE_MANAGEMENT,
        Role.ACHIEVEMENT_ENTRY,
        Role.DECLARATION_MANAGEMENT,
        Role.APPROVAL_MANAGEMENT,
        Role.FINANCE_MANAGEMENT,
        Role.USER_ADMINISTRATOR,
        Role.VIEW,
    }
)


def roles_allowed_for(kind: OrganisationKind) -> frozenset[Role]:
    """The roles a membership of an organisation of this kind may carry.

    National roles are held both by providers (achievement entry, declaration) and by
    commissioners (commissioning, approval, finance management), as in CQRS National.
    """
    if kind.is_commissioner:
        return COMMISSIONER_ROLES | NATIONAL_ROLES
    return PROVIDER_ROLES | NATIONAL_ROLES


class Capability(enum.StrEnum):
    """What a person may do; each is granted to roles in :data:`ROLE_CAPABILITIES`."""

    VIEW_ORGANISATION = "view organisation"
    VIEW_AUDIT_TRAIL = "view audit trail"
    #: Told when the virus check quarantines a file uploaded to a claim made to the ICB.
    HEAR_OF_QUARANTINED_FILES = "be told of files the virus check quarantined"
    CHANGE_APPROVAL_MODE = "change a practice's approval mode"
    ADMINISTER_USERS = "administer users"
    APPROVE_PRACTICE_ACCESS = "approve access requests for a two-step practice"
    CONFIGURE_SCHEMES = "configure schemes"
    VIEW_SCHEMES = "view schemes"
    ACCESS_ADMIN = "use the scheme administration"
    CREATE_CLAIM = "create claim"
    SUBMIT_CLAIM_TO_COMMISSIONER = "submit claim to commissioner"
    APPROVE_CLAIM_PROVIDER = "approve claim for the practice"
    VIEW_PROVIDER_CLAIMS = "view the practice's claims"
    VIEW_COMMISSIONER_CLAIMS = "view the commissioner's claims"
    APPROVE_CLAIM_TIER_1 = "approve claim at tier 1"
    APPROVE_CLAIM_TIER_2 = "approve claim at tier 2"
    APPROVE_CLAIM_FINANCE = "approve claim for finance"
    #: Payments: hold, send again, record by hand, raise and approve recoveries, run by hand.
    MANAGE_PAYMENTS = "manage payments"
    #: The ICB's payments and accruals reports.
    VIEW_PAYMENT_REPORTS = "view payment reports"
    #: A practice's payments page and statements.
    VIEW_PRACTICE_PAYMENTS = "view the practice's payments"
    RESPOND_TO_OFFER = "accept or reject an offer"
    ENTER_ACHIEVEMENT = "enter achievement data"
    DECLARE_ACHIEVEMENT = "declare achievement"
    APPROVE_ACHIEVEMENT = "approve achievement"
    APPROVE_ACHIEVEMENT_FINANCE = "finance-approve achievement"
    MANAGE_NATIONAL_OFFERS = "offer national services"
    RESPOND_TO_NATIONAL_OFFER = "accept or reject an offer of a national service"
    #: National commissioner only: upload achievement extracts.
    LOAD_ACHIEVEMENT_EXTRACTS = "load achievement extracts"
    #: National commissioner only: the services of each year, their indicators and figures.
    CONFIGURE_NATIONAL_SERVICES = "configure national services"
    VIEW_NATIONAL_ACHIEVEMENT = "view national achievement"


_PROVIDER_ANY = {Role.PROVIDER_USER_SINGLE, Role.PROVIDER_USER_MULTI, Role.PROVIDER_APPROVER}
_COMMISSIONER_ANY = {Role.ADMINISTRATOR, Role.APPROVER_TIER_1, Role.APPROVER_TIER_2, Role.FINANCE}

#: The single table of who may do what.
ROLE_CAPABILITIES: dict[Capability, frozenset[Role]] = {
    Capability.VIEW_ORGANISATION: frozenset(Role),
    Capability.VIEW_AUDIT_TRAIL: frozenset({Role.ADMINISTRATOR}),
    Capability.HEAR_OF_QUARANTINED_FILES: frozenset({Role.ADMINISTRATOR}),
    Capability.CHANGE_APPROVAL_MODE: frozenset({Role.ADMINISTRATOR}),
    Capability.ADMINISTER_USERS: frozenset({Role.ADMINISTRATOR, Role.USER_ADMINISTRATOR}),
    Capability.APPROVE_PRACTICE_ACCESS: frozenset({Role.PROVIDER_APPROVER}),
    Capability.CONFIGURE_SCHEMES: frozenset({Role.ADMINISTRATOR}),
    Capability.VIEW_SCHEMES: frozenset(_COMMISSIONER_ANY),
    Capability.ACCESS_ADMIN: frozenset(_COMMISSIONER_ANY),
    Capability.CREATE_CLAIM: frozenset(_PROVIDER_ANY),
    Capability.SUBMIT_CLAIM_TO_COMMISSIONER: frozenset(
        {Role.PROVIDER_USER_SINGLE, Role.PROVIDER_APPROVER}
    ),
    Capability.APPROVE_CLAIM_PROVIDER: frozenset({Role.PROVIDER_APPROVER}),
    Capability.VIEW_PROVIDER_CLAIMS: frozenset(_PROVIDER_ANY),
    Capability.VIEW_COMMISSIONER_CLAIMS: frozenset(_COMMISSIONER_ANY),
    Capability.APPROVE_CLAIM_TIER_1: frozenset({Role.APPROVER_TIER_1}),
    Capability.APPROVE_CLAIM_TIER_2: frozenset({Role.APPROVER_TIER_2}),
    Capability.APPROVE_CLAIM_FINANCE: frozenset({Role.FINANCE}),
    Capability.MANAGE_PAYMENTS: frozenset({Role.FINANCE}),
    Capability.VIEW_PAYMENT_REPORTS: frozenset(
        {Role.ADMINISTRATOR, Role.APPROVER_TIER_2, Role.FINANCE}
    ),
    Capability.VIEW_PRACTICE_PAYMENTS: frozenset(_PROVIDER_ANY),
    Capability.RESPOND_TO_OFFER: frozenset({Role.PROVIDER_USER_SINGLE, Role.PROVIDER_APPROVER}),
    Capability.ENTER_ACHIEVEMENT: frozenset({Role.ACHIEVEMENT_ENTRY}),
    Capability.DECLARE_ACHIEVEMENT: frozenset({Role.DECLARATION_MANAGEMENT}),
    Capability.APPROVE_ACHIEVEMENT: frozenset({Role.APPROVAL_MANAGEMENT}),
    Capability.APPROVE_ACHIEVEMENT_FINANCE: frozenset({Role.FINANCE_MANAGEMENT}),
    Capability.MANAGE_NATIONAL_OFFERS: frozenset({Role.COMMISSIONING_MANAGEMENT}),
    Capability.RESPOND_TO_NATIONAL_OFFER: frozenset({Role.SERVICE_MANAGEMENT}),
    Capability.LOAD_ACHIEVEMENT_EXTRACTS: frozenset(
        {Role.ADMINISTRATOR, Role.COMMISSIONING_MANAGEMENT}
    ),
    Capability.CONFIGURE_NATIONAL_SERVICES: frozenset({Role.ADMINISTRATOR}),
    Capability.VIEW_NATIONAL_ACHIEVEMENT: frozenset(NATIONAL_ROLES),
}


def roles_with(capability: Capability) -> frozenset[Role]:
    return ROLE_CAPABILITIES[capability]


def capabilities_of(role: Role) -> frozenset[Capability]:
    return frozenset(cap for cap, roles in ROLE_CAPABILITIES.items() if role in roles)
