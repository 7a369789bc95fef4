"""Claims and the scene around them: a published scheme with a window open today, a practice
that accepted it, and a person for every step of the approval chain.

``claim_scene()`` builds the scene straight into the database; claims themselves are made
through the services (``start_claim``, ``transition``) so that tests exercise the rules.
``ClaimFactory`` exists for tests that only need a row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import factory

from claims_portal.access.models import User
from claims_portal.access.roles import Role
from claims_portal.claims.models import Claim, ClaimLine, ClaimStatus
from claims_portal.clock import today as clock_today
from claims_portal.db import utcnow
from claims_portal.organisations.models import ApprovalMode, Organisation
from claims_portal.organisations.services import commissioners_of
from claims_portal.schemes.models import (
    ClaimFrequency,
    ClaimWindow,
    Component,
    EvidenceRequirement,
    Offer,
    OfferStatus,
    QuestionKind,
    Scheme,
    SchemeStatus,
)
from tests.factories import BaseFactory
from tests.factories.access import user_with_role
from tests.factories.organisations import IcbFactory, PracticeFactory, SubLocationFactory
from tests.factories.schemes import (
    ClaimWindowFactory,
    ComponentFactory,
    OfferFactory,
    QuestionFactory,
    SchemeFactory,
    TariffFactory,
)


def previous_month(day: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar month before ``day`` (first and last day)."""
    end = day.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


def financial_year_of(day: dt.date) -> tuple[dt.date, dt.date, str]:
    start_year = day.year if day.month >= 4 else day.year - 1
    return (
        dt.date(start_year, 4, 1),
        dt.date(start_year + 1, 3, 31),
        f"{start_year}/{(start_year + 1) % 100:02d}",
    )


@dataclass
class ClaimScene:
    """Everything a claim needs; people are named by what they do."""

    icb: Organisation
    practice: Organisation
    scheme: Scheme
    window: ClaimWindow
    components: list[Component]
    offer: Offer
    #: Creates and submits claims (User (multi-level) in a two-step practice, else single).
    user: User
    #: Provider approver (two-step practices only, else None).
    approver: User | None
    tier_1: User
    tier_2: User
    finance: User
    today: dt.date
    extra: dict[str, Any] = field(default_factory=dict)


def claim_scene(
    *,
    two_step: bool = True,
    tariffs: tuple[str, ...] = ("25.00", "12.50"),
    multi_service: bool = True,
    evidence: EvidenceRequirement = EvidenceRequirement.NOT_REQUIRED,
    questions: bool = False,
    frequency: ClaimFrequency = ClaimFrequency.MONTHLY,
    participation_only: bool = False,
    icb: Organisation | None = None,
    today: dt.date | None = None,
    **component_caps: Any,
) -> ClaimScene:
    """A published scheme with one component per tariff and a window open ``today``
    (default: the clock's today) since two days before, for the month before (two months
    before on the 1st and 2nd); offered to and accepted by a practice
    under a sub-location of ``icb``; the practice's users and the ICB's approvers."""
    day = today or clock_today()
    # The month before, or the one before that on the 1st and 2nd: the window has been open
    # since before yesterday, so a test can close it "yesterday" on any day of the year.
    period_start, period_end = previous_month(day - dt.timedelta(days=2))
    fy_start, fy_end, fy_label = financial_year_of(period_start)
    icb = icb or IcbFactory()
    sub_location = SubLocationFactory(parent=icb)
    practice = PracticeFactory(
        parent=sub_location,
        approval_mode=ApprovalMode.TWO_STEP if two_step else ApprovalMode.ONE_STEP,
    )
    scheme = SchemeFactory(
        commissioner=icb,
        status=SchemeStatus.PUBLISHED,
        financial_year=fy_label,
        start_date=fy_start,
        end_date=fy_end,
        claim_frequency=frequency,
        multi_service_claims=multi_service,
        evidence_requirement=evidence,
        participation_only=participation_only,
        published_at=utcnow(),
    )
    components = []
    if not participation_only:
        for index, amount in enumerate(tariffs):
            component = ComponentFactory(
                scheme=scheme,
                code=f"HC{index + 1}",
                name=f"Health check part {index + 1}",
                unit_label="check completed",
                **component_caps,
            )
            TariffFactory(component=component, unit_value=Decimal(amount), effective_from=fy_start)
            components.append(component)
    if frequency is ClaimFrequency.AD_HOC:
        period_start, period_end = fy_start, fy_end
    window = ClaimWindowFactory(
        scheme=scheme,
        period_start=period_start,
        period_end=period_end,
        opens_on=min(day - dt.timedelta(days=2), period_end + dt.timedelta(days=1)),
        closes_on=day + dt.timedelta(days=10),
    )
    if questions:
        QuestionFactory(scheme=scheme, text="How many patients declined?", kind=QuestionKind.NUMBER)
        QuestionFactory(
            scheme=scheme,
            text="Did you hold a review meeting?",
            kind=QuestionKind.YES_NO,
            display_order=1,
        )
        QuestionFactory(
            scheme=scheme,
            text="Anything the commissioner should know?",
            kind=QuestionKind.TEXT,
            required=False,
            display_order=2,
        )
    offer = OfferFactory(scheme=scheme, provider=practice, status=OfferStatus.ACTIVE)
    user = user_with_role(
        Role.PROVIDER_USER_MULTI if two_step else Role.PROVIDER_USER_SINGLE,
        practice,
        full_name="James Whitfield",
    )
    approver = (
        user_with_role(Role.PROVIDER_APPROVER, practice, full_name="Sarah Bennett")
        if two_step
        else None
    )
    return ClaimScene(
        icb=icb,
        practice=practice,
        scheme=scheme,
        window=window,
        components=components,
        offer=offer,
        user=user,
        approver=approver,
        tier_1=user_with_role(Role.APPROVER_TIER_1, icb, full_name="Tom Okafor"),
        tier_2=user_with_role(Role.APPROVER_TIER_2, icb, full_name="Helen Morris"),
        finance=user_with_role(Role.FINANCE, icb, full_name="Gareth Lewis"),
        today=day,
    )


class ClaimFactory(BaseFactory):
    """A bare claim row (no rules applied): for tests that only need one to exist."""

    class Meta:
        model = Claim

    provider = factory.SubFactory(PracticeFactory)
    icb_id = factory.LazyAttribute(lambda claim: commissioners_of(claim.provider).icb_id)
    sub_location_id = factory.LazyAttribute(
        lambda claim: commissioners_of(claim.provider).sub_location_id
    )
    scheme = factory.SubFactory(SchemeFactory, status=SchemeStatus.PUBLISHED)
    window = factory.SubFactory(ClaimWindowFactory, scheme=factory.SelfAttribute("..scheme"))
    period_start = factory.SelfAttribute("window.period_start")
    period_end = factory.SelfAttribute("window.period_end")
    scope = "scheme"
    status = ClaimStatus.DRAFT
    version = 1
    round = 1
    created_by = factory.SubFactory("tests.factories.access.UserFactory")
    status_changed_at = factory.LazyFunction(utcnow)
    updated_at = factory.LazyFunction(utcnow)


class ClaimLineFactory(BaseFactory):
    class Meta:
        model = ClaimLine

    claim = factory.SubFactory(ClaimFactory)
    component = factory.SubFactory(ComponentFactory, scheme=factory.SelfAttribute("..claim.scheme"))
    units = None
