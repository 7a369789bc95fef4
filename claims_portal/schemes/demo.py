"""Demo schemes for the Vale and Downs ICB (QXV), built through the services.

Each scheme covers the current financial year; the health checks scheme also ran last
year, so that on any day of the year (1 April included) some windows are open, some were
missed and some are to come: its windows stay open 45 days, longer than any month, so one
is always open. The ICB's administrator builds, publishes and offers them; the demo
practices' users answer the offers, which leaves offers in every state.
Loading is idempotent: a scheme is looked up by its code and commissioner, an offer by its
scheme and provider.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.clock import today
from claims_portal.db import DbSession
from claims_portal.organisations.models import Organisation
from claims_portal.schemes import services
from claims_portal.schemes.models import (
    ClaimFrequency,
    EvidenceRequirement,
    Offer,
    QuestionKind,
    Scheme,
    SchemeStatus,
)
from claims_portal.schemes.services import offers as offer_services

ADMINISTRATOR = "priya.shah@example.nhs.net"
#: (provider ODS code, final state, email of who answers, reason)
DemoOffer = tuple[str, str, str | None, str | None]


@dataclass
class DemoScheme:
    code: str
    name: str
    description: str
    commissioner: str
    frequency: ClaimFrequency
    #: The calendar year its financial year starts in (2026 for 2026/27).
    year_start: int
    window_days: int = 30
    evidence: EvidenceRequirement = EvidenceRequirement.NOT_REQUIRED
    participation_only: bool = False
    pay_through_agency: bool = True
    paycode: str | None = None
    multi_service_claims: bool = False
    #: (code, name, unit label, caps, [(months after 1 April, unit value)])
    components: list[tuple[str, str, str, dict[str, Any], list[tuple[int, str]]]] = field(
        default_factory=list
    )
    questions: list[dict[str, Any]] = field(default_factory=list)
    publish: bool = True
    offers: list[DemoOffer] = field(default_factory=list)


def financial_year_start(day: dt.date) -> int:
    """The calendar year in which the financial year holding ``day`` began (1 April)."""
    return day.year if day.month >= 4 else day.year - 1


def year_suffix(year_start: int) -> str:
    """``2627`` for the financial year 2026/27, as scheme codes end."""
    return f"{year_start % 100:02d}{(year_start + 1) % 100:02d}"


def health_checks_code(year_start: int) -> str:
    return f"LES-HC-{year_suffix(year_start)}"


def _health_checks(year_start: int, offers: list[DemoOffer]) -> DemoScheme:
    return DemoScheme(
        code=health_checks_code(year_start),
        name="NHS Health Checks (local enhanced service)",
        description="Health checks for people aged 40 to 74 with no existing vascular "
        "condition, and follow-up for those found at raised risk.",
        commissioner="QXV",
        frequency=ClaimFrequency.MONTHLY,
        year_start=year_start,
        window_days=45,
        paycode="LESHC01",
        multi_service_claims=True,
        components=[
            (
                "HC1",
                "NHS Health Check",
                "health check completed",
                {"max_units_per_claim": 150},
                [(0, "25.00")],
            ),
            (
                "HC2",
                "Follow-up of raised cardiovascular risk",
                "follow-up appointment",
                {"year_cap_amount": Decimal("6000.00")},
                [(0, "12.50"), (6, "14.00")],
            ),
        ],
        offers=offers,
    )


SARAH, AISHA = "sarah.bennett@example.nhs.net", "aisha.rahman@example.nhs.net"


def last_year_schemes(year_start: int) -> list[DemoScheme]:
    """Last year's health checks, still claimed for in the first weeks of this year."""
    return [
        _health_checks(
            year_start - 1, [("Y90001", "ACTIVE", SARAH, None), ("Y90002", "ACTIVE", AISHA, None)]
        )
    ]


def demo_schemes(year_start: int) -> list[DemoScheme]:
    return [
        _health_checks(
            year_start,
            [
                ("Y90001", "ACTIVE", SARAH, None),
                ("Y90002", "ACTIVE", AISHA, None),
                ("Y90003", "PENDING", None, None),
                ("Y90005", "PENDING", None, None),
                ("Y90006", "PENDING", None, None),
            ],
        ),
        _quality_improvement(year_start),
        _ward_rounds(year_start),
        _phlebotomy_draft(year_start),
    ]


def _quality_improvement(year_start: int) -> DemoScheme:
    """Quarterly, with caps, questions and evidence for the whole scheme."""
    suffix = year_suffix(year_start)
    return DemoScheme(
        code=f"LIS-QI-{suffix}",
        name="Diabetes care quality improvement (local incentive scheme)",
        description="Structured reviews and foot checks for people with type 2 diabetes.",
        commissioner="91A",
        frequency=ClaimFrequency.QUARTERLY,
        year_start=year_start,
        window_days=60,
        evidence=EvidenceRequirement.WHOLE_SCHEME,
        paycode="LISQI02",
        components=[
            (
                "QI1",
                "Structured diabetes review",
                "review completed",
                {"period_cap_units": 120, "year_cap_amount": Decimal("8000.00")},
                [(0, "18.00")],
            ),
            (
                "QI2",
                "Annual foot check",
                "foot check completed",
                {"period_cap_amount": Decimal("600.00")},
                [(0, "9.50")],
            ),
        ],
        questions=[
            {
                "text": "Did the practice hold a diabetes multidisciplinary meeting this quarter?",
                "kind": QuestionKind.YES_NO,
                "required": True,
                "display_order": 1,
            },
            {
                "text": "How many patients have an HbA1c above 58 mmol/mol?",
                "kind": QuestionKind.NUMBER,
                "required": True,
                "help_text": "A count only: no patient details.",
                "display_order": 2,
            },
            {
                "text": "Which audit tool did you use?",
                "kind": QuestionKind.SINGLE_CHOICE,
                "required": False,
                "choices": "Eclipse Live\nArdens\nOther",
                "display_order": 3,
            },
        ],
        offers=[
            ("Y90001", "ACTIVE", SARAH, None),
            ("Y90002", "PENDING", None, None),
            ("Y90003", "REJECTED", SARAH, "No practice nurse hours this year"),
            ("Y90004", "PENDING", None, None),
        ],
    )


