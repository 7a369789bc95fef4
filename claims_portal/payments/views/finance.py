"""Finance's payments pages: rejected payments sent again or held, holds released, claims
paid by hand, recoveries raised and decided (``payments.services.finance``, ``manual``,
``recoveries``). Each is the finance person's ICB's only: another ICB's claim, payment or
recovery is not found (404).

Many claims at once: the list posts the ticked claims (``<id>:<version>``, the version the
list showed); a confirmation (for a hold, with the reason; for payments by hand, the
answers to check) posts exactly those again with ``confirmed``; the result page says what
was done and, for each claim that was not, why.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from claims_portal.access import current
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import current_organisation, icb_of
from claims_portal.claims.models import parse_reference
from claims_portal.extensions import db
from claims_portal.hosts import public_base_url
from claims_portal.inputs import parse_id
from claims_portal.organisations.models import Organisation
from claims_portal.payments import bp
from claims_portal.payments.models import RecoveryStatus
from claims_portal.payments.services import PaymentsError, manual, recoveries
from claims_portal.payments.services import finance as services
from claims_portal.routes import requires
from claims_portal.rules import Problem
from claims_portal.unit_of_work import refuse

MANAGE = Capability.MANAGE_PAYMENTS


def _icb() -> Organisation:
    """The finance person's ICB; 404 for someone managing no ICB's payments here."""
    icb = icb_of(cast(Organisation, current_organisation()))
    if not services.may_manage_payments(current.person(), icb):
        abort(404)  # a sub-location's finance, or someone of no ICB
    assert icb is not None
    return icb


def _targets() -> list[tuple[int, int]]:
    targets = []
    for value in request.form.getlist("claim"):
        claim_id, _, version = (parse_id(part) for part in str(value).partition(":"))
        if claim_id is not None and version is not None:
            targets.append((claim_id, version))
    return targets


# --- Rejected payments and holds -----------------------------------------------------------


def _list_page(page: str, problems: list[Problem] | None = None, status: int = 200) -> Any:
    icb = _icb()
    if page == "rejected":
        return render_template(
            "payments/finance/rejected.html",
            icb=icb,
            rows=services.rejected_payments(db.session, icb),
            problems=problems or [],
        ), status
    return render_template(
        "payments/finance/holds.html",
        icb=icb,
        held=services.held_claims(db.session, icb),
        waiting=services.waiting_for_the_run(db.session, icb),
        problems=problems or [],
    ), status


#: Which steps each list offers.
_OFFERED = {"rejected": ("send-again", "hold"), "holds": ("release", "hold")}


def _take_step(page: str) -> ResponseReturnValue:
    icb = _icb()
    name = request.form.get("action", "")
    if name not in _OFFERED[page]:
        return _list_page(page, [Problem("Choose what to do with the claims")], 400)
    step = services.STEPS[name]
    back = url_for(f"payments.{page}")
    try:
        chosen = services.selected_claims(db.session, icb, _targets())
    except PaymentsError as error:
        return _list_page(page, refuse(error), 400)
    if not chosen:
        return _list_page(page, [Problem("Select at least one claim", "claim")], 400)
    reason = request.form.get("reason", "")
    if request.form.get("confirmed") != "1":
        return render_template(
            "payments/finance/confirm.html",
            step=step,
            chosen=chosen,
            total=sum((c.amount or Decimal(0) for c in chosen), Decimal(0)),
            back=back,
            action_url=back,
            reason=reason,
            problems=[],
        )
    try:
        result = services.take_payment_step(
            db.session,
            current.person(),
            icb,
            name,
            [(c.claim_id, c.version) for c in chosen],
            reason=reason,
        )
    except PaymentsError as error:
        return render_template(
            "payments/finance/confirm.html",
            step=step,
            chosen=chosen,
            total=sum((c.amount or Decimal(0) for c in chosen), Decimal(0)),
            back=back,
            action_url=back,
            reason=reason,
            problems=refuse(error),
        ), error.status_code
    return render_template("payments/finance/result.html", result=result, back=back)


@bp.route("/payments/rejected", methods=["GET", "POST"])
@requires(MANAGE)
def rejected() -> ResponseReturnValue:
    if request.method == "POST":
        return _take_step("rejected")
    return _list_page("rejected")


@bp.route("/payments/holds", methods=["GET", "POST"])
@requires(MANAGE)
def holds() -> ResponseReturnValue:
    if request.method == "POST":
        return _take_step("holds")
    return _list_page("holds")


# --- Payments recorded by hand -------------------------------------------------------------


def _manual_page(problems: list[Problem] | None = None, status: int = 200) -> Any:
    icb = _icb()
    return render_template(
        "payments/finance/manual.html",
        icb=icb,
        rows=services.to_pay_by_hand(db.session, icb),
        problems=problems or [],
        ticked={claim_id for claim_id, _ in _targets()},
        form=request.form,
    ), status


def _paid_date() -> Any:
    form = request.form
    return manual.parse_day(
        form.get("paid_date-day"), form.get("paid_date-month"), form.get("paid_date-year")
    )


@bp.route("/payments/manual", methods=["GET", "POST"])
@requires(MANAGE)
def manual_payments() -> ResponseReturnValue:
    if request.method == "GET":
        return _manual_page()
    icb = _icb()
    try:
        checked = manual.check_manual_payment(
            db.session,
            current.person(),
            icb,
            _targets(),
            paid_date=_paid_date(),
            reference=request.form.get("reference"),
        )
    except PaymentsError as error:
        return _manual_page(refuse(error), 400)
    return render_template("payments/finance/manual_check.html", checked=checked, problems=[])


@bp.post("/payments/manual/record")
@requires(MANAGE)
def record_manual_payments() -> ResponseReturnValue:
    icb = _icb()
    try:
        result = manual.record_manual_payments(
            db.session,
            current.person(),
            icb,
            _targets(),
            paid_date=_paid_date(),
            reference=request.form.get("reference"),
        )
    except PaymentsError as error:
        return _manual_page(refuse(error), 400)
    return render_template(
        "payments/finance/result.html", result=result, back=url_for("payments.manual_payments")
    )


# --- Recoveries ----------------------------------------------------------------------------


def _recoveries_page(problems: list[Problem] | None = None, status: int = 200) -> Any:
    icb = _icb()
    rows = recoveries.recovery_rows(db.session, icb)
    groups = [
        (state, [row for row in rows if row.recovery.status is state]) for state in RecoveryStatus
    ]
    return render_template(
        "payments/finance/recoveries.html",
        icb=icb,
        groups=groups,
        paid=recoveries.paid_claims(db.session, icb),
        problems=problems or [],
        claim_text=request.args.get("claim", ""),
    ), status


@bp.get("/payments/recoveries")
@requires(MANAGE)
def recoveries_list() -> ResponseReturnValue:
    return _recoveries_page()


@bp.get("/payments/recoveries/new")
@requires(MANAGE)
def find_claim_to_recover() -> ResponseReturnValue:
    icb = _icb()
    claim_id = parse_reference(request.args.get("claim", ""))
    if claim_id is None:
        return _recoveries_page([Problem("Enter a claim ID, like CLM-000123", "claim")], 400)
    try:
        recoveries.claim_for_recovery(db.session, current.person(), icb, claim_id)
    except services.PaymentsNotFound:
        return _recoveries_page(
            [Problem(f"There is no claim CLM-{claim_id:06d} of yours", "claim")], 400
        )
    return redirect(url_for("payments.raise_recovery", claim_id=claim_id))


@bp.route("/payments/claims/<int:claim_id>/recover", methods=["GET", "POST"])
@requires(MANAGE)
def raise_recovery(claim_id: int) -> ResponseReturnValue:
    icb = _icb()
    person = current.person()
    try:
        claim = recoveries.claim_for_recovery(db.session, person, icb, claim_id)
    except services.PaymentsNotFound:
        abort(404)
    problems: list[Problem] = []
    status = 200
    if request.method == "POST":
        try:
            recovery = recoveries.raise_recovery(
                db.session,
                person,
                icb,
                claim.id,
                amount=request.form.get("amount"),
                reason=request.form.get("reason"),
            )
        except PaymentsError as error:
            problems, status = refuse(error), error.status_code
        else:
            flash(
                f"Recovery raised from {claim.reference}: another finance person must approve it",
                "success",
            )
            return redirect(url_for("payments.recovery", recovery_id=recovery.id))
    return render_template(
        "payments/finance/raise.html",
        claim=claim,
        paid=recoveries.paid_for(db.session, claim.id),
        left=recoveries.recoverable(db.session, claim.id),
        problems=problems,
        form=request.form,
    ), status


@bp.route("/payments/recoveries/<int:recovery_id>", methods=["GET", "POST"])
@requires(MANAGE)
def recovery(recovery_id: int) -> ResponseReturnValue:
    icb = _icb()
    person = current.person()
    try:
        row = recoveries.find_recovery(db.session, person, icb, recovery_id)
    except services.PaymentsNotFound:
        abort(404)
    problems: list[Problem] = []
    status = 200
    if request.method == "POST":
        decision = request.form.get("decision", "")
        try:
            recoveries.decide_recovery(
                db.session,
                person,
                icb,
                recovery_id,
                decision,
                reason=request.form.get("decline_reason"),
                base_url=public_base_url(),
            )
        except PaymentsError as error:
            problems, status = refuse(error), error.status_code
            row = recoveries.find_recovery(db.session, person, icb, recovery_id)
        else:
            flash(f"Recovery {'approved' if decision == 'approve' else 'declined'}", "success")
            return redirect(url_for("payments.recovery", recovery_id=recovery_id))
    return render_template(
        "payments/finance/decide.html",
        row=row,
        may_decide=row.recovery.status is RecoveryStatus.AWAITING_APPROVAL
        and row.recovery.raised_by_id != person.id,
        problems=problems,
        form=request.form,
    ), status
