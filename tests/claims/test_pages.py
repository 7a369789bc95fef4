"""The claim pages through the test client: start, fill in, errors list, submit, approve,
decline and resubmit, conflicts, the finance threshold page."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from claims_portal.access.roles import Role
from claims_portal.claims import services
from claims_portal.claims.models import Claim, ClaimAction, ClaimEvent, ClaimStatus
from tests.claims.helpers import at_tier_1, check_and_submit, entries, signed_in, start, submitted
from tests.factories.access import user_with_role
from tests.factories.claims import claim_scene
from tests.helpers import csrf_token

S = ClaimStatus


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def plain(page: str) -> str:
    """The page's text without tags, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def error_links(page: str) -> list[tuple[str, str]]:
    """(href, message) of each entry of the NHS error summary."""
    summary = page.split('class="nhsuk-error-summary', 1)
    assert len(summary) == 2, "no error summary on the page"
    body = summary[1].split("</ul>", 1)[0]
    return [
        (href, re.sub(r"\s+", " ", message).strip())
        for href, message in re.findall(r'<a href="([^"]*)">(.*?)</a>', body, re.S)
    ]


def form_of(page_response, **fields) -> dict[str, str]:
    page = page_response.get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(page_response),
        "version": re.search(r'name="version" value="(\d+)"', page).group(1),
        "answers-present": "1",
    }
    data.update(fields)
    return data


def reload(session, claim) -> Claim:
    session.expire_all()
    return session.get(Claim, claim.id)


def test_a_practice_user_starts_fills_in_meets_the_errors_list_and_submits(
    app, client, db_session, scene
):
    from tests.helpers import sign_in

    sign_in(client, scene.user.email)
    assert "Claims" in text(client.get("/claims"))
    new = client.get("/claims/new")
    assert scene.scheme.name in text(new)
    response = client.post(
        "/claims/new",
        data={"csrf_token": csrf_token(new), "option": str(scene.window.id)},
    )
    assert response.status_code == 302
    claim = db_session.scalars(select(Claim).where(Claim.provider_id == scene.practice.id)).one()
    assert response.headers["Location"] == f"/claims/{claim.id}/edit"

    page = client.get(f"/claims/{claim.id}/edit")
    body = text(page)
    assert "No patient-identifiable information" in body
    assert "Tariff for this period: £25.00 each." in body
    first, second = (f"units-{line.id}" for line in claim.lines)

    # Continue with a figure missing and one that cannot be read: every problem, linked.
    response = client.post(
        f"/claims/{claim.id}/edit",
        data=form_of(page, **{first: "ten", second: "", "action": "check"}),
    )
    assert response.status_code == 400
    assert error_links(text(response)) == [
        (f"#{first}", "Enter the units for Health check part 1 as a whole number, like 12"),
        (f"#{second}", "Enter the units for Health check part 2 (0 if none)"),
    ]
    assert 'value="ten"' in text(response)  # what was typed is shown again
    assert reload(db_session, claim).status is S.DRAFT

    # Save a draft: the value is calculated and shown with its explanation.
    response = client.post(
        f"/claims/{claim.id}/edit", data=form_of(page, **{first: "10", second: "4"})
    )
    assert response.status_code == 302
    page = client.get(f"/claims/{claim.id}/edit")
    body = text(page)
    assert "Draft saved" in body
    assert re.search(r'data-testid="claim-total"><strong>£300.00', body)
    assert "How this value was worked out" in body
    assert "10 units at £25.00 each come to £250.00." in body
    assert "The rules used and their sources" in body
    assert "units \u00d7 tariff, rounded half up to the penny" in body

    # Continue: the answers to check, each with a link back to its field, and the total.
    response = client.post(f"/claims/{claim.id}/edit", data=form_of(page, action="check"))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/claims/{claim.id}/check-your-answers"
    assert reload(db_session, claim).status is S.DRAFT
    check = plain(text(client.get(response.headers["Location"])))
    assert "Check your answers before submitting your claim" in check
    assert "Health check part 1 (HC1) 10 (check completed) £250.00 at £25.00 each" in check
    assert "Total value £300.00" in check
    links = text(client.get(f"/claims/{claim.id}/check-your-answers"))
    assert f'href="/claims/{claim.id}/edit#{first}"' in links
    assert "provider approver (Sarah Bennett)" in check
    assert "I confirm the information in this claim is accurate and complete" in check

    # Without the declaration nothing is submitted; with it, the confirmation page.
    response = check_and_submit(client, claim.id, declaration=False)
    assert response.status_code == 400
    assert error_links(text(response)) == [
        (
            "#declaration",
            "Confirm that the information in this claim is accurate and complete to submit it",
        )
    ]
    assert reload(db_session, claim).status is S.DRAFT
    response = check_and_submit(client, claim.id)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/claims/{claim.id}/submitted"
    done = plain(text(client.get(response.headers["Location"])))
    assert f"Claim submitted Your claim reference is {claim.reference}" in done
    assert "provider approver (Sarah Bennett) at" in done
    claim = reload(db_session, claim)
    assert claim.status is S.AWAITING_PROVIDER_APPROVAL
    body = text(client.get(f"/claims/{claim.id}"))
    assert "Value submitted" in body
    assert "Submitted by James Whitfield" in plain(body)


