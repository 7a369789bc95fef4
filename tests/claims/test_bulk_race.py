"""Two approvers' bulk approvals racing over the same claims, with two real connections.

Each claim must be approved exactly once; the approver who comes second is told, claim by
claim, that it was approved by the other meanwhile. A single-claim step racing a bulk
approval must not deadlock either (the bulk locks its claims before the audit chain lock).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from claims_portal.access.models import User
from claims_portal.access.roles import Role
from claims_portal.claims import services
from claims_portal.claims.models import Claim, ClaimAction, ClaimEvent, ClaimStatus
from claims_portal.claims.services import ClaimError
from claims_portal.claims.services.bulk import BulkResult, Failure, bulk_approve
from claims_portal.extensions import db
from tests.factories.access import user_with_role
from tests.factories.claims import claim_scene
from tests.factories.organisations import IcbFactory
from tests.helpers import migrated_app

A = ClaimAction


@pytest.fixture(scope="module")
def race_app() -> Iterator[Any]:
    with migrated_app("_bulk_race") as app:
        yield app


@pytest.fixture
def claims_at_tier_1(race_app) -> dict[str, Any]:
    """Six committed claims awaiting tier 1 under one ICB, and two tier 1 approvers."""
    with race_app.app_context():
        icb = IcbFactory()
        ids = []
        versions = {}
        tom = ada = None
        for _ in range(6):
            scene = claim_scene(two_step=False, icb=icb)
            tom = tom or scene.tier_1
            ada = ada or user_with_role(Role.APPROVER_TIER_1, icb, full_name="Ada Shaw")
            claim = services.start_claim(
                db.session, scene.practice, scene.scheme, scene.window, scene.user, scene.today
            )
            db.session.commit()
            form = {f"units-{line.id}": "3" for line in claim.lines}
            services.transition(
                db.session,
                claim.id,
                A.SUBMIT,
                scene.user,
                expected_version=claim.version,
                entries=services.parse_entries(claim, form),
                today=scene.today,
            )
            db.session.commit()
            ids.append(claim.id)
            versions[claim.id] = claim.version
        assert tom is not None
        assert ada is not None
        result = {"claims": ids, "versions": versions, "tom": tom.id, "ada": ada.id}
        db.session.remove()
    return result


def _bulk(app, who_id: int, targets: list[tuple[int, int]], barrier) -> BulkResult:
    with app.app_context():
        session = Session(db.engine, expire_on_commit=False)
        try:
            actor = session.get(User, who_id)
            barrier.wait(10)
            result = bulk_approve(session, actor, A.TIER_1_APPROVE, targets)
            session.commit()
            return result
        finally:
            session.close()


def _approvals(app, claim_ids: list[int]) -> dict[int, int]:
    with app.app_context(), Session(db.engine) as session:
        rows = session.execute(
            select(ClaimEvent.claim_id, func.count(ClaimEvent.id))
            .where(ClaimEvent.claim_id.in_(claim_ids), ClaimEvent.action == A.TIER_1_APPROVE)
            .group_by(ClaimEvent.claim_id)
        ).all()
        return dict(rows)


def test_two_bulk_approvals_over_the_same_claims_approve_each_once(race_app, claims_at_tier_1):
    ids, versions = claims_at_tier_1["claims"], claims_at_tier_1["versions"]
    # Tom takes claims 0-4, Ada claims 1-5 (in the opposite order): 1-4 are contested.
    toms = [(i, versions[i]) for i in ids[:5]]
    adas = [(i, versions[i]) for i in reversed(ids[1:])]
    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}

    def run(name: str, who: int, targets: list[tuple[int, int]]) -> None:
        try:
            results[name] = _bulk(race_app, who, targets, barrier)
        except Exception as error:
            results[name] = error

    threads = [
        threading.Thread(target=run, args=("tom", claims_at_tier_1["tom"], toms)),
        threading.Thread(target=run, args=("ada", claims_at_tier_1["ada"], adas)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    tom, ada = results["tom"], results["ada"]
    assert isinstance(tom, BulkResult), tom
    assert isinstance(ada, BulkResult), ada
    assert _approvals(race_app, ids) == dict.fromkeys(ids, 1)  # each claim approved once
    approved = [o.claim_id for o in tom.approved] + [o.claim_id for o in ada.approved]
    assert sorted(approved) == sorted(ids)
    contested = set(ids[1:5])
    losers = tom.not_approved + ada.not_approved
    assert {o.claim_id for o in losers} == contested
    for outcome in losers:
        assert outcome.failure is Failure.CONFLICT
        assert outcome.reason.startswith("This claim was approved at tier 1 by ")
        assert outcome.reason.endswith("Nothing was changed.")
    with race_app.app_context(), Session(db.engine) as session:
        statuses = set(session.scalars(select(Claim.status).where(Claim.id.in_(ids))))
        assert statuses == {ClaimStatus.AWAITING_PAYMENT_APPROVAL}


def test_a_single_step_racing_a_bulk_approval_does_not_deadlock(race_app, claims_at_tier_1):
    ids, versions = claims_at_tier_1["claims"], claims_at_tier_1["versions"]
    last = ids[-1]
    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}

    def bulk() -> None:
        results["bulk"] = _bulk(
            race_app, claims_at_tier_1["tom"], [(i, versions[i]) for i in ids], barrier
        )

    def single() -> None:
        with race_app.app_context():
            session = Session(db.engine, expire_on_commit=False)
            try:
                actor = session.get(User, claims_at_tier_1["ada"])
                barrier.wait(10)
                services.transition(
                    session,
                    last,
                    A.TIER_1_DECLINE,
                    actor,
                    expected_version=versions[last],
                    reason="Figures do not match the audit",
                )
                session.commit()
                results["single"] = "declined"
            except ClaimError as error:
                session.rollback()
                results["single"] = error
            finally:
                session.close()

    threads = [threading.Thread(target=bulk), threading.Thread(target=single)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    result = results["bulk"]
    assert isinstance(result, BulkResult)
    if results["single"] == "declined":
        assert [o.claim_id for o in result.not_approved] == [last]
    else:
        assert [o.claim_id for o in result.approved] == ids
    counts = _approvals(race_app, ids)
    assert sum(counts.values()) == len(result.approved)
