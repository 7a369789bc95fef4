"""Demo data for ``make run``: an ICB with its practices and a person for every role.

Loading is idempotent: each record is looked up by its natural key (ODS code, email,
membership) and created only when missing; schemes and claims load after the people.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from claims_portal.access import services as access_services
from claims_portal.access.models import Membership, User
from claims_portal.access.roles import Role
from claims_portal.access.services.settings import AccessSettings
from claims_portal.claims.demo import load_demo_claims
from claims_portal.claims.evidence import EvidenceStore, store_from_config
from claims_portal.claims.services.settings import ClaimsSettings
from claims_portal.db import DbSession
from claims_portal.national.demo import load_demo_offers, load_demo_services_created
from claims_portal.organisations import services as organisation_services
from claims_portal.organisations.models import (
    ApprovalMode,
    NetworkMembership,
    Organisation,
    OrganisationKind,
)
from claims_portal.payments.demo import load_demo_paycodes, load_demo_payments
from claims_portal.schemes.demo import ADMINISTRATOR, load_demo_schemes

#: The password of every demo account (development only; printed by ``claims-portal demo``).
DEMO_PASSWORD = "Portal-demo-2026"  # noqa: S105 - demo data, printed to the terminal
START = dt.date(2024, 4, 1)

ORGANISATIONS: list[tuple[OrganisationKind, str, str, str | None, ApprovalMode | None]] = [
    (OrganisationKind.NATIONAL_COMMISSIONER, "X24", "NHS England", None, None),
    (OrganisationKind.ICB, "QXV", "NHS Vale and Downs Integrated Care Board", "X24", None),
    (OrganisationKind.ICB_SUB_LOCATION, "91A", "Vale and Downs ICB - Northvale", "QXV", None),
    (OrganisationKind.ICB_SUB_LOCATION, "91B", "Vale and Downs ICB - Southdowns", "QXV", None),
    (OrganisationKind.PCN, "U90001", "Northvale Central PCN", "91A", None),
    (OrganisationKind.PCN, "U90002", "Southdowns Coastal PCN", "91B", None),
    (OrganisationKind.FEDERATION, "VDF01", "Vale and Downs GP Federation", "QXV", None),
    (
        OrganisationKind.GP_PRACTICE,
        "Y90001",
        "Riverside Medical Centre",
        "91A",
        ApprovalMode.TWO_STEP,
    ),
    (OrganisationKind.GP_PRACTICE, "Y90002", "Millbrook Surgery", "91A", ApprovalMode.ONE_STEP),
    (
        OrganisationKind.GP_PRACTICE,
        "Y90003",
        "Oakfield Health Centre",
        "91A",
        ApprovalMode.TWO_STEP,
    ),
    (OrganisationKind.GP_PRACTICE, "Y90004", "Kingsway Practice", "91A", ApprovalMode.ONE_STEP),
    (OrganisationKind.GP_PRACTICE, "Y90005", "Harbour View Surgery", "91B", ApprovalMode.TWO_STEP),
    (
        OrganisationKind.GP_PRACTICE,
        "Y90006",
        "Cliffside Family Practice",
        "91B",
        ApprovalMode.ONE_STEP,
    ),
    (
        OrganisationKind.GP_PRACTICE,
        "Y90007",
        "Downland Medical Group",
        "91B",
        ApprovalMode.TWO_STEP,
    ),
    (OrganisationKind.GP_PRACTICE, "Y90008", "St Anne's Surgery", "91B", ApprovalMode.ONE_STEP),
]

NETWORKS = {
    "Y90001": "U90001",
    "Y90002": "U90001",
    "Y90003": "U90001",
    "Y90004": "U90001",
    "Y90005": "U90002",
    "Y90006": "U90002",
    "Y90007": "U90002",
    "Y90008": "U90002",
}

#: (email, full name, [(ODS code, role)])
PEOPLE: list[tuple[str, str, list[tuple[str, Role]]]] = [
    ("priya.shah@example.nhs.net", "Priya Shah", [("QXV", Role.ADMINISTRATOR)]),
    ("tom.okafor@example.nhs.net", "Tom Okafor", [("QXV", Role.APPROVER_TIER_1)]),
    # A second tier 1 approver: claims Tom makes in bulk need someone else to approve them.
    ("nadia.hussain@example.nhs.net", "Nadia Hussain", [("QXV", Role.APPROVER_TIER_1)]),
    ("helen.morris@example.nhs.net", "Helen Morris", [("QXV", Role.APPROVER_TIER_2)]),
    ("gareth.lewis@example.nhs.net", "Gareth Lewis", [("QXV", Role.FINANCE)]),
    (
        "sarah.bennett@example.nhs.net",
        "Sarah Bennett",
        [("Y90001", Role.PROVIDER_APPROVER), ("Y90003", Role.PROVIDER_APPROVER)],
    ),
    ("james.whitfield@example.nhs.net", "James Whitfield", [("Y90001", Role.PROVIDER_USER_MULTI)]),
    ("aisha.rahman@example.nhs.net", "Aisha Rahman", [("Y90002", Role.PROVIDER_USER_SINGLE)]),
    # The PCN's manager answers the schemes offered to the PCN itself (docs/schemes.md).
    ("marcus.lee@example.nhs.net", "Marcus Lee", [("U90001", Role.PROVIDER_APPROVER)]),
    (
        "owen.price@example.nhs.net",
        "Owen Price",
        [("Y90002", Role.ACHIEVEMENT_ENTRY), ("U90001", Role.DECLARATION_MANAGEMENT)],
    ),
    ("fatima.begum@example.nhs.net", "Fatima Begum", [("X24", Role.COMMISSIONING_MANAGEMENT)]),
    ("daniel.reed@example.nhs.net", "Daniel Reed", [("X24", Role.APPROVAL_MANAGEMENT)]),
    ("grace.adeyemi@example.nhs.net", "Grace Adeyemi", [("X24", Role.FINANCE_MANAGEMENT)]),
    ("lucy.turner@example.nhs.net", "Lucy Turner", [("X24", Role.VIEW)]),
    # National services: a national administrator (the services of each year, in the admin)
    # and a practice manager who answers offers of national services for four practices (three
    # answered in the demo, one waiting for her).
    ("sam.carter@example.nhs.net", "Sam Carter", [("X24", Role.ADMINISTRATOR)]),
    # A practice's own user administrator: its people and access requests, no schemes.
    ("jo.bennett@example.nhs.net", "Jo Bennett", [("Y90004", Role.USER_ADMINISTRATOR)]),
    (
        "ruth.evans@example.nhs.net",
        "Ruth Evans",
        [
            ("Y90001", Role.SERVICE_MANAGEMENT),
            ("Y90002", Role.SERVICE_MANAGEMENT),
            ("Y90003", Role.SERVICE_MANAGEMENT),
            ("Y90005", Role.SERVICE_MANAGEMENT),
        ],
    ),
]


@dataclass
class DemoSummary:
    created: int = 0
    logins: list[tuple[str, str, str]] = field(default_factory=list)

    def describe(self, password: str) -> str:
        lines = [
            "Demo data ready"
            + (f" ({self.created} records added)." if self.created else " (already loaded)."),
            f"Every demo account's password: {password}",
            "",
            f"{'Email (username)':<34} {'Role':<34} Organisation",
        ]
        lines += [f"{email:<34} {role:<34} {org}" for email, role, org in self.logins]
        return "\n".join(lines)


def load_demo_data(session: DbSession) -> DemoSummary:
    """Create whatever demo records are missing; returns what to print."""
    summary = DemoSummary()
    by_code: dict[str, Organisation] = {
        o.ods_code: o for o in session.scalars(select(Organisation)).all()
    }
    for kind, code, name, parent_code, mode in ORGANISATIONS:
        if code in by_code:
            continue
        by_code[code] = organisation_services.create_organisation(
            session,
            kind=kind,
            ods_code=code,
            name=name,
            parent=by_code[parent_code] if parent_code else None,
            active_from=START,
            approval_mode=mode,
        )
        summary.created += 1

    for practice_code, network_code in NETWORKS.items():
        practice = by_code[practice_code]
        exists = session.scalar(
            select(NetworkMembership.id).where(NetworkMembership.practice_id == practice.id)
        )
        if exists is None:
            organisation_services.add_network_membership(
                session, practice=practice, network=by_code[network_code], start_date=START
            )
            summary.created += 1

    settings = _access_settings()
    for email, full_name, roles in PEOPLE:
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = access_services.create_user(
                session, email=email, full_name=full_name, password=DEMO_PASSWORD, settings=settings
            )
            summary.created += 1
        for code, role in roles:
            organisation = by_code[code]
            held = session.scalar(
                select(Membership.id).where(
                    Membership.user_id == user.id,
                    Membership.organisation_id == organisation.id,
                    Membership.role == role,
                )
            )
            if held is None:
                access_services.grant_membership(
                    session, user=user, organisation=organisation, role=role, start_date=START
                )
                summary.created += 1
            summary.logins.append((email, str(role), organisation.display_name))
    summary.created += load_demo_paycodes(
        session, administrator_email=ADMINISTRATOR, icb_code="QXV"
    )
    summary.created += load_demo_schemes(session)
    store = _evidence_store()
    try:
        summary.created += load_demo_claims(session, store=store, settings=_claims_settings())
    finally:
        if store is not None:
            store.close()
    summary.created += load_demo_payments(
        session, icb_code="QXV", finance_email="gareth.lewis@example.nhs.net"
    )
    summary.created += load_demo_services_created(session)
    summary.created += load_demo_offers(
        session,
        commissioner_email="fatima.begum@example.nhs.net",
        answerer_email="ruth.evans@example.nhs.net",
        icb_code="QXV",
    )
    return summary


def _access_settings() -> AccessSettings:
    """The app's access settings (the defaults outside an app)."""
    from flask import has_app_context

    from claims_portal.service_settings import access_settings

    return access_settings() if has_app_context() else AccessSettings()


def _claims_settings() -> ClaimsSettings:
    """The app's claims settings (the defaults outside an app)."""
    from flask import has_app_context

    from claims_portal.service_settings import claims_settings

    return claims_settings() if has_app_context() else ClaimsSettings()


def _evidence_store() -> EvidenceStore | None:
    """The app's evidence store for the demo claims' files (None outside an app)."""
    from flask import current_app, has_app_context

    return store_from_config(current_app.config) if has_app_context() else None
