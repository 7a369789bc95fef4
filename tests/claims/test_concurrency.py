"""Two people acting on the same claim at once, on PostgreSQL with two real connections.

The per-test savepoint cannot be shared between connections, so this module has a database
of its own (migrated once, dropped at the end) where the scene is committed for real.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from claims_portal.access.models import User
from claims_portal.access.roles import Role
from claims_portal.claims import services
from claims_portal.claims.models import Claim, ClaimAction, ClaimEvent, ClaimStatus
from claims_portal.claims.services import ClaimConflict, ClaimError
from claims_portal.extensions import db
from tests.factories.access import user_with_role
from tests.factories.claims import claim_scene
from tests.helpers import migrated_app

A = ClaimAction


@pytest.fixture(scope="module")
def race_app() -> Iterator[Any]:
    with migrated_app("_race") as app:
        yield app


@pytest.fixture
def claim_at_tier_1(race_app) -> dict[str, int]:
    """A committed claim awaiting tier 1, and two tier 1 approvers (ids)."""
    with race_app.app_context():
        scene = claim_scene(two_step=False)
        second = user_with_role(Role.APPROVER_TIER_1, scene.icb, full_name="Ada Shaw")
        claim = services.start_claim(
            db.session, scene.practice, scene.scheme, scene.window, scene.user, scene.today
        )
        db.session.commit()
        form = {f"units-{line.id}": "2" for line in claim.lines}
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
        ids = {
            "claim": claim.id,
            "version": claim.version,
            "tom": scene.tier_1.id,
            "ada": second.id,
            "practice_user": scene.user.id,
        }
        db.session.remove()
    return ids


def _act(app, ids, who: str, action: ClaimAction, *, before_commit=None) -> Any:
    """Run one person's transition in its own connection; returns the event or the error."""
    with app.app_context():
        session = Session(db.engine, expire_on_commit=False)
        try:
            actor = session.get(User, ids[who])
            reason = "Not enough evidence" if "DECLINE" in action.name else None
            event = services.transition(
                session,
                ids["claim"],
                action,
                actor,
                expected_version=ids["version"],
                reason=reason,
            )
            if before_commit is not None:
                before_commit()
            session.commit()
            return event
        except ClaimError as error:
            session.rollback()
            return error
        finally:
            session.close()


def _events(app, claim_id: int, action: ClaimAction) -> int:
    with app.app_context(), Session(db.engine) as session:
        return session.scalar(
            select(func.count(ClaimEvent.id)).where(
                ClaimEvent.claim_id == claim_id, ClaimEvent.action == action
            )
        )


def test_the_second_approver_waits_for_the_lock_then_is_told_what_happened(
    race_app, claim_at_tier_1
):
    """Tom locks and approves; Ada's decline, sent while Tom's transaction is open, waits
    for Tom's commit and then finds the claim moved on: exactly one step is recorded."""
    tom_holds_the_lock = threading.Event()
    results: dict[str, Any] = {}

    def tom() -> None:
        def hold() -> None:
            tom_holds_the_lock.set()
            time.sleep(0.6)  # Ada's request arrives meanwhile and must wait

        results["tom"] = _act(
            race_app, claim_at_tier_1, "tom", A.TIER_1_APPROVE, before_commit=hold
        )

    def ada() -> None:
        assert tom_holds_the_lock.wait(10)
        started = time.monotonic()
        results["ada"] = _act(race_app, claim_at_tier_1, "ada", A.TIER_1_DECLINE)
        results["ada_waited"] = time.monotonic() - started

    threads = [threading.Thread(target=tom), threading.Thread(target=ada)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert isinstance(results["tom"], ClaimEvent)
    assert isinstance(results["ada"], ClaimConflict)
    assert results["ada_waited"] >= 0.4  # blocked on the row lock, not refused early
    message = results["ada"].messages[0]
    assert message.startswith("This claim was approved at tier 1 by Tom Okafor at ")
    assert message.endswith("Nothing was changed.")
    assert _events(race_app, claim_at_tier_1["claim"], A.TIER_1_APPROVE) == 1
    assert _events(race_app, claim_at_tier_1["claim"], A.TIER_1_DECLINE) == 0
    with race_app.app_context(), Session(db.engine) as session:
        claim = session.get(Claim, claim_at_tier_1["claim"])
        assert claim.status is ClaimStatus.AWAITING_PAYMENT_APPROVAL
        assert claim.version == claim_at_tier_1["version"] + 1


def test_two_approvers_released_together_exactly_one_succeeds(race_app, claim_at_tier_1):
    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}

    def run(who: str) -> None:
        barrier.wait(10)
        results[who] = _act(race_app, claim_at_tier_1, who, A.TIER_1_APPROVE)

    threads = [threading.Thread(target=run, args=(who,)) for who in ("tom", "ada")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    outcomes = sorted(type(r).__name__ for r in results.values())
    assert outcomes == ["ClaimConflict", "ClaimEvent"]
    assert _events(race_app, claim_at_tier_1["claim"], A.TIER_1_APPROVE) == 1
