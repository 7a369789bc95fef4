"""The claim page and the steps taken from it: approve, decline, return, withdraw.

Every step posts the action and the version the page showed. When someone else changed the
claim meanwhile, the claim page is shown again with HTTP 409 and the service's message in
the error summary ("This claim was approved at tier 1 by ... Nothing was changed.").
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from claims_portal.access import current
from claims_portal.claims import bp, services
from claims_portal.claims.forms import ReasonForm, StepForm
from claims_portal.claims.models import Claim, ClaimAction
from claims_portal.claims.services import ClaimError, ClaimInvalid, ClaimNotFound, Problem
from claims_portal.claims.views._common import (
    APPROVE_ACTIONS,
    DECLINE_ACTIONS,
    base_url,
    claim_or_404,
    claim_step,
    render_claim,
    seen_claim,
)
from claims_portal.extensions import db
from claims_portal.service_settings import claims_settings
from claims_portal.unit_of_work import refuse

#: What the practice reads after each step.
_DONE = {
    ClaimAction.PROVIDER_APPROVE: "You approved {ref}. It now waits for commissioner review.",
    ClaimAction.TIER_1_APPROVE: "You approved {ref} at tier 1. It now waits for payment approval.",
    ClaimAction.TIER_2_APPROVE: "You approved {ref} at tier 2. It is now {status}.",
    ClaimAction.FINANCE_APPROVE: "You approved {ref} for finance. It is now approved for payment.",
    ClaimAction.TIER_1_DECLINE: "You declined {ref}. It has gone back to {provider}.",
    ClaimAction.TIER_2_DECLINE: "You declined {ref}. It has gone back to {provider}.",
    ClaimAction.FINANCE_DECLINE: "You declined {ref}. It has gone back to {provider}.",
    ClaimAction.PROVIDER_RETURN: "You returned {ref} to the practice.",
    ClaimAction.WITHDRAW: "You withdrew {ref}.",
}


def done_message(claim: Claim, action: ClaimAction) -> str:
    return _DONE[action].format(
        ref=claim.reference,
        status=claim.status.value.lower(),
        provider=claim.provider.name,
    )


def take_step(
    claim_id: int, action: ClaimAction, version: int, reason: str | None = None
) -> ResponseReturnValue | None:
    """Run the step (the request commits it); raises ``ClaimInvalid`` when the service
    refused with a reason problem (the caller re-renders its form), else the response
    (redirect, or the claim page with the refusal)."""
    try:
        services.transition(
            db.session,
            claim_id,
            action,
            current.person(),
            expected_version=version,
            reason=reason,
            base_url=base_url(),
            settings=claims_settings(),
        )
    except ClaimNotFound:
        abort(404)
    except ClaimError as error:
        problems = refuse(error)  # rolled back: the page shows the claim as it is
        if isinstance(error, ClaimInvalid) and any(p.field == "reason" for p in problems):
            raise
        claim = claim_or_404(claim_id)
        return render_claim(claim, problems=problems, status=error.status_code)
    claim = claim_or_404(claim_id)
    flash(done_message(claim, action), "success")
    return redirect(url_for("claims.detail", claim_id=claim_id))


@bp.get("/claims/<int:claim_id>")
@seen_claim
def detail(claim_id: int, claim: Claim) -> ResponseReturnValue:
    return render_claim(claim)


@bp.post("/claims/<int:claim_id>/approve")
@claim_step
def approve(claim_id: int, claim: Claim) -> ResponseReturnValue:
    form = StepForm()
    if not form.validate_on_submit() or form.action.data not in ClaimAction.__members__:
        abort(400)
    action = ClaimAction[form.action.data]
    if action not in APPROVE_ACTIONS:
        abort(400)
    response = take_step(claim_id, action, form.version.data)
    assert response is not None
    return response


def _reason_page(
    claim: Claim, allowed: frozenset[ClaimAction], template_kind: str
) -> ResponseReturnValue:
    """GET: the reason form for the claim's current step; POST: take it."""
    claim_id = claim.id
    form = ReasonForm()
    if form.is_submitted():
        if form.action.data not in ClaimAction.__members__:
            abort(400)
        action = ClaimAction[form.action.data]
        if action not in allowed:
            abort(400)
        if form.validate():
            try:
                response = take_step(claim_id, action, form.version.data, form.reason.data)
            except ClaimInvalid as error:
                form.reason.errors = [p.message for p in error.problems]
            else:
                assert response is not None
                return response
        status = 400
    else:
        actions = services.available_actions(db.session, claim, current.person())
        action_or_none = next((a for a in actions if a in allowed), None)
        if action_or_none is None:
            flash_problem = (
                f"This claim is {claim.status.value.lower()}: there is nothing for you to "
                f"{template_kind} here."
            )
            return render_claim(claim, problems=[Problem(flash_problem)], status=409)
        action = action_or_none
        form.action.data = action.name
        form.version.data = claim.version
        status = 200
    return render_template(
        "claims/reason.html", claim=claim, form=form, action=action, kind=template_kind
    ), status


@bp.route("/claims/<int:claim_id>/decline", methods=["GET", "POST"])
@claim_step
def decline(claim_id: int, claim: Claim) -> ResponseReturnValue:
    return _reason_page(claim, DECLINE_ACTIONS, "decline")


@bp.route("/claims/<int:claim_id>/return", methods=["GET", "POST"])
@claim_step
def return_claim(claim_id: int, claim: Claim) -> ResponseReturnValue:
    return _reason_page(claim, frozenset({ClaimAction.PROVIDER_RETURN}), "return")


@bp.route("/claims/<int:claim_id>/withdraw", methods=["GET", "POST"])
@claim_step
def withdraw(claim_id: int, claim: Claim) -> ResponseReturnValue:
    return _reason_page(claim, frozenset({ClaimAction.WITHDRAW}), "withdraw")
