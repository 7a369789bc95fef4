"""A realistic volume for the claims benchmark, inserted in bulk (not through the services:
20,000 claims through the lifecycle would take longer than the benchmark itself).

One ICB (QBN) with two sub-locations and 100 one-step practices; 20 published monthly
schemes offered to and accepted by every practice; 20,000 claims (200 per practice, one per
scheme and period) across the statuses in proportions like a working year, each with its
line and its start and submit events; evidence rows on a tenth of them. People: a tier 1
approver (two-factor enrolled through the service layer), and practice users of their own
for the submission and memory runs, with an ad hoc scheme open today to claim under.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select

from claims_portal.access import services as access_services
from claims_portal.access.models import User
from claims_portal.access.roles import Role
from claims_portal.access.services import mfa
from claims_portal.claims.models import (
    Claim,
    ClaimAction,
    ClaimEvent,
    ClaimEvidence,
    ClaimLine,
    ClaimStatus,
)
from claims_portal.clock import today as clock_today
from claims_portal.db import DbSession, utcnow
from claims_portal.organisations.models import ApprovalMode, Organisation, OrganisationKind
from claims_portal.schemes.models import (
    ClaimFrequency,
    ClaimWindow,
    Component,
    Offer,
    OfferStatus,
    Scheme,
    SchemeStatus,
    Tariff,
)
from claims_portal.service_settings import access_settings

PASSWORD = "Bench-password-2026"  # noqa: S105 - a throwaway database's accounts
TIER_1 = "bench.tier1@example.nhs.net"
START = dt.date(2024, 4, 1)

#: (status, share of claims)
MIX: list[tuple[ClaimStatus, float]] = [
    (ClaimStatus.DRAFT, 0.05),
    (ClaimStatus.AWAITING_COMMISSIONER_REVIEW, 0.20),
    (ClaimStatus.AWAITING_PAYMENT_APPROVAL, 0.12),
    (ClaimStatus.AWAITING_FINANCE_APPROVAL, 0.02),
    (ClaimStatus.APPROVED_FOR_PAYMENT, 0.18),
    (ClaimStatus.PAID, 0.33),
    (ClaimStatus.DECLINED, 0.06),
    (ClaimStatus.WITHDRAWN, 0.04),
]


@dataclass
class BenchData:
    icb_id: int = 0
    tier_1_email: str = TIER_1
    tier_1_secret: str = ""
    #: (email, ad hoc window id) of each practice user of the submission and memory runs.
    submitters: list[tuple[str, int]] = field(default_factory=list)
    claims: int = 0


def _organisation(session: DbSession, **values: Any) -> Organisation:
    organisation = Organisation(active_from=START, **values)
    session.add(organisation)
    session.flush()
    return organisation


def _person(session: DbSession, email: str, name: str, organisation: Organisation, role: Role):
    user = access_services.create_user(
        session, email=email, full_name=name, password=PASSWORD, settings=access_settings()
    )
    access_services.grant_membership(
        session, user=user, organisation=organisation, role=role, start_date=START
    )
    return user


def load(session: DbSession, *, practices: int, claims: int, submitters: int) -> BenchData:
    """Fill an empty, migrated database; returns what the runs need. Commits."""
    rng = random.Random(2026)
    day = clock_today()
    year_start = day.year if day.month >= 4 else day.year - 1
    fy_start, fy_end = dt.date(year_start, 4, 1), dt.date(year_start + 1, 3, 31)
    data = BenchData()

    icb = _organisation(session, kind=OrganisationKind.ICB, ods_code="QBN", name="Bench ICB")
    data.icb_id = icb.id
    subs = [
        _organisation(
            session,
            kind=OrganisationKind.ICB_SUB_LOCATION,
            ods_code=f"9B{n}",
            name=f"Bench ICB - Place {n}",
            parent_id=icb.id,
        )
        for n in (1, 2)
    ]
    session.execute(
        insert(Organisation),
        [
            {
                "kind": OrganisationKind.GP_PRACTICE,
                "ods_code": f"B{n:05d}",
                "name": f"Bench Surgery {n:03d}",
                "parent_id": subs[n % 2].id,
                "active_from": START,
                "approval_mode": ApprovalMode.ONE_STEP,
            }
            for n in range(practices)
        ],
    )
    practice_ids = list(
        session.scalars(
            select(Organisation.id)
            .where(Organisation.kind == OrganisationKind.GP_PRACTICE)
            .order_by(Organisation.id)
        )
    )

    tier_1 = _person(session, TIER_1, "Bench Tier One", icb, Role.APPROVER_TIER_1)
    secret = mfa.new_secret()
    mfa.enable(session, tier_1, secret, mfa.code_for(secret), settings=access_settings())
    data.tier_1_secret = secret
    submitter = _person(
        session, "bench.submitter@example.nhs.net", "Bench Submitter", icb, Role.APPROVER_TIER_2
    )
    session.flush()

    now = utcnow()
    schemes = []
    for n in range(20):
        scheme = Scheme(
            code=f"BENCH-{n:02d}",
            name=f"Bench local scheme {n:02d}",
            commissioner_id=icb.id,
            financial_year=f"{year_start}/{(year_start + 1) % 100:02d}",
            start_date=fy_start,
            end_date=fy_end,
            status=SchemeStatus.PUBLISHED,
            claim_frequency=ClaimFrequency.MONTHLY,
            agency_enrolment_date=fy_start,  # paid through the agency, as most are
            published_at=now,
        )
        scheme.components = [
            Component(code="C1", name="Service delivered", unit_label="service delivered")
        ]
        session.add(scheme)
        session.flush()
        session.add(
            Tariff(
                component_id=scheme.components[0].id,
                unit_value=Decimal("25.00"),
                effective_from=fy_start,
            )
        )
        for month in range(12):
            start = dt.date(year_start + (3 + month) // 12, (3 + month) % 12 + 1, 1)
            end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(1)
            session.add(
                ClaimWindow(
                    scheme_id=scheme.id,
                    period_start=start,
                    period_end=end,
                    opens_on=end + dt.timedelta(days=1),
                    closes_on=end + dt.timedelta(days=30),
                )
            )
        schemes.append(scheme)
    session.flush()
    session.execute(
        insert(Offer),
        [
            {
                "scheme_id": scheme.id,
                "provider_id": practice_id,
                "status": OfferStatus.ACTIVE,
                "offered_at": now,
                "status_changed_at": now,
                "responded_at": now,
            }
            for scheme in schemes
            for practice_id in practice_ids
        ],
    )
    windows = {
        scheme.id: list(
            session.scalars(
                select(ClaimWindow)
                .where(ClaimWindow.scheme_id == scheme.id)
                .order_by(ClaimWindow.period_start)
            )
        )
        for scheme in schemes
    }
    _claims(session, rng, data, schemes, windows, practice_ids, claims, tier_1, submitter)
    _submitters(session, data, icb, practice_ids[:submitters], fy_start, fy_end, day, year_start)
    session.commit()
    return data


def _claims(session, rng, data, schemes, windows, practice_ids, count, tier_1, creator) -> None:
    statuses = [s for s, _ in MIX]
    weights = [w for _, w in MIX]
    slots = [(s, w) for s in schemes for w in windows[s.id][:10]]
    now = utcnow()
    batch: list[dict[str, Any]] = []
    made = 0
    for index in range(count):
        practice_id = practice_ids[index % len(practice_ids)]
        scheme, window = slots[(index // len(practice_ids)) % len(slots)]
        status = rng.choices(statuses, weights)[0]
        units = rng.randint(5, 120)
        value = Decimal(units) * Decimal("25.00")
        if status is ClaimStatus.AWAITING_FINANCE_APPROVAL:
            value += Decimal("15000.00")
        submitted = status not in (ClaimStatus.DRAFT, ClaimStatus.WITHDRAWN)
        moment = now - dt.timedelta(minutes=rng.randint(0, 200_000))
        batch.append(
            {
                "provider_id": practice_id,
                "scheme_id": scheme.id,
                "window_id": window.id,
                "period_start": window.period_start,
                "period_end": window.period_end,
                "scope": "scheme",
                "status": status,
                "version": 2 if submitted else 1,
                "round": 1,
                "created_by_id": creator.id,
                "submitted_at": moment if submitted else None,
                "submitted_by_id": creator.id if submitted else None,
                "value": value if submitted else None,
                "reached_commissioner_at": moment if submitted else None,
                "status_changed_at": moment,
                "updated_at": moment,
                "_units": units,
            }
        )
        if len(batch) == 2000 or index == count - 1:
            made += _insert_batch(session, batch, schemes)
            batch = []
    data.claims = made
    del tier_1


def _insert_batch(session: DbSession, batch: list[dict[str, Any]], schemes: list[Scheme]) -> int:
    units = [row.pop("_units") for row in batch]
    ids = list(
        session.scalars(insert(Claim).returning(Claim.id, sort_by_parameter_order=True), batch)
    )
    component_of = {s.id: s.components[0].id for s in schemes}
    session.execute(
        insert(ClaimLine),
        [
            {
                "claim_id": claim_id,
                "component_id": component_of[row["scheme_id"]],
                "units": n,
                "payable_units": n if row["value"] is not None else None,
                "value": row["value"],
            }
            for claim_id, row, n in zip(ids, batch, units, strict=True)
        ],
    )
    events = []
    for claim_id, row in zip(ids, batch, strict=True):
        events.append(
            {
                "claim_id": claim_id,
                "round": 1,
                "action": ClaimAction.START,
                "from_status": None,
                "to_status": ClaimStatus.DRAFT,
                "actor_id": row["created_by_id"],
                "version": 1,
                "occurred_at": row["status_changed_at"],
            }
        )
        if row["submitted_at"] is not None:
            events.append(
                {
                    "claim_id": claim_id,
                    "round": 1,
                    "action": ClaimAction.SUBMIT,
                    "from_status": ClaimStatus.DRAFT,
                    "to_status": row["status"],
                    "actor_id": row["created_by_id"],
                    "value": row["value"],
                    "version": 2,
                    "occurred_at": row["status_changed_at"],
                }
            )
    session.execute(insert(ClaimEvent), events)
    session.execute(
        insert(ClaimEvidence),
        [
            {
                "claim_id": claim_id,
                "key": f"evidence/bench/{claim_id}",
                "filename": "audit.pdf",
                "content_type": "application/pdf",
                "size": 120_000,
                "sha256": "0" * 64,
                "round": 1,
                "uploaded_by_id": row["created_by_id"],
                "uploaded_at": row["status_changed_at"],
            }
            for claim_id, row in zip(ids, batch, strict=True)
            if claim_id % 10 == 0
        ],
    )
    return len(ids)


def _submitters(session, data, icb, practice_ids, fy_start, fy_end, day, year_start) -> None:
    """An ad hoc scheme open today (claims without a one-per-period limit) and a practice
    user for each practice of the submission and memory runs."""
    scheme = Scheme(
        code="BENCH-ADHOC",
        name="Bench ad hoc scheme",
        commissioner_id=icb.id,
        financial_year=f"{year_start}/{(year_start + 1) % 100:02d}",
        start_date=fy_start,
        end_date=fy_end,
        status=SchemeStatus.PUBLISHED,
        claim_frequency=ClaimFrequency.AD_HOC,
        agency_enrolment_date=fy_start,
        published_at=utcnow(),
    )
    scheme.components = [Component(code="A1", name="Session held", unit_label="session")]
    session.add(scheme)
    session.flush()
    session.add(
        Tariff(
            component_id=scheme.components[0].id,
            unit_value=Decimal("40.00"),
            effective_from=fy_start,
        )
    )
    window = ClaimWindow(
        scheme_id=scheme.id,
        period_start=fy_start,
        period_end=fy_end,
        opens_on=fy_start,
        closes_on=max(fy_end, day + dt.timedelta(days=30)),
    )
    session.add(window)
    session.flush()
    for n, practice_id in enumerate(practice_ids):
        practice = session.get(Organisation, practice_id)
        assert practice is not None
        email = f"sam.lee{n:02d}@example.nhs.net"
        _person(session, email, f"Bench Practice User {n:02d}", practice, Role.PROVIDER_USER_SINGLE)
        session.add(
            Offer(
                scheme_id=scheme.id,
                provider_id=practice_id,
                status=OfferStatus.ACTIVE,
                offered_at=utcnow(),
                status_changed_at=utcnow(),
            )
        )
        data.submitters.append((email, window.id))
    session.flush()


def existing(session: DbSession) -> bool:
    return session.scalar(select(User.id).where(User.email == TIER_1)) is not None
