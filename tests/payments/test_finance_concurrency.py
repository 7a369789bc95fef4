"""Two finance people acting at once, on PostgreSQL with real connections: of two sending
the same rejected payment again, or approving the same recovery, one wins and the other is
told; two recoveries raised at once cannot together take back more than was paid."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from claims_portal.access.models import User
from claims_portal.access.roles import Role
from claims_portal.extensions import db
from claims_portal.organisations.models import Organisation
from claims_portal.payments import services
from claims_portal.payments.models import PaymentRecovery, RecoveryStatus
from claims_portal.payments.services import PaymentsConflict, PaymentsError
from tests.factories.access import user_with_role
from tests.factories.claims import claim_scene
from tests.helpers import migrated_app
from tests.payments.finance_helpers import approved_claims, paid_claim, rejected_payment
from tests.races import audit_count, count, emails_to, one_after_the_other, together


@pytest.fixture(scope="module")
def race_app() -> Iterator[Any]:
    with migrated_app("_finance_race") as app:
        yield app


@pytest.fixture
def ids(race_app) -> dict[str, Any]:
    with race_app.app_context():
        scene = claim_scene(two_step=False)
        ada = user_with_role(Role.FINANCE, scene.icb, full_name="Ada Shaw")
        ben = user_with_role(Role.FINANCE, scene.icb, full_name="Ben Hale")
        claim = approved_claims(scene)[0]
        payment = rejected_payment(claim)
        paid = paid_claim(scene, "100.00")
        found = {
            "icb": scene.icb.id,
            "gareth": scene.finance.id,
            "ada": ada.id,
            "ben": ben.id,
            "claim": claim.id,
            "version": claim.version,
            "payment": payment.id,
            "paid": paid.id,
            "practice_user": scene.user.email,
        }
        db.session.remove()
    return found


def _as(session: Any, ids: dict[str, Any], who: str) -> tuple[User, Organisation]:
    return session.get(User, ids[who]), session.get(Organisation, ids["icb"])


def test_two_sending_the_same_rejected_payment_again_one_wins(race_app, ids):
    def send(who: str):
        def work(session):
            actor, icb = _as(session, ids, who)
            return services.take_payment_step(
                session, actor, icb, "send-again", [(ids["claim"], ids["version"])]
            )

        return work

    first, second, waited = one_after_the_other(race_app, send("ada"), send("ben"))
    assert waited > 0.3  # the second waited for the first's lock
    assert [o.claim_id for o in first.done] == [ids["claim"]]
    assert second.done == []
    assert "Ada Shaw" in second.not_done[0].reason
    assert "while you were looking at it" in second.not_done[0].reason
    assert audit_count(race_app, "payment.settled", ids["payment"]) == 1
    assert audit_count(race_app, "claim.payment_resent", ids["claim"]) == 1


def test_two_approving_the_same_recovery_one_wins(race_app, ids):
    def raise_it(session):
        actor, icb = _as(session, ids, "gareth")
        return services.raise_recovery(
            session, actor, icb, ids["paid"], amount="25.00", reason="Counted twice"
        ).id

    with race_app.app_context():
        from tests.races import act

        recovery_id = act(race_app, raise_it)
    assert isinstance(recovery_id, int), recovery_id

    def approve(who: str):
        def work(session):
            actor, icb = _as(session, ids, who)
            return services.decide_recovery(
                session, actor, icb, recovery_id, "approve", base_url="http://localhost"
            ).status

        return work

    first, second, waited = one_after_the_other(race_app, approve("ada"), approve("ben"))
    assert waited > 0.3
    assert first is RecoveryStatus.APPROVED
    assert isinstance(second, PaymentsConflict), second
    assert "already approved by Ada Shaw" in second.messages[0]
    assert audit_count(race_app, "payment_recovery.approved", recovery_id) == 1
    assert emails_to(race_app, ids["practice_user"]) == 1


def test_two_recoveries_raised_at_once_cannot_take_back_more_than_was_paid(race_app, ids):
    def raise_60(who: str):
        def work(session):
            actor, icb = _as(session, ids, who)
            return services.raise_recovery(
                session, actor, icb, ids["paid"], amount="60.00", reason="Counted twice"
            ).id

        return work

    outcomes = together(race_app, raise_60("ada"), raise_60("ben"))
    raised = [o for o in outcomes if isinstance(o, int)]
    refused = [o for o in outcomes if isinstance(o, PaymentsError)]
    assert len(raised) == 1, outcomes
    assert len(refused) == 1
    assert "cannot be more than £40.00" in refused[0].messages[0]
    assert count(race_app, PaymentRecovery, PaymentRecovery.claim_id == ids["paid"]) == 1