def test_a_second_claim_for_the_period_is_refused_with_a_link(app, client, db_session, scene):
    from tests.helpers import sign_in

    claim = start(db_session, scene)
    db_session.commit()
    sign_in(client, scene.user.email)
    # The option is gone from the list; forcing it gives a clear message and a link.
    new = client.get("/claims/new")
    assert "There is nothing to claim for today" in text(new)
    assert f"/claims/{claim.id}" in text(new)


def test_approvers_approve_through_the_chain(app, db_session, scene):
    claim = submitted(db_session, scene)
    db_session.commit()
    steps = [
        (scene.approver, "PROVIDER_APPROVE", S.AWAITING_COMMISSIONER_REVIEW),
        (scene.tier_1, "TIER_1_APPROVE", S.AWAITING_PAYMENT_APPROVAL),
        (scene.tier_2, "TIER_2_APPROVE", S.APPROVED_FOR_PAYMENT),
    ]
    for actor, action, status in steps:
        browser = signed_in(app, actor)
        page = browser.get(f"/claims/{claim.id}")
        assert page.status_code == 200
        response = browser.post(
            f"/claims/{claim.id}/approve",
            data={
                "csrf_token": csrf_token(page),
                "action": action,
                "version": str(reload(db_session, claim).version),
            },
        )
        assert response.status_code == 302, text(response)[:2000]
        assert reload(db_session, claim).status is status
    body = text(browser.get(f"/claims/{claim.id}"))
    assert "Approved at tier 2 by Helen Morris" in plain(body)
    assert "Approved at tier 1 by Tom Okafor" in plain(body)


def test_a_stale_approval_shows_what_happened_with_409(app, db_session, one_step):
    claim = at_tier_1(db_session, one_step)
    db_session.commit()
    second = user_with_role(Role.APPROVER_TIER_1, one_step.icb, full_name="Ada Shaw")
    tom, ada = signed_in(app, one_step.tier_1), signed_in(app, second)
    tom_page, ada_page = tom.get(f"/claims/{claim.id}"), ada.get(f"/claims/{claim.id}")
    version = str(claim.version)
    for browser, page in ((tom, tom_page), (ada, ada_page)):
        response = browser.post(
            f"/claims/{claim.id}/approve",
            data={"csrf_token": csrf_token(page), "action": "TIER_1_APPROVE", "version": version},
        )
    assert response.status_code == 409
    body = text(response)
    assert "There is a problem" in body
    assert "This claim was approved at tier 1 by Tom Okafor at" in body
    assert "Nothing was changed." in body
    events = db_session.scalars(
        select(ClaimEvent).where(
            ClaimEvent.claim_id == claim.id, ClaimEvent.action == ClaimAction.TIER_1_APPROVE
        )
    ).all()
    assert len(events) == 1


