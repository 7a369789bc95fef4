"""The ICB's payments settings page: its administrators' and finance staff's."""

from __future__ import annotations

from typing import cast

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from claims_portal.access import current
from claims_portal.access.services.permissions import current_organisation, icb_of
from claims_portal.extensions import db
from claims_portal.organisations.models import Organisation
from claims_portal.payments import bp, services
from claims_portal.payments.forms import PaymentSettingsForm
from claims_portal.routes import requires
from claims_portal.unit_of_work import refuse


@bp.route("/payments/settings", methods=["GET", "POST"])
@requires(*services.SETTINGS_CAPABILITIES)
def settings() -> ResponseReturnValue:
    icb = icb_of(cast(Organisation, current_organisation()))
    if icb is None or not services.can_set_payment_settings(current.person(), icb):
        abort(404)  # a sub-location's staff, or staff of no ICB: no settings of theirs here
    form = PaymentSettingsForm()
    status = 200
    if form.validate_on_submit():
        try:
            changed = services.set_payment_settings(
                db.session,
                icb,
                actor=current.person(),
                agency_account=form.agency_account.data,
                finance_contacts=form.finance_contacts.data,
                cut_off_working_days=form.cut_off_working_days.data,
                payment_day=form.payment_day.data,
            )
        except services.PaymentsError as error:
            for problem in refuse(error):
                field = getattr(form, problem.field or "", None)
                if field is not None:
                    field.errors = [*field.errors, problem.message]
            status = error.status_code
        else:
            if changed:
                flash("Payments settings saved", "success")
            return redirect(url_for("payments.settings"))
    elif not form.is_submitted():
        saved = services.payment_settings(db.session, icb)
        form.agency_account.data = saved.agency_account or ""
        form.finance_contacts.data = "\n".join(saved.finance_contacts)
        form.cut_off_working_days.data = str(saved.cut_off_working_days)
        form.payment_day.data = str(saved.payment_day)
    if form.errors and status == 200:
        status = 400
    return render_template("payments/settings.html", form=form, icb=icb), status
