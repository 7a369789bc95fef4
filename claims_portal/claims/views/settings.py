"""The ICB administrator's claim settings: the finance threshold."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import cast

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from claims_portal.access import current
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import (
    current_organisation,
    icb_of,
)
from claims_portal.claims import bp, services
from claims_portal.claims.forms import FinanceThresholdForm
from claims_portal.claims.services import ClaimConflict, ClaimInvalid
from claims_portal.extensions import db
from claims_portal.formatting import money
from claims_portal.organisations.models import Organisation
from claims_portal.routes import requires
from claims_portal.service_settings import claims_settings
from claims_portal.unit_of_work import refuse


def _seen(value: str | None) -> Decimal | None:
    """The threshold the page showed (None when the form did not send one)."""
    try:
        amount = Decimal(value or "")
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


@bp.route("/claims/finance-threshold", methods=["GET", "POST"])
@requires(Capability.CONFIGURE_SCHEMES)
def finance_threshold() -> ResponseReturnValue:
    icb = icb_of(cast(Organisation, current_organisation()))
    if icb is None:
        abort(404)
    settings = claims_settings()
    in_force = services.finance_threshold(db.session, icb, settings=settings)
    form = FinanceThresholdForm()
    status = 200
    if form.validate_on_submit():
        try:
            amount = services.parse_threshold(form.finance_threshold.data)
            changed = services.set_finance_threshold(
                db.session,
                icb,
                amount,
                actor=current.person(),
                settings=settings,
                expected=_seen(form.seen.data),
            )
        except (ClaimInvalid, ClaimConflict) as error:
            form.finance_threshold.errors = [p.message for p in refuse(error)]
            status = error.status_code
            in_force = services.finance_threshold(db.session, icb, settings=settings)
        else:
            if changed:
                flash(f"Claims above {money(amount)} now need finance approval", "success")
            return redirect(url_for("claims.index"))
    elif not form.is_submitted():
        form.finance_threshold.data = f"{in_force:.2f}"
    if form.errors and status == 200:
        status = 400
    # The value this page shows: a second save is checked against it.
    form.seen.data = f"{in_force:.2f}"
    return render_template(
        "claims/finance_threshold.html", form=form, icb=icb, current=in_force
    ), status
