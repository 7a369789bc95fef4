"""The claim's history reads as sentences: who took each step, said once."""

from __future__ import annotations

import html

import pytest

from claims_portal.claims import services
from claims_portal.claims.models import ClaimAction
from claims_portal.claims.services import ClaimConflict
from tests.claims.helpers import act, signed_in, submitted

A = ClaimAction


@pytest.mark.parametrize("action", list(ClaimAction))
def test_every_step_names_who_took_it_once(action):
    sentence = action.done_by("Tom Okafor")
    assert sentence.count(" by ") == 1
    assert "Tom Okafor" in sentence
    assert sentence[0].isupper()
    assert "by the payments system" in action.done_by(None)


def test_the_steps_that_read_badly_before():
    assert A.PROVIDER_RETURN.done_by("Priya Shah") == "Returned by Priya Shah (provider approver)"
    assert A.FINANCE_APPROVE.done_by("Sam Lee") == "Approved by Sam Lee (finance)"
    assert A.MARK_PAID.done_by(None) == "Marked as paid by the payments system"


def test_the_claim_page_history_and_a_conflict_say_it_once(app, db_session, scene):
    claim = submitted(db_session, scene)
    version = claim.version
    act(db_session, claim, A.PROVIDER_RETURN, scene.approver, reason="Check the units")
    db_session.commit()
    body = html.unescape(signed_in(app, scene.user).get(f"/claims/{claim.id}").get_data(True))
    assert f"Returned by {scene.approver.full_name} (provider approver)" in body
    assert "by the provider approver by" not in body
    with pytest.raises(ClaimConflict) as caught:
        services.transition(
            db_session, claim.id, A.PROVIDER_APPROVE, scene.approver, expected_version=version
        )
    assert str(caught.value).startswith(
        f"This claim was returned by {scene.approver.full_name} (provider approver) at "
    )
