from __future__ import annotations

from typing import cast

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from claims_portal.access import current
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import (
    current_organisation,
    has_capability,
)
from claims_portal.extensions import db
from claims_portal.organisations import bp
from claims_portal.organisations import services as organisation_services
from claims_portal.organisations.forms import ApprovalModeForm
from claims_portal.organisations.models import ApprovalMode, Organisation, OrganisationKind
from claims_portal.organisations.services import OrganisationError
from claims_portal.routes import requires
from claims_portal.rules import put_on_form
from claims_portal.unit_of_work import refuse


@bp.get("/practices")
@requires(Capability.VIEW_COMMISSIONER_CLAIMS)
def practices() -> ResponseReturnValue:
    commissioner = cast(Organisation, current_organisation())
    rows = organisation_services.practices_of(db.session, commissioner)
    return render_template(
        "organisations/practices.html",
        practices=rows,
        can_change_approval_mode=has_capability(
            current.person(), Capability.CHANGE_APPROVAL_MODE, commissioner
        ),
    )


@bp.route("/practices/<int:practice_id>/approval-mode", methods=["GET", "POST"])
@requires(Capability.CHANGE_APPROVAL_MODE)
def approval_mode(practice_id: int) -> ResponseReturnValue:
    practice = db.session.get(Organisation, practice_id)
    if practice is None or practice.kind is not OrganisationKind.GP_PRACTICE:
        abort(404)
    user = current.person()
    # Another ICB's practice is refused by the service (403), not hidden.
    form = ApprovalModeForm()
    status = 200
    if form.validate_on_submit():
        seen = form.seen_mode.data
        try:
            changed = organisation_services.change_approval_mode(
                db.session,
                practice=practice,
                mode=ApprovalMode[form.approval_mode.data],
                actor=user,
                reason=form.reason.data or None,
                expected=ApprovalMode[seen] if seen in ApprovalMode.__members__ else None,
            )
        except OrganisationError as error:
            put_on_form(form, refuse(error))
            status = error.status_code
        else:
            if changed:
                flash(f"{practice.name} now uses {practice.approval_mode} approval", "success")
            return redirect(url_for("organisations.practices"))
    organisation_services.ensure_can_change_approval_mode(user, practice)
    if form.approval_mode.data is None and practice.approval_mode is not None:
        form.approval_mode.data = practice.approval_mode.name
    # What this page shows now (after a conflict: the mode someone else saved).
    form.seen_mode.data = practice.approval_mode.name if practice.approval_mode else ""
    return render_template("organisations/approval_mode.html", form=form, practice=practice), status
