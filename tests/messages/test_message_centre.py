"""The message centre: tasks for each role, outcome messages with read state, the header's
counts, and the email preferences that cover claims."""

from __future__ import annotations

import html

from claims_portal.access.models import User
from claims_portal.access.roles import Role
from claims_portal.claims.models import ClaimAction
from claims_portal.messages import services
from tests.claims.helpers import act, at_tier_1, signed_in, start, submitted
from tests.factories.access import MembershipFactory, user_with_role
from tests.factories.claims import claim_scene
from tests.helpers import csrf_token

A = ClaimAction


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def task_refs(body: str) -> list[str]:
    if 'data-testid="tasks"' not in body:
        return []
    table = body.split('data-testid="tasks"', 1)[1].split("</table>", 1)[0]
    return [part.split("<", 1)[0] for part in table.split('">CLM-')[1:]]


def test_each_approver_sees_the_claims_waiting_for_their_step(app, db_session, one_step):
    waiting = at_tier_1(db_session, one_step)
    at_tier_2 = at_tier_1(db_session, claim_scene(two_step=False, icb=one_step.icb))
    act(db_session, at_tier_2, A.TIER_1_APPROVE, one_step.tier_1)
    db_session.commit()

    body = text(signed_in(app, one_step.tier_1).get("/messages"))
    assert task_refs(body) == [waiting.reference.removeprefix("CLM-")]
    assert "Pending actions (1)" in body  # what waits for them, not their messages
    assert "Messages (0)" in body
    assert "Review (tier 1)" in body

    body = text(signed_in(app, one_step.tier_2).get("/messages"))
    assert task_refs(body) == [at_tier_2.reference.removeprefix("CLM-")]
    assert "Approve for payment (tier 2)" in body

    assert "Nothing is waiting for you." in text(signed_in(app, one_step.finance).get("/messages"))


def test_claims_separation_of_duties_keeps_from_someone_are_not_their_tasks(db_session, one_step):
    both = user_with_role(Role.APPROVER_TIER_1, one_step.icb)
    MembershipFactory(user=both, organisation=one_step.icb, role=Role.APPROVER_TIER_2)
    claim = at_tier_1(db_session, one_step)
    assert [t.claim.id for t in services.tasks(db_session, both, one_step.icb)] == [claim.id]
    act(db_session, claim, A.TIER_1_APPROVE, both)
    assert services.tasks(db_session, both, one_step.icb) == []  # tier 2 is for someone else
    assert services.task_count(db_session, one_step.tier_2, one_step.icb) == 1


def test_practice_tasks_are_approvals_and_claims_to_fix(app, db_session, scene):
    claim = submitted(db_session, scene)  # two-step: waits for the provider approver
    db_session.commit()
    approver_page = text(signed_in(app, scene.approver).get("/messages"))
    assert task_refs(approver_page) == [claim.reference.removeprefix("CLM-")]
    assert "Approve or return" in approver_page

    act(db_session, claim, A.PROVIDER_RETURN, scene.approver, "Units do not match the audit")
    db_session.commit()
    user_page = text(signed_in(app, scene.user).get("/messages"))
    assert task_refs(user_page) == [claim.reference.removeprefix("CLM-")]
    assert "Change and submit again, or withdraw" in user_page


def test_outcomes_are_messages_until_read(app, db_session, one_step):
    declined = at_tier_1(db_session, one_step)
    act(db_session, declined, A.TIER_1_DECLINE, one_step.tier_1, "Evidence missing")
    approved = at_tier_1(db_session, claim_scene(two_step=False, icb=one_step.icb))
    db_session.commit()
    browser = signed_in(app, one_step.user)
    body = text(browser.get("/messages/updates"))
    assert f"{declined.reference} was declined" in body
    assert "Reason: “Evidence missing”" in body
    assert "1 unread of 1." in body
    assert approved.reference not in body  # another practice's claim

    page = browser.get("/messages/updates")
    response = browser.post(
        "/messages/updates/mark-read",
        data={"csrf_token": csrf_token(page), "up_to": str(10**9)},
    )
    assert response.status_code == 302
    assert "0 unread of 1." in text(browser.get("/messages/updates"))


def test_commissioners_hear_the_outcome_of_claims_they_acted_on(app, db_session, one_step):
    claim = at_tier_1(db_session, one_step)
    untouched = at_tier_1(db_session, claim_scene(two_step=False, icb=one_step.icb))
    act(db_session, claim, A.TIER_1_APPROVE, one_step.tier_1)
    act(db_session, claim, A.TIER_2_APPROVE, one_step.tier_2)
    act(db_session, untouched, A.TIER_1_APPROVE, user_with_role(Role.APPROVER_TIER_1, one_step.icb))
    act(db_session, untouched, A.TIER_2_APPROVE, one_step.tier_2)
    db_session.commit()
    body = text(signed_in(app, one_step.tier_1).get("/messages/updates"))
    assert f"{claim.reference} was approved for payment" in body
    assert untouched.reference not in body
    tier_2_body = text(signed_in(app, one_step.tier_2).get("/messages/updates"))
    assert "There are no messages yet." in tier_2_body  # their own steps are not news


def test_people_without_claims_have_no_message_centre_link(app, db_session, one_step):
    nobody = user_with_role(Role.VIEW, one_step.icb)
    body = text(signed_in(app, nobody).get("/"))
    assert "Messages (" not in body
    assert "Nothing is waiting for you." in text(signed_in(app, nobody).get("/messages"))


def test_a_draft_is_no_task_and_the_list_shows_the_same_tasks(app, db_session, one_step):
    start(db_session, one_step)
    db_session.commit()
    user = db_session.get(User, one_step.tier_1.id)
    assert services.task_count(db_session, user, one_step.icb) == 0


def test_email_preferences_list_the_claim_emails(app, db_session, one_step):
    body = text(signed_in(app, one_step.tier_1).get("/account/email-notifications"))
    assert "Claims waiting for your approval" in body  # one email each, one a day or none
    assert "One email a day listing them" in body
    assert "A claim of your organisation was approved for payment, declined or returned" in body
