"""Submitting through *Check your answers*: the declaration, a claim changed between the
check and the confirmation, the confirmation page and who it says reviews the claim next."""

from __future__ import annotations

from sqlalchemy import func, select

from claims_portal.access.roles import Role
from claims_portal.audit.models import AuditEvent
from claims_portal.claims import services
from claims_portal.claims.models import ClaimAction, ClaimEvent, ClaimStatus
from claims_portal.claims.views.submitting import DECLARATION
from tests.claims.helpers import check_and_submit, entries, start
from tests.claims.test_pages import error_links, form_of, plain, reload, text
from tests.factories.access import user_with_role
from tests.helpers import csrf_token, sign_in

S = ClaimStatus


def _saved_draft(client, db_session, scene, *units: str):
    """A draft the scene's user filled in on the claim page (signed in on ``client``)."""
    claim = start(db_session, scene)
    db_session.commit()
    sign_in(client, scene.user.email)
    page = client.get(f"/claims/{claim.id}/edit")
    fields = {f"units-{line.id}": value for line, value in zip(claim.lines, units, strict=True)}
    response = client.post(f"/claims/{claim.id}/edit", data=form_of(page, **fields, action="check"))
    assert response.headers["Location"] == f"/claims/{claim.id}/check-your-answers"
    return reload(db_session, claim)


def _submissions(db_session, claim) -> int:
    return db_session.scalar(
        select(func.count())
        .select_from(ClaimEvent)
        .where(ClaimEvent.claim_id == claim.id, ClaimEvent.action == ClaimAction.SUBMIT)
    )


def _audited_submissions(db_session, claim) -> int:
    return db_session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "claim.submitted", AuditEvent.object_id == str(claim.id))
    )


def test_without_the_declaration_nothing_is_submitted(client, db_session, scene):
    claim = _saved_draft(client, db_session, scene, "10", "4")
    response = check_and_submit(client, claim.id, declaration=False)
    assert response.status_code == 400
    body = text(response)
    assert [href for href, _ in error_links(body)] == ["#declaration"]
    assert 'id="declaration"' in body  # the link lands on the box
    assert reload(db_session, claim).status is S.DRAFT
    assert _submissions(db_session, claim) == 0
    assert _audited_submissions(db_session, claim) == 0


def test_the_declaration_is_kept_with_the_submission(client, db_session, scene):
    claim = _saved_draft(client, db_session, scene, "10", "4")
    assert check_and_submit(client, claim.id).status_code == 302
    event = db_session.scalars(
        select(ClaimEvent).where(
            ClaimEvent.claim_id == claim.id, ClaimEvent.action == ClaimAction.SUBMIT
        )
    ).one()
    assert event.details["declaration"] == DECLARATION
    assert event.value == 300


def test_a_claim_changed_by_a_colleague_after_the_check_is_not_submitted(client, db_session, scene):
    claim = _saved_draft(client, db_session, scene, "10", "4")
    check = client.get(f"/claims/{claim.id}/check-your-answers")
    colleague = user_with_role(Role.PROVIDER_USER_MULTI, scene.practice, full_name="Kim Lee")
    services.save_draft(
        db_session,
        claim.id,
        colleague,
        expected_version=claim.version,
        entries=entries(claim, 20, 4),
    )
    db_session.commit()

    version = form_of(check)["version"]
    response = client.post(
        f"/claims/{claim.id}/submit",
        data={"csrf_token": csrf_token(check), "version": version, "declaration": "y"},
    )
    assert response.status_code == 409
    body = plain(text(response))
    assert "This claim was changed by Kim Lee at" in body
    assert "Nothing was changed." in body
    assert "Check the answers again before you submit the claim." in body
    assert "Total value £550.00" in body  # the answers as they now stand
    assert reload(db_session, claim).status is S.DRAFT
    assert _submissions(db_session, claim) == 0

    # Checked again, the claim goes with the colleague's figures.
    assert check_and_submit(client, claim.id).status_code == 302
    claim = reload(db_session, claim)
    assert (claim.status, claim.value) == (S.AWAITING_PROVIDER_APPROVAL, 550)


def test_a_claim_a_colleague_submitted_meanwhile_shows_the_claim_page(client, db_session, scene):
    claim = _saved_draft(client, db_session, scene, "10", "4")
    check = client.get(f"/claims/{claim.id}/check-your-answers")
    colleague = user_with_role(Role.PROVIDER_USER_MULTI, scene.practice, full_name="Kim Lee")
    services.transition(
        db_session,
        claim.id,
        ClaimAction.SUBMIT,
        colleague,
        expected_version=claim.version,
        today=scene.today,
    )
    db_session.commit()
    response = client.post(
        f"/claims/{claim.id}/submit",
        data={
            "csrf_token": csrf_token(check),
            "version": form_of(check)["version"],
            "declaration": "y",
        },
    )
    assert response.status_code == 409
    assert "can no longer be changed" in text(response)
    assert _submissions(db_session, claim) == 1


def test_check_your_answers_of_a_claim_not_ready_shows_what_to_fix(client, db_session, scene):
    claim = start(db_session, scene)
    db_session.commit()
    sign_in(client, scene.user.email)
    response = client.get(f"/claims/{claim.id}/check-your-answers")
    assert response.status_code == 200
    assert (
        f"#units-{claim.lines[0].id}",
        "Enter the units for Health check part 1 (0 if none)",
    ) in (error_links(text(response)))
    assert "Check your answers" not in text(response)


def test_the_confirmation_names_who_reviews_next(client, db_session, one_step):
    claim = _saved_draft(client, db_session, one_step, "10", "0")
    check = plain(text(client.get(f"/claims/{claim.id}/check-your-answers")))
    assert "goes to the commissioners at" in check
    assert "(Tom Okafor)" in check
    response = check_and_submit(client, claim.id)
    done = plain(text(client.get(response.headers["Location"])))
    assert f"Your claim reference is {claim.reference}" in done
    assert "(Tom Okafor) review the claim" in done
    # Once the claim has moved on, the confirmation is the claim page.
    from claims_portal.access.models import User

    claim = reload(db_session, claim)
    services.transition(
        db_session,
        claim.id,
        ClaimAction.TIER_1_APPROVE,
        db_session.get(User, one_step.tier_1.id),
        expected_version=claim.version,
    )
    db_session.commit()
    response = client.get(f"/claims/{claim.id}/submitted")
    assert response.headers["Location"] == f"/claims/{claim.id}"