def test_a_decline_needs_a_reason_and_the_practice_resubmits(app, client, db_session, one_step):
    claim = at_tier_1(db_session, one_step)
    db_session.commit()
    tom = signed_in(app, one_step.tier_1)
    page = tom.get(f"/claims/{claim.id}/decline")
    assert page.status_code == 200
    data = {
        "csrf_token": csrf_token(page),
        "action": "TIER_1_DECLINE",
        "version": str(claim.version),
        "reason": "",
    }
    response = tom.post(f"/claims/{claim.id}/decline", data=data)
    assert response.status_code == 400
    assert error_links(text(response)) == [("#reason", "Enter the reason")]
    data["reason"] = "Patient 943 476 5919 was counted twice"
    response = tom.post(f"/claims/{claim.id}/decline", data=data)
    assert "Remove the NHS number" in text(response)
    data["reason"] = "Two checks were counted twice"
    response = tom.post(f"/claims/{claim.id}/decline", data=data)
    assert response.status_code == 302
    assert reload(db_session, claim).status is S.DECLINED

    from tests.helpers import sign_in

    sign_in(client, one_step.user.email)
    body = text(client.get(f"/claims/{claim.id}"))
    assert "Two checks were counted twice" in body
    assert "Change and resubmit" in body
    page = client.get(f"/claims/{claim.id}/edit")
    first, second = (f"units-{line.id}" for line in claim.lines)
    response = client.post(
        f"/claims/{claim.id}/edit",
        data=form_of(page, **{first: "8", second: "4", "action": "check"}),
    )
    assert response.status_code == 302
    check = plain(text(client.get(f"/claims/{claim.id}/check-your-answers")))
    assert "Check your answers before resubmitting your claim" in check
    assert "Total value £250.00" in check
    response = check_and_submit(client, claim.id)
    assert response.headers["Location"] == f"/claims/{claim.id}/submitted"
    assert "Claim resubmitted" in text(client.get(response.headers["Location"]))
    claim = reload(db_session, claim)
    assert (claim.status, claim.round, claim.value) == (
        S.AWAITING_COMMISSIONER_REVIEW,
        2,
        250,
    )
    body = text(client.get(f"/claims/{claim.id}"))
    assert "round 2" in body


def test_a_claim_no_longer_editable_is_shown_with_409(app, client, db_session, scene):
    from tests.helpers import sign_in

    claim = start(db_session, scene)
    db_session.commit()
    sign_in(client, scene.user.email)
    page = client.get(f"/claims/{claim.id}/edit")
    # A colleague submits the claim while this page is open.
    colleague = user_with_role(Role.PROVIDER_USER_MULTI, scene.practice, full_name="Kim Lee")
    services.transition(
        db_session,
        claim.id,
        ClaimAction.SUBMIT,
        colleague,
        expected_version=claim.version,
        entries=entries(claim, 1, 1),
        today=scene.today,
    )
    db_session.commit()
    response = client.post(f"/claims/{claim.id}/edit", data=form_of(page, action="save"))
    assert response.status_code == 409
    assert "can no longer be changed" in text(response)


def test_withdrawing_a_draft(app, client, db_session, scene):
    from tests.helpers import sign_in

    claim = start(db_session, scene)
    db_session.commit()
    sign_in(client, scene.user.email)
    page = client.get(f"/claims/{claim.id}/withdraw")
    response = client.post(
        f"/claims/{claim.id}/withdraw",
        data={"csrf_token": csrf_token(page), "action": "WITHDRAW", "version": "1"},
    )
    assert response.status_code == 302
    assert reload(db_session, claim).status is S.WITHDRAWN


def test_the_icb_administrator_sets_the_finance_threshold(app, db_session, one_step):
    administrator = user_with_role(Role.ADMINISTRATOR, one_step.icb)
    browser = signed_in(app, administrator)
    page = browser.get("/claims/finance-threshold")
    assert 'value="15000.00"' in text(page)
    response = browser.post(
        "/claims/finance-threshold",
        data={"csrf_token": csrf_token(page), "finance_threshold": "twelve"},
    )
    assert response.status_code == 400
    response = browser.post(
        "/claims/finance-threshold",
        data={"csrf_token": csrf_token(page), "finance_threshold": "£12,500"},
    )
    assert response.status_code == 302
    listed = text(browser.get("/claims"))
    assert "Claims above £12,500.00 now need finance approval" in listed
    # The list reads the ICB's own threshold (not the default) on every page.
    assert "Claims above £12,500.00 need finance approval after tier 2" in listed
    assert "Claims above £12,500.00 need finance approval after tier 2" in text(
        signed_in(app, one_step.tier_1).get("/claims")
    )
    assert signed_in(app, one_step.tier_1).get("/claims/finance-threshold").status_code == 403


def test_the_commissioner_list_shows_what_waits_for_them(app, db_session, one_step):
    claim = at_tier_1(db_session, one_step)
    draft_scene = claim_scene(icb=one_step.icb)
    draft = start(db_session, draft_scene)
    db_session.commit()
    body = text(signed_in(app, one_step.tier_1).get("/claims"))
    waiting = body.split('data-testid="claims-waiting"', 1)[1].split("</table>", 1)[0]
    assert claim.reference in waiting
    assert draft.reference not in body  # not sent to the commissioner yet
