"""A payment run started by hand (finance, with a confirmation step; its progress on the job
page) and a failed payment file withdrawn (``payments.services.by_hand``)."""

from __future__ import annotations

from typing import cast

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from claims_portal.access import current
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import current_organisation, icb_of
from claims_portal.clock import today
from claims_portal.extensions import db
from claims_portal.organisations.models import Organisation
from claims_portal.payments import bp
from claims_portal.payments.models import PaymentFile
from claims_portal.payments.services import PaymentsError, by_hand
from claims_portal.payments.services.finance import PaymentsNotFound, may_manage_payments
from claims_portal.routes import requires
from claims_portal.unit_of_work import refuse


def _icb() -> Organisation:
    icb = icb_of(cast(Organisation, current_organisation()))
    if icb is None or not may_manage_payments(current.person(), icb):
        abort(404)  # a sub-location's finance, or someone of no ICB
    return icb


@bp.route("/payments/run", methods=["GET", "POST"])
@requires(Capability.MANAGE_PAYMENTS)
def start_run() -> ResponseReturnValue:
    icb = _icb()
    problems = []
    status = 200
    if request.method == "POST":
        try:
            job = by_hand.start_run_by_hand(db.session, current.person(), icb, today())
        except PaymentsError as error:
            problems = refuse(error)
            status = error.status_code
        else:
            db.session.commit()  # the job is handed to a worker after this commit
            return redirect(url_for("jobs.job_page", job_id=job.id), 303)
    found = by_hand.preview(db.session, icb)
    return render_template(
        "payments/runs/start.html", icb=icb, found=found, problems=problems
    ), status


@bp.route("/payments/files/<int:file_id>/withdraw", methods=["GET", "POST"])
@requires(Capability.MANAGE_PAYMENTS)
def withdraw_file(file_id: int) -> ResponseReturnValue:
    icb = _icb()
    file = db.session.get(PaymentFile, file_id)
    if file is None or file.icb_id != icb.id:
        abort(404)
    problems = []
    status = 200
    reason = str(request.form.get("reason") or "")
    if request.method == "POST":
        try:
            by_hand.withdraw_file(db.session, current.person(), icb, file_id, reason)
        except PaymentsNotFound:
            abort(404)
        except PaymentsError as error:
            problems = refuse(error)
            status = error.status_code
        else:
            db.session.commit()
            flash(f"{file.name} withdrawn: its claims go in the next payment run", "success")
            return redirect(url_for("payments.start_run"), 303)
    return render_template(
        "payments/runs/withdraw.html", file=file, problems=problems, reason=reason
    ), status
