"""Provider approvers approve in bulk through the lifecycle's provider approval (separation
of duties kept); task lists show each claim's value and keep claim IDs on one line."""

from __future__ import annotations

import html
import re

from claims_portal.claims.models import Claim, ClaimStatus
from claims_portal.schemes.models import ClaimFrequency
from tests.claims.helpers import signed_in, start, submit, submitted
from tests.factories.claims import claim_scene
from tests.helpers import csrf_token

S = ClaimStatus


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def checkboxes(body: str) -> list[str]:
    return re.findall(r'name="claim" type="checkbox" value="(\d+:\d+)"', body)


def test_a_provider_approver_approves_in_bulk_from_the_practice_list(app, db_session):
    scene = claim_scene(frequency=ClaimFrequency.AD_HOC)  # takes as many claims as needed
    first = submitted(db_session, scene, 10, 4)
    second = submitted(db_session, scene, 2, 1)
    # Started by the approver, submitted by the user: the approver may not approve it.
    own = start(db_session, scene, actor=scene.approver)
    submit(db_session, scene, own, 1, 1)
    db_session.commit()
    assert {first.status, second.status, own.status} == {S.AWAITING_PROVIDER_APPROVAL}

    browser = signed_in(app, scene.approver)
    page = browser.get("/claims")
    body = text(page)
    assert 'data-testid="bulk-approval"' in body
    assert "Approve for the practice" in body
    assert sorted(checkboxes(body)) == sorted(f"{c.id}:{c.version}" for c in (first, second, own))
    response = browser.post(
        "/claims/bulk-approval",
        data={
            "csrf_token": csrf_token(page),
            "claim": [f"{c.id}:{c.version}" for c in (first, second, own)],
            "action": "PROVIDER_APPROVE",
            "filter": "",
            "confirmed": "1",  # past the confirmation step
        },
    )
    assert response.status_code == 200
    body = text(response)
    assert "2 claims approved, 1 not approved." in body
    refused = body.split('data-testid="bulk-not-approved"', 1)[1].split("</table>", 1)[0]
    assert own.reference in refused
    assert "Separation of duties" in refused
    db_session.expire_all()
    statuses = {c.id: db_session.get(Claim, c.id).status for c in (first, second, own)}
    assert statuses == {
        first.id: S.AWAITING_COMMISSIONER_REVIEW,
        second.id: S.AWAITING_COMMISSIONER_REVIEW,
        own.id: S.AWAITING_PROVIDER_APPROVAL,
    }


def test_practice_users_who_do_not_approve_get_no_bulk_approval(app, db_session, scene):
    claim = submitted(db_session, scene)
    db_session.commit()
    browser = signed_in(app, scene.user)
    page = browser.get("/claims")
    assert 'data-testid="bulk-approval"' not in text(page)
    response = browser.post(
        "/claims/bulk-approval",
        data={
            "csrf_token": csrf_token(page),
            "claim": f"{claim.id}:{claim.version}",
            "action": "PROVIDER_APPROVE",
        },
    )
    assert response.status_code == 403
    # Nor can a provider approver give a commissioner's approval.
    approver = signed_in(app, scene.approver)
    response = approver.post(
        "/claims/bulk-approval",
        data={
            "csrf_token": csrf_token(approver.get("/claims")),
            "claim": f"{claim.id}:{claim.version}",
            "action": "TIER_1_APPROVE",
        },
    )
    assert response.status_code == 400
    db_session.expire_all()
    assert db_session.get(Claim, claim.id).status is S.AWAITING_PROVIDER_APPROVAL


def test_task_lists_show_each_claims_value_and_keep_ids_on_one_line(app, db_session, scene):
    claim = submitted(db_session, scene, 10, 4)  # 10 x £25.00 + 4 x £12.50
    db_session.commit()
    browser = signed_in(app, scene.approver)
    for url, table in (
        ("/messages", 'data-testid="tasks"'),
        ("/claims", 'data-testid="claims-waiting"'),
    ):
        body = text(browser.get(url))
        rows = body.split(table, 1)[1].split("</table>", 1)[0]
        assert ">Value</th>" in rows
        assert "£300.00" in rows
        assert re.search(
            r'<td class="nhsuk-table__cell app-claim-reference"><a [^>]*>' + claim.reference, rows
        )
    css = app.test_client().get("/static/portal.css").get_data(as_text=True)
    assert re.search(r"\.app-claim-reference \{\s*white-space: nowrap;", css)
