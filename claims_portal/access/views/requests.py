"""Asking for access (anyone), and deciding requests under "Pending actions"."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from claims_portal.access import bp, current, throttling
from claims_portal.access.forms import (
    ConfirmForm,
    DecisionForm,
    FindOrganisationForm,
    RequestAccessForm,
)
from claims_portal.access.models import AccessRequest, AccessRequestStatus, User
from claims_portal.access.roles import Capability, Role
from claims_portal.access.services import AccessConflict, AccessError, access_requests
from claims_portal.access.services.permissions import PermissionDenied
from claims_portal.access.views._common import links, show_error
from claims_portal.clock import today
from claims_portal.extensions import db
from claims_portal.organisations.models import Organisation
from claims_portal.routes import Target, public, requires_on, signed_in
from claims_portal.service_settings import access_settings


def _is_requester(user: User, access: AccessRequest) -> bool:
    return access.requester_id == user.id or access.email == user.email


def _sees(user: User, access: AccessRequest) -> bool:
    """The requester, or someone who decides requests for its organisation."""
    if _is_requester(user, access):
        return True
    try:
        access_requests.ensure_can_decide(db.session, user, access)
    except PermissionDenied:
        return False
    return True


#: An access request by its id (anyone signed in learns whether the id exists: 404 or 403).
ACCESS_REQUEST: Target[AccessRequest] = Target(
    "access request",
    "request_id",
    "access",
    lambda user, key: db.session.get(AccessRequest, key),
)


@bp.get("/request-access")
@public
def request_access() -> str:
    form = FindOrganisationForm(request.args)
    results = None
    if "q" in request.args and form.validate():
        results = access_requests.find_organisations(db.session, form.q.data or "")
    return render_template("access/request_access_find.html", form=form, results=results)


@bp.route("/request-access/<ods_code>", methods=["GET", "POST"])
@public
def request_access_form(ods_code: str) -> str | Response:
    organisation = db.session.scalar(
        select(Organisation).where(Organisation.ods_code == ods_code.upper())
    )
    if organisation is None or not organisation.is_active_on(today()):
        abort(404)
    form = RequestAccessForm()
    signed_in = current_user.is_authenticated
    if signed_in:
        del form.full_name
        del form.email
    roles = access_requests.requestable_roles(organisation)
    form.role.choices = [SelectChoice(role.name, str(role)) for role in roles]
    if form.validate_on_submit():
        throttling.count_attempt()
        try:
            access_requests.submit_request(
                db.session,
                organisation=organisation,
                role=Role[form.role.data],
                links=links(),
                settings=access_settings(),
                requester=current.person() if signed_in else None,
                email=None if signed_in else form.email.data,
                full_name=None if signed_in else form.full_name.data,
                note=form.note.data,
            )
        except AccessError as error:
            show_error(form, error)
        else:
            flash(
                f"Your request for access to {organisation.display_name} has been sent. "
                "We will email you when it is decided.",
                "success",
            )
            return redirect(url_for("access.account" if signed_in else "access.sign_in"))
    return render_template("access/request_access_form.html", form=form, organisation=organisation)


@bp.get("/pending-actions")
@signed_in
def pending_actions() -> str:
    rows = access_requests.pending_for(db.session, current.person())
    return render_template("access/pending_actions.html", requests=rows)


def _decision_choices() -> list[SelectChoice]:
    return [SelectChoice("approve", "Approve"), SelectChoice("reject", "Reject")]


@bp.route("/access-requests/<int:request_id>", methods=["GET", "POST"])
@requires_on(
    ACCESS_REQUEST,
    Capability.ADMINISTER_USERS,
    Capability.APPROVE_PRACTICE_ACCESS,
    allowed=_sees,
    note="or its requester (the organisation's approval mode says which capability decides)",
)
def access_request(request_id: int, access: AccessRequest) -> tuple[str, int] | Response:
    # Another organisation's request is refused (403), even by editing the URL.
    user = current.person()
    is_requester = _is_requester(user, access)
    form = DecisionForm()
    form.decision.choices = _decision_choices()
    status = 200
    # A decision posted after someone else's is still handed to the service, which says who
    # decided first (409); nothing of the second decision is kept.
    if not is_requester and form.validate_on_submit():
        try:
            access_requests.decide(
                db.session,
                access,
                actor=user,
                approve=form.decision.data == "approve",
                reason=form.reason.data,
                links=links(),
                settings=access_settings(),
            )
        except AccessError as error:
            show_error(form, error)
            status = error.status_code if isinstance(error, AccessConflict) else 200
        else:
            verb = "approved" if form.decision.data == "approve" else "rejected"
            flash(
                f"You {verb} the request from {access.full_name} for "
                f"{access.organisation.display_name}. We have emailed them.",
                "success",
            )
            return redirect(url_for("access.pending_actions"))
    pending = access.status is AccessRequestStatus.PENDING
    return render_template(
        "access/access_request.html",
        access=access,
        form=form,
        can_decide=pending and not is_requester,
        withdraw_form=ConfirmForm(),
    ), status


@bp.post("/access-requests/<int:request_id>/withdraw")
@requires_on(
    ACCESS_REQUEST,
    allowed=lambda user, access: access.requester_id == user.id,
    note="its requester",
)
def withdraw_access_request(request_id: int, access: AccessRequest) -> Response:
    form = ConfirmForm()

    if form.validate_on_submit():
        # A refusal (decided meanwhile) is the error page with the reason (errors.py).
        access_requests.withdraw(db.session, access, actor=current.person())
        flash("You withdrew your request.", "success")
    return redirect(url_for("access.account"))
