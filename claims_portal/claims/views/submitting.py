"""Submitting a claim: *Check your answers*, the declaration, and the confirmation page.

*Continue* on the claim page saves and checks the claim (``editing.py``), then shows *Check
your answers*: every line with its units and value, the answers, the evidence files and the
total, each with a *Change* link back to its field on the claim page; who reviews the claim
next; and the declaration. *Submit claim* posts the version the page showed and the ticked
declaration, and the lifecycle's ``SUBMIT`` takes it (every check again, under the claim's
lock). Without the tick nothing is submitted and the error summary says why (400). A claim
changed by someone else since the page was shown is refused with who changed it (409): the
page is shown again as the claim now stands (or the claim page, once it left the practice's
hands), and nothing is submitted. A resubmission after a return or a decline takes the same
path. The confirmation page gives the claim's reference and who reviews it next.
"""

from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from claims_portal.access import current
from claims_portal.claims import bp, services
from claims_portal.claims.forms import SubmitClaimForm
from claims_portal.claims.models import Claim, ClaimAction, ClaimStatus
from claims_portal.claims.services import (
    ClaimConflict,
    ClaimError,
    ClaimInvalid,
    ClaimNotFound,
    Problem,
)
from claims_portal.claims.services.entries import answer_anchor, units_field
from claims_portal.claims.views._common import (
    base_url,
    claim_or_404,
    edited_claim,
    render_claim,
    seen_claim,
    value_view,
)
from claims_portal.claims.views.editing import editable_or_refuse, render_edit
from claims_portal.clock import today
from claims_portal.extensions import db
from claims_portal.unit_of_work import refuse

#: What the submitter confirms; kept with the submission in the claim's history.
DECLARATION = (
    "I confirm the information in this claim is accurate and complete, the activity claimed "
    "was delivered under the terms of the scheme, and the claim and its evidence hold no "
    "patient-identifiable information."
)

#: Where a submitted claim waits (the confirmation page is shown while it is there).
_WAITING = frozenset(
    {ClaimStatus.AWAITING_PROVIDER_APPROVAL, ClaimStatus.AWAITING_COMMISSIONER_REVIEW}
)


def render_check(
    claim: Claim,
    *,
    form: SubmitClaimForm | None = None,
    problems: list[Problem] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    """*Check your answers* for ``claim`` as it stands; ``form`` keeps the version the
    person saw (a refused declaration), else the claim's version now."""
    user = current.person()
    if form is None:
        form = SubmitClaimForm(formdata=None, version=claim.version)
    value = value_view(claim, services.history(db.session, claim.id), live=True)
    answers = {a.question_id: a.value for a in claim.answers}
    target = services.submission_target(claim, user)
    return render_template(
        "claims/check_answers.html",
        claim=claim,
        form=form,
        problems=problems if problems is not None else form,
        value=value,
        lines=[(row, units_field(line)) for line, row in zip(claim.lines, value.rows, strict=True)],
        answers=[
            (q, services.display_answer(q, answers.get(q.id)), answer_anchor(q))
            for q in claim.scheme.questions
        ],
        review=services.next_review(db.session, claim, target, user),
        declaration=DECLARATION,
    ), status


@bp.get("/claims/<int:claim_id>/check-your-answers")
@edited_claim
def check_answers(claim_id: int, claim: Claim) -> ResponseReturnValue:
    refused = editable_or_refuse(claim)
    if refused is not None:
        return refused
    problems = services.problems_before_submission(db.session, claim, today=today())
    if problems:  # opened directly, or the claim changed since Continue: fix these first
        return render_edit(claim, problems=problems)
    return render_check(claim)


@bp.post("/claims/<int:claim_id>/submit")
@edited_claim
def submit(claim_id: int, claim: Claim) -> ResponseReturnValue:
    refused = editable_or_refuse(claim)
    if refused is not None:
        return refused
    form = SubmitClaimForm()
    if not form.validate_on_submit():
        if not form.declaration.errors or form.version.data is None:
            abort(400)  # no CSRF token or version: not this page's form
        return render_check(claim, form=form, status=400)
    try:
        services.transition(
            db.session,
            claim_id,
            ClaimAction.SUBMIT,
            current.person(),
            expected_version=form.version.data,
            declaration=DECLARATION,
            base_url=base_url(),
        )
    except ClaimNotFound:
        abort(404)
    except ClaimError as error:
        return _refused(claim_id, error)
    return redirect(url_for("claims.submitted", claim_id=claim_id))


def _refused(claim_id: int, error: ClaimError) -> ResponseReturnValue:
    """Nothing was submitted: the claim as it now stands, with why."""
    problems = refuse(error)
    claim = claim_or_404(claim_id)
    if not claim.is_editable or not isinstance(error, ClaimConflict | ClaimInvalid):
        return render_claim(claim, problems=problems, status=error.status_code)
    if isinstance(error, ClaimConflict):
        problems.append(Problem("Check the answers again before you submit the claim."))
        return render_check(claim, problems=problems, status=409)
    return render_edit(claim, problems=problems, status=400)


@bp.get("/claims/<int:claim_id>/submitted")
@seen_claim
def submitted(claim_id: int, claim: Claim) -> ResponseReturnValue:
    """The confirmation: the reference and who reviews the claim next (while it waits)."""
    if claim.status not in _WAITING or claim.submitted_by is None:
        return redirect(url_for("claims.detail", claim_id=claim_id))
    review = services.next_review(db.session, claim, claim.status, claim.submitted_by)
    return render_template("claims/submitted.html", claim=claim, review=review)