def _ward_rounds(year_start: int) -> DemoScheme:
    """Participation only: nothing is claimed."""
    suffix = year_suffix(year_start)
    return DemoScheme(
        code=f"LES-PART-{suffix}",
        name="Care home ward rounds (participation)",
        description="Weekly ward rounds for aligned care homes. Participation only: "
        "paid through the PCN's contract, not per claim.",
        commissioner="QXV",
        frequency=ClaimFrequency.ANNUAL,
        year_start=year_start,
        participation_only=True,
        pay_through_agency=False,
        offers=[
            ("U90001", "PENDING", None, None),
            ("Y90003", "RE_REQUESTED", SARAH, "Sent to the wrong practice manager"),
            ("Y90002", "REJECTED", AISHA, "Covered by our PCN"),
        ],
    )


def _phlebotomy_draft(year_start: int) -> DemoScheme:
    """A draft, not yet published."""
    suffix = year_suffix(year_start)
    return DemoScheme(
        code=f"LES-PHL-{suffix}",
        name="Phlebotomy for secondary care (draft)",
        description="Blood tests requested by hospital clinicians.",
        commissioner="QXV",
        frequency=ClaimFrequency.MONTHLY,
        year_start=year_start,
        paycode="LESPHL3",
        components=[("PH1", "Blood test taken", "sample taken", {}, [(0, "4.20")])],
        publish=False,
    )


def _month(year_start: int, months_after_april: int) -> dt.date:
    index = 3 + months_after_april
    return dt.date(year_start + index // 12, index % 12 + 1, 1)


def load_demo_schemes(session: DbSession) -> int:
    """Create the demo schemes and offers that are missing; returns how many records."""
    people = {u.email: u for u in session.scalars(select(User))}
    organisations = {o.ods_code: o for o in session.scalars(select(Organisation))}
    administrator = people[ADMINISTRATOR]
    year_start = financial_year_start(today())
    created = 0
    for demo in last_year_schemes(year_start) + demo_schemes(year_start):
        commissioner = organisations[demo.commissioner]
        scheme = session.scalar(
            select(Scheme).where(
                Scheme.commissioner_id == commissioner.id, Scheme.code == demo.code
            )
        )
        if scheme is None:
            scheme = _build(session, demo, commissioner, administrator)
            created += 1
        if scheme.status is not SchemeStatus.PUBLISHED:
            continue
        for ods_code, state, answerer, reason in demo.offers:
            provider = organisations[ods_code]
            if session.scalar(
                select(Offer.id).where(
                    Offer.scheme_id == scheme.id, Offer.provider_id == provider.id
                )
            ):
                continue
            offer = offer_services.offer_scheme(session, scheme, provider, actor=administrator)
            _answer(session, offer, state, people.get(answerer or ""), reason)
            created += 1
    return created


def _build(
    session: DbSession,
    demo: DemoScheme,
    commissioner: Organisation,
    administrator: User,
) -> Scheme:
    year_start = demo.year_start
    scheme = services.create_scheme(
        session,
        actor=administrator,
        commissioner=commissioner,
        code=demo.code,
        name=demo.name,
        description=demo.description,
        financial_year=f"{year_start}/{(year_start + 1) % 100:02d}",
        start_date=dt.date(year_start, 4, 1),
        end_date=dt.date(year_start + 1, 3, 31),
        claim_frequency=demo.frequency,
        window_days=demo.window_days,
        evidence_requirement=demo.evidence,
        multi_service_claims=demo.multi_service_claims,
        participation_only=demo.participation_only,
        pay_through_agency=demo.pay_through_agency,
        paycode=demo.paycode,
    )
    for code, name, unit_label, caps, tariffs in demo.components:
        component = services.add_component(
            session,
            scheme,
            actor=administrator,
            code=code,
            name=name,
            unit_label=unit_label,
            **caps,
        )
        for months, value in tariffs:
            services.add_tariff(
                session,
                component,
                actor=administrator,
                unit_value=value,
                effective_from=_month(year_start, months),
            )
    for question in demo.questions:
        services.add_question(session, scheme, actor=administrator, **question)
    services.generate_windows(session, scheme, actor=administrator)
    if demo.publish:
        services.publish_scheme(session, scheme, actor=administrator)
    return scheme


def _answer(
    session: DbSession,
    offer: Offer,
    state: str,
    answerer: User | None,
    reason: str | None,
) -> None:
    if state == "PENDING" or answerer is None:
        return
    if state == "ACTIVE":
        offer_services.accept_offer(session, offer, actor=answerer)
        return
    offer_services.reject_offer(session, offer, actor=answerer, reason=reason)
    if state == "RE_REQUESTED":
        offer_services.request_offer_again(session, offer, actor=answerer)
