"""A practice's payments page and its monthly remittance statements (PDF, XLSX).

Everything is the current organisation's: there is no practice in the address, so another
practice's payments cannot be asked for, and a month it was paid nothing in is a 404.
"""

from __future__ import annotations

from typing import cast

from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue

from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import current_organisation
from claims_portal.claims.evidence.serving import attachment_disposition
from claims_portal.extensions import db
from claims_portal.organisations.models import Organisation
from claims_portal.payments import bp, services
from claims_portal.payments.services.statements import PAYMENT_SIDE
from claims_portal.payments.statements import statement_pdf, statement_xlsx
from claims_portal.routes import requires

#: The payments page's tabs: (value of ``show``, label, the claim statuses it lists).
SHOWN = {
    "all": ("All", PAYMENT_SIDE),
    "expected": ("Expected", PAYMENT_SIDE[:2]),
    "sent": ("Sent for payment", PAYMENT_SIDE[2:3]),
    "paid": ("Paid", PAYMENT_SIDE[3:]),
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _practice() -> Organisation:
    return cast(Organisation, current_organisation())


@bp.route("/payments")
@requires(Capability.VIEW_PRACTICE_PAYMENTS)
def practice_payments() -> ResponseReturnValue:
    practice = _practice()
    show = request.args.get("show", "all")
    if show not in SHOWN:
        show = "all"
    page = request.args.get("page", "1")
    claims = services.payment_claims(
        db.session,
        practice,
        statuses=SHOWN[show][1],
        page=int(page) if page.isdigit() else 1,
    )
    return render_template(
        "payments/statements/payments.html",
        practice=practice,
        summary=services.payments_summary(db.session, practice),
        claims=claims,
        show=show,
        tabs=SHOWN,
        recoveries=services.practice_recoveries(db.session, practice),
    )


@bp.route("/payments/statements")
@requires(Capability.VIEW_PRACTICE_PAYMENTS)
def statements() -> ResponseReturnValue:
    practice = _practice()
    return render_template(
        "payments/statements/statements.html",
        practice=practice,
        months=services.statement_months(db.session, practice),
    )


@bp.route("/payments/statements/<month>.<kind>")
@requires(Capability.VIEW_PRACTICE_PAYMENTS)
def statement_download(month: str, kind: str) -> ResponseReturnValue:
    """``/payments/statements/2026-11.pdf`` (or ``.xlsx``)."""
    first_day = services.parse_month(month)
    if first_day is None or kind not in ("pdf", "xlsx"):
        abort(404)
    statement = services.statement_for(db.session, _practice(), first_day)
    if not statement.lines:
        abort(404)  # nothing paid that month (or not this practice's month)
    if kind == "pdf":
        body, mimetype = statement_pdf(statement), "application/pdf"
    else:
        body, mimetype = statement_xlsx(statement), XLSX
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": attachment_disposition(statement.filename(kind)),
            "Cache-Control": "private, no-store",
        },
    )
