"""A large ICB for ``bench/load.py``, inserted in bulk (claims, lines, events, evidence, offers
and practices as multi-row ``INSERT``s; people through the service layer).

One ICB (QLB) with three sub-locations; 150 practices under them, two in five in two-step
approval mode (a provider approver signs claims off before the commissioner sees them);
30 published schemes: 14 monthly schemes of last financial year and 14 of this one, each with
three components claimed one at a time (single-service claims), and 2 ad hoc schemes open
all this year (the drafts the benchmark's writers save and submit are in these); every
scheme offered to and accepted by every practice. 100,000 claims across every status, in
proportions like a working year, each with its line and its history as events (started,
submitted, provider approval, tier 1, tier 2, finance, paid, declined, returned,
withdrawn); evidence rows on a tenth of them.

300 people over every role: one practice user per practice (single-level in one-step
practices, multi-level in two-step ones), a provider approver per two-step practice, and
at the ICB and its sub-locations administrators, tier 1 and tier 2 approvers and finance
approvers, each commissioner enrolled in two-factor sign-in through the service layer.
Everyone's password is :data:`PASSWORD`.
"""

from __future__ import annotations

import datetime as dt
import enum
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, text

from bench.claims.data import PASSWORD
from claims_portal.access import services as access_services
from claims_portal.access.models import User
from claims_portal.access.roles import Role
from claims_portal.access.services import mfa
from claims_portal.claims.models import (
    Claim,
    ClaimAction,
    ClaimStatus,
    component_scope,
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

__all__ = ["PASSWORD", "LargeData", "existing", "load"]

ICB_CODE = "QLB"
START = dt.date(2024, 4, 1)
FINANCE_EXTRA = Decimal("15000.00")  # above the default finance threshold

#: (status, share of claims); the provider-approval statuses only in two-step practices
#: (one-step practices' share of them goes to commissioner review).
MIX: list[tuple[ClaimStatus, float]] = [
    (ClaimStatus.DRAFT, 0.05),
    (ClaimStatus.AWAITING_PROVIDER_APPROVAL, 0.03),
    (ClaimStatus.RETURNED_BY_PROVIDER, 0.01),
    (ClaimStatus.AWAITING_COMMISSIONER_REVIEW, 0.20),
    (ClaimStatus.AWAITING_PAYMENT_APPROVAL, 0.11),
    (ClaimStatus.AWAITING_FINANCE_APPROVAL, 0.02),
    (ClaimStatus.APPROVED_FOR_PAYMENT, 0.17),
    (ClaimStatus.PAID, 0.31),
    (ClaimStatus.DECLINED, 0.06),
    (ClaimStatus.WITHDRAWN, 0.04),
]
#: Commissioner people: (role, at the ICB, at each sub-location).
COMMISSIONERS: list[tuple[Role, int, int]] = [
    (Role.ADMINISTRATOR, 4, 2),
    (Role.APPROVER_TIER_1, 25, 5),
    (Role.APPROVER_TIER_2, 16, 3),
    (Role.FINANCE, 9, 2),
]


#: The first part of each role's email addresses (shared-mailbox words are refused).
PREFIX = {
    Role.PROVIDER_USER_SINGLE: "pat.lee",
    Role.PROVIDER_USER_MULTI: "pat.lee",
    Role.PROVIDER_APPROVER: "ann.lee",
    Role.ADMINISTRATOR: "ada.ross",
    Role.APPROVER_TIER_1: "tom.ross",
    Role.APPROVER_TIER_2: "tia.ross",
    Role.FINANCE: "fay.ross",
}


def email(role: Role, n: int) -> str:
    """The address of the ``n``-th person with ``role`` (practice people: the practice's
    number)."""
    return f"{PREFIX[role]}{n:03d}@example.nhs.net"


@dataclass
class LargeData:
    icb_id: int = 0
    claims: int = 0
    people: int = 0
    practices: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def _organisation(session: DbSession, **values: Any) -> Organisation:
    organisation = Organisation(active_from=START, **values)
    session.add(organisation)
    session.flush()
    return organisation


def _person(
    session: DbSession, email: str, name: str, organisation: Organisation, role: Role
) -> User:
    user = access_services.create_user(
        session, email=email, full_name=name, password=PASSWORD, settings=access_settings()
    )
    access_services.grant_membership(
        session, user=user, organisation=organisation, role=role, start_date=START
    )
    if role.is_commissioner_role:
        secret = mfa.new_secret()
        mfa.enable(session, user, secret, mfa.code_for(secret), settings=access_settings())
        user.mfa_last_step = None  # the benchmark signs in with the current code
    return user


def _financial_year(start_year: int) -> tuple[str, dt.date, dt.date]:
    label = f"{start_year}/{(start_year + 1) % 100:02d}"
    return label, dt.date(start_year, 4, 1), dt.date(start_year + 1, 3, 31)


def _months(fy_start: dt.date) -> Iterator[tuple[dt.date, dt.date]]:
    for month in range(12):
        start = dt.date(fy_start.year + (3 + month) // 12, (3 + month) % 12 + 1, 1)
        end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(1)
        yield start, end


def load(session: DbSession, *, practices: int = 150, claims: int = 100_000) -> LargeData:
    """Fill an empty, migrated database; commits."""
    import time

    clock = time.perf_counter()
    rng = random.Random(2027)
    day = clock_today()
    this_year = day.year if day.month >= 4 else day.year - 1
    data = LargeData(practices=practices)

    icb = _organisation(session, kind=OrganisationKind.ICB, ods_code=ICB_CODE, name="Large ICB")
    data.icb_id = icb.id
    subs = [
        _organisation(
            session,
            kind=OrganisationKind.ICB_SUB_LOCATION,
            ods_code=f"9L{n}",
            name=f"Large ICB - Place {n}",
            parent_id=icb.id,
        )
        for n in (1, 2, 3)
    ]
    session.execute(
        insert(Organisation),
        [
            {
                "kind": OrganisationKind.GP_PRACTICE,
                "ods_code": f"L{n:05d}",
                "name": f"Large Surgery {n:03d}",
                "parent_id": subs[n % 3].id,
                "active_from": START,
                "approval_mode": ApprovalMode.TWO_STEP
                if n % 5 in (1, 3)
                else ApprovalMode.ONE_STEP,
            }
            for n in range(practices)
        ],
    )
    practice_rows = session.execute(
        select(Organisation.id, Organisation.parent_id, Organisation.approval_mode)
        .where(Organisation.kind == OrganisationKind.GP_PRACTICE)
        .order_by(Organisation.id)
    ).all()
    practice_orgs = {o.id: o for o in session.scalars(select(Organisation))}
    data.seconds["organisations"] = time.perf_counter() - clock

    # People through the service layer (argon2 hashes, memberships, two-factor enrolment).
    staff: dict[int, int] = {}
    approvers: dict[int, int] = {}
    for n, row in enumerate(practice_rows):
        two_step = row.approval_mode is ApprovalMode.TWO_STEP
        role = Role.PROVIDER_USER_MULTI if two_step else Role.PROVIDER_USER_SINGLE
        organisation = practice_orgs[row.id]
        user = _person(session, email(role, n), f"Pat Lee {n:03d} (practice)", organisation, role)
        staff[row.id] = user.id
        if two_step:
            approver = _person(
                session,
                email(Role.PROVIDER_APPROVER, n),
                f"Ann Lee {n:03d} (provider approver)",
                organisation,
                Role.PROVIDER_APPROVER,
            )
            approvers[row.id] = approver.id
    by_role: dict[Role, list[int]] = {}
    for role, at_icb, at_each_sub in COMMISSIONERS:
        places = [icb] * at_icb + [sub for sub in subs for _ in range(at_each_sub)]
        for n, place in enumerate(places):
            user = _person(session, email(role, n), f"{role.value} {n:03d}", place, role)
            by_role.setdefault(role, []).append(user.id)
    session.flush()
    data.people = len(staff) + len(approvers) + sum(len(v) for v in by_role.values())
    data.seconds["people"] = time.perf_counter() - clock

    # Schemes: last year's and this year's monthly schemes, and two ad hoc ones.
    now = utcnow()
    schemes: list[Scheme] = []
    windows: dict[int, list[ClaimWindow]] = {}
    plan = [(this_year - 1, ClaimFrequency.MONTHLY)] * 14 + [
        (this_year, ClaimFrequency.MONTHLY)
    ] * 14
    plan += [(this_year, ClaimFrequency.AD_HOC)] * 2
    for n, (year, frequency) in enumerate(plan):
        label, fy_start, fy_end = _financial_year(year)
        scheme = Scheme(
            code=f"LOAD-{n:02d}-{year % 100:02d}",
            name=f"Local scheme {n:02d} ({label})",
            commissioner_id=icb.id,
            financial_year=label,
            start_date=fy_start,
            end_date=fy_end,
            status=SchemeStatus.PUBLISHED,
            claim_frequency=frequency,
            agency_enrolment_date=fy_start,  # paid through the agency, as most are
            published_at=now,
        )
        scheme.components = [
            Component(code=f"C{c}", name=f"Service {c}", unit_label="service delivered")
            for c in (1, 2, 3)
        ]
        session.add(scheme)
        session.flush()
        for component in scheme.components:
            session.add(
                Tariff(
                    component_id=component.id, unit_value=Decimal("25.00"), effective_from=fy_start
                )
            )
        if frequency is ClaimFrequency.AD_HOC:
            periods = [(fy_start, fy_end, fy_start, max(fy_end, day + dt.timedelta(days=60)))]
        else:
            periods = [
                (s, e, e + dt.timedelta(days=1), e + dt.timedelta(days=30))
                for s, e in _months(fy_start)
            ]
        windows[scheme.id] = []
        for start, end, opens, closes in periods:
            window = ClaimWindow(
                scheme_id=scheme.id,
                period_start=start,
                period_end=end,
                opens_on=opens,
                closes_on=closes,
            )
            session.add(window)
            windows[scheme.id].append(window)
        schemes.append(scheme)
    session.flush()
    session.execute(
        insert(Offer),
        [
            {
                "scheme_id": scheme.id,
                "provider_id": row.id,
                "status": OfferStatus.ACTIVE,
                "offered_at": now,
                "status_changed_at": now,
                "responded_at": now,
            }
            for scheme in schemes
            for row in practice_rows
        ],
    )
    data.seconds["schemes"] = time.perf_counter() - clock

    people = _People(staff, approvers, by_role)
    data.claims = _claims(session, rng, icb.id, schemes, windows, practice_rows, claims, people)
    data.seconds["claims"] = time.perf_counter() - clock
    session.commit()
    session.execute(text("ANALYZE"))
    session.commit()
    data.seconds["total"] = time.perf_counter() - clock
    return data


@dataclass
class _People:
    staff: dict[int, int]
    approvers: dict[int, int]
    by_role: dict[Role, list[int]]

    def pick(self, rng: random.Random, role: Role) -> int:
        return rng.choice(self.by_role[role])


def _slots(
    schemes: list[Scheme], windows: dict[int, list[ClaimWindow]]
) -> list[tuple[Scheme, ClaimWindow, Component]]:
    """Every (monthly scheme, window, component) a practice can hold one live claim for."""
    return [
        (s, w, c)
        for s in schemes
        if s.claim_frequency is ClaimFrequency.MONTHLY
        for w in windows[s.id]
        for c in s.components
    ]


def _claims(
    session: DbSession,
    rng: random.Random,
    icb_id: int,
    schemes: list[Scheme],
    windows: dict[int, list[ClaimWindow]],
    practice_rows: list[Any],
    count: int,
    people: _People,
) -> int:
    statuses = [s for s, _ in MIX]
    weights = [w for _, w in MIX]
    slots = _slots(schemes, windows)
    rng.shuffle(slots)
    ad_hoc = [s for s in schemes if s.claim_frequency is ClaimFrequency.AD_HOC]
    now = utcnow()
    made = 0
    batch: list[dict[str, Any]] = []
    for index in range(count):
        practice = practice_rows[index % len(practice_rows)]
        two_step = practice.approval_mode is ApprovalMode.TWO_STEP
        status = rng.choices(statuses, weights)[0]
        if not two_step and status in (
            ClaimStatus.AWAITING_PROVIDER_APPROVAL,
            ClaimStatus.RETURNED_BY_PROVIDER,
        ):
            status = ClaimStatus.AWAITING_COMMISSIONER_REVIEW
        slot_index = index // len(practice_rows)
        # Drafts (and a share of the rest) in the ad hoc schemes, open today: the
        # benchmark's writers save and submit those.
        if status is ClaimStatus.DRAFT or slot_index >= len(slots) or rng.random() < 0.05:
            scheme = ad_hoc[index % len(ad_hoc)]
            window, component, scope = windows[scheme.id][0], scheme.components[0], None
        else:
            scheme, window, component = slots[slot_index]
            scope = component_scope(component.id)
        units = rng.randint(5, 120)
        value = Decimal(units) * Decimal("25.00")
        if status is ClaimStatus.AWAITING_FINANCE_APPROVAL or (
            status in (ClaimStatus.APPROVED_FOR_PAYMENT, ClaimStatus.PAID) and rng.random() < 0.05
        ):
            value += FINANCE_EXTRA
        moment = now - dt.timedelta(minutes=rng.randint(60, 400_000))
        events = _history(rng, status, two_step, practice.id, value, moment, people)
        submitted = [e for e in events if e["action"] is ClaimAction.SUBMIT]
        reached = [e for e in events if e["to_status"] is ClaimStatus.AWAITING_COMMISSIONER_REVIEW]
        last = events[-1]
        priced = bool(submitted)
        batch.append(
            {
                "provider_id": practice.id,
                "scheme_id": scheme.id,
                "window_id": window.id,
                "period_start": window.period_start,
                "period_end": window.period_end,
                "scope": scope,
                "status": status,
                "version": len(events),
                "round": 1,
                "created_by_id": people.staff[practice.id],
                "submitted_at": submitted[0]["occurred_at"] if submitted else None,
                "submitted_by_id": people.staff[practice.id] if submitted else None,
                "value": value if priced else None,
                "reached_commissioner_at": reached[0]["occurred_at"] if reached else None,
                "status_changed_at": last["occurred_at"],
                "approved_at": _first(events, ClaimStatus.APPROVED_FOR_PAYMENT),
                "paid_at": _first(events, ClaimStatus.PAID),
                "updated_at": last["occurred_at"],
                "updated_by_id": last["actor_id"],
                # The commissioner's scope kept on each claim (when the model has it).
                **_scope_columns(icb_id, practice.parent_id),
                "_units": units,
                "_component": component.id,
                "_events": events,
            }
        )
        if len(batch) == 5000 or index == count - 1:
            made += _insert_batch(session, batch)
            batch = []
    return made


def _scope_columns(icb_id: int, sub_location_id: int) -> dict[str, int]:
    columns = {}
    if hasattr(Claim, "icb_id"):
        columns["icb_id"] = icb_id
    if hasattr(Claim, "sub_location_id"):
        columns["sub_location_id"] = sub_location_id
    return columns


def _first(events: list[dict[str, Any]], status: ClaimStatus) -> dt.datetime | None:
    return next((e["occurred_at"] for e in events if e["to_status"] is status), None)


def _history(
    rng: random.Random,
    status: ClaimStatus,
    two_step: bool,
    practice_id: int,
    value: Decimal,
    moment: dt.datetime,
    people: _People,
) -> list[dict[str, Any]]:
    """The events taking a new claim to ``status``, oldest first, a few hours apart."""
    S, A = ClaimStatus, ClaimAction  # noqa: N806 - short names for the table below
    staff = people.staff[practice_id]
    steps: list[tuple[ClaimAction, ClaimStatus | None, ClaimStatus, int | None, str | None]] = [
        (A.START, None, S.DRAFT, staff, None)
    ]

    def add(
        action: ClaimAction, to: ClaimStatus, actor: int | None, reason: str | None = None
    ) -> None:
        steps.append((action, steps[-1][2], to, actor, reason))

    if status is not S.DRAFT:
        if two_step:
            add(A.SUBMIT, S.AWAITING_PROVIDER_APPROVAL, staff)
            if status is S.RETURNED_BY_PROVIDER:
                add(
                    A.PROVIDER_RETURN,
                    S.RETURNED_BY_PROVIDER,
                    people.approvers[practice_id],
                    "Check the figures",
                )
            elif status is not S.AWAITING_PROVIDER_APPROVAL:
                add(
                    A.PROVIDER_APPROVE,
                    S.AWAITING_COMMISSIONER_REVIEW,
                    people.approvers[practice_id],
                )
        else:
            add(A.SUBMIT, S.AWAITING_COMMISSIONER_REVIEW, staff)
    if status is S.WITHDRAWN:
        add(A.WITHDRAW, S.WITHDRAWN, staff, "Sent by mistake")
    elif status is S.DECLINED:
        add(
            A.TIER_1_DECLINE, S.DECLINED, people.pick(rng, Role.APPROVER_TIER_1), "Evidence missing"
        )
    elif status in (
        S.AWAITING_PAYMENT_APPROVAL,
        S.AWAITING_FINANCE_APPROVAL,
        S.APPROVED_FOR_PAYMENT,
        S.PAID,
    ):
        add(A.TIER_1_APPROVE, S.AWAITING_PAYMENT_APPROVAL, people.pick(rng, Role.APPROVER_TIER_1))
        if status is not S.AWAITING_PAYMENT_APPROVAL:
            tier_2 = people.pick(rng, Role.APPROVER_TIER_2)
            if value > FINANCE_EXTRA:
                add(A.TIER_2_APPROVE, S.AWAITING_FINANCE_APPROVAL, tier_2)
                if status is not S.AWAITING_FINANCE_APPROVAL:
                    add(A.FINANCE_APPROVE, S.APPROVED_FOR_PAYMENT, people.pick(rng, Role.FINANCE))
            else:
                add(A.TIER_2_APPROVE, S.APPROVED_FOR_PAYMENT, tier_2)
            if status is S.PAID:
                add(A.MARK_PAID, S.PAID, None)
    events = []
    for n, (action, from_status, to_status, actor, reason) in enumerate(steps):
        events.append(
            {
                "round": 1,
                "action": action,
                "from_status": from_status,
                "to_status": to_status,
                "actor_id": actor,
                "reason": reason,
                "value": value if n > 0 else None,
                "version": n + 1,
                "occurred_at": moment + dt.timedelta(hours=5 * n),
            }
        )
    return events


def _copy(session: DbSession, table: str, rows: list[dict[str, Any]]) -> None:
    """``COPY`` the rows (dicts with the same keys) into ``table``: enumerations by member
    name, as ``db.enum_column`` stores them."""
    if not rows:
        return
    columns = list(rows[0])
    raw = session.connection().connection.driver_connection
    assert raw is not None
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[arg-type]
        for row in rows:
            copy.write_row(
                [v.name if isinstance(v, enum.Enum) else v for v in (row[c] for c in columns)]
            )


def _insert_batch(session: DbSession, batch: list[dict[str, Any]]) -> int:
    units = [row.pop("_units") for row in batch]
    components = [row.pop("_component") for row in batch]
    histories = [row.pop("_events") for row in batch]
    ids = list(
        session.scalars(
            text(
                "SELECT nextval(pg_get_serial_sequence('claim', 'id')) FROM generate_series(1, :n)"
            ),
            {"n": len(batch)},
        )
    )
    created = utcnow()
    # Each priced line names the tariff it was priced at, as a submission stores it.
    tariffs = dict(session.execute(text("SELECT component_id, id FROM scheme_tariff")).all())
    _copy(
        session,
        "claim",
        [
            {"id": claim_id, **row, "created_at": created}
            for claim_id, row in zip(ids, batch, strict=True)
        ],
    )
    _copy(
        session,
        "claim_line",
        [
            {
                "claim_id": claim_id,
                "component_id": component_id,
                "units": n,
                "unit_value": Decimal("25.00") if row["value"] is not None else None,
                "tariff_id": tariffs[component_id] if row["value"] is not None else None,
                "gross_value": row["value"],
                "payable_units": n if row["value"] is not None else None,
                "value": row["value"],
            }
            for claim_id, row, n, component_id in zip(ids, batch, units, components, strict=True)
        ],
    )
    _copy(
        session,
        "claim_event",
        [
            {"claim_id": claim_id, **event}
            for claim_id, events in zip(ids, histories, strict=True)
            for event in events
        ],
    )
    _copy(
        session,
        "claim_evidence",
        [
            {
                "claim_id": claim_id,
                "key": f"evidence/load/{claim_id}",
                "filename": "audit.pdf",
                "content_type": "application/pdf",
                "size": 120_000,
                "sha256": "0" * 64,
                "round": 1,
                "uploaded_by_id": row["created_by_id"],
                "uploaded_at": row["updated_at"],
            }
            for claim_id, row in zip(ids, batch, strict=True)
            if claim_id % 10 == 0
        ],
    )
    return len(ids)


def existing(session: DbSession) -> bool:
    found = session.scalar(select(Organisation.id).where(Organisation.ods_code == ICB_CODE))
    return found is not None and session.scalar(select(Claim.id).limit(1)) is not None
