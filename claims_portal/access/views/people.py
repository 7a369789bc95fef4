"""People (administrators): who has access under this ICB, invitations, and account actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from flask import abort, flash, make_response, redirect, render_template, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from claims_portal.access import bp, current
from claims_portal.access.forms import ConfirmForm, InviteForm, ReasonForm
from claims_portal.access.models import Membership, User
from claims_portal.access.roles import Capability, Role
from claims_portal.access.services import AccessError, normalise_email, people
from claims_portal.access.services.permissions import current_organisation
from claims_portal.access.views._common import links, show_error
from claims_portal.access.views.mailbox_checks import invitation_warning
from claims_portal.extensions import db
from claims_portal.organisations.models import Organisation
from claims_portal.routes import Target, requires, requires_on
from claims_portal.rules import Problem
from claims_portal.service_settings import access_settings
from claims_portal.unit_of_work import refuse

#: A person by their user id: anyone signed in learns whether the id exists (404 or 403).
PERSON: Target[User] = Target(
    "person", "user_id", "person", lambda user, key: db.session.get(User, key)
)


@bp.get("/people")
@requires(Capability.ADMINISTER_USERS)
def people_list() -> str:
    root = cast(Organisation, current_organisation())
    return render_template(
        "access/people.html",
        people=people.people_in_scope(db.session, current.person(), root),
        root=root,
    )


@bp.route("/people/invite", methods=["GET", "POST"])
@requires(Capability.ADMINISTER_USERS)
def invite() -> str | Response:
    root = cast(Organisation, current_organisation())
    organisations = people.scope_organisations(db.session, current.person(), root)
    form = InviteForm()
    form.organisation_id.choices = [SelectChoice(o.id, o.display_name) for o in organisations]
    form.role.choices = [SelectChoice(role.name, str(role)) for role in Role]
    warning = None
    if form.validate_on_submit():
        organisation = next(o for o in organisations if o.id == form.organisation_id.data)
        warning = _unchecked_mailbox_warning(form)
        if warning is None:
            done = _send_invitation(form, organisation)
            if done is not None:
                return done
    return render_template("access/invite.html", form=form, mailbox_warning=warning)


def _send_invitation(form: InviteForm, organisation: Organisation) -> Response | None:
    try:
        membership = people.invite(
            db.session,
            actor=current.person(),
            organisation=organisation,
            role=Role[form.role.data],
            email=form.email.data or "",
            full_name=form.full_name.data or "",
            links=links(),
            settings=access_settings(),
        )
    except AccessError as error:
        show_error(form, error)
        return None
    flash(
        f"{membership.user.full_name} now has the role {membership.role} at "
        f"{organisation.display_name}. We have emailed them.",
        "success",
    )
    return redirect(url_for("access.person", user_id=membership.user_id))


def _unchecked_mailbox_warning(form: InviteForm) -> str | None:
    """A warning about a borderline new address, until it is submitted again unchanged."""
    email = normalise_email(form.email.data or "")
    if form.checked_email.data == email:
        return None
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        return None
    warning = invitation_warning(email)
    if warning:
        form.checked_email.data = email
    return warning


#: Administering one of the person's memberships (403 for people of another ICB).
managed_person = requires_on(
    PERSON,
    Capability.ADMINISTER_USERS,
    allowed=people.can_manage,
    note="on one of their memberships",
)


@bp.get("/people/<int:user_id>")
@managed_person
def person(user_id: int, person: User) -> str:
    return _person_page(person)


def _person_page(user: User, problems: list[Problem] | None = None) -> str:
    return render_template(
        "access/person.html",
        person=user,
        memberships=people.memberships_managed_by(current.person(), user),
        form=ConfirmForm(),
        reason_form=ReasonForm(),
        problems=problems,
    )


def _act(user: User, action: Callable[[User], str], form_class: type = ConfirmForm) -> Response:
    user_id = user.id
    form = form_class()

    if form.validate_on_submit():
        try:
            message = action(user)
        except AccessError as error:
            problems = refuse(error)  # rolled back: the page shows the account as it is
            return make_response(_person_page(user, problems), error.status_code)
        flash(message, "success")
    return redirect(url_for("access.person", user_id=user_id))


@bp.post("/people/<int:user_id>/disable")
@managed_person
def disable_person(user_id: int, person: User) -> Response:
    def action(user: User) -> str:
        form = ReasonForm()
        ended = people.disable_user(
            db.session, user, actor=current.person(), reason=form.reason.data or None
        )
        return f"{user.full_name}'s account is disabled; {ended} signed-in sessions ended."

    return _act(person, action, ReasonForm)


@bp.post("/people/<int:user_id>/enable")
@managed_person
def enable_person(user_id: int, person: User) -> Response:
    def action(user: User) -> str:
        people.enable_user(db.session, user, actor=current.person())
        return f"{user.full_name}'s account is enabled."

    return _act(person, action)


@bp.post("/people/<int:user_id>/unlock")
@managed_person
def unlock_person(user_id: int, person: User) -> Response:
    def action(user: User) -> str:
        people.unlock_user(db.session, user, actor=current.person())
        return f"{user.full_name}'s account is unlocked."

    return _act(person, action)


@bp.post("/people/<int:user_id>/reset-two-factor")
@managed_person
def reset_person_mfa(user_id: int, person: User) -> Response:
    def action(user: User) -> str:
        people.reset_mfa(db.session, user, actor=current.person())
        return f"{user.full_name} will set up two-factor authentication again at next sign-in."

    return _act(person, action)


@bp.post("/people/<int:user_id>/resend-invitation")
@managed_person
def resend_invitation(user_id: int, person: User) -> Response:
    def action(user: User) -> str:
        people.resend_invitation(
            db.session, user, actor=current.person(), links=links(), settings=access_settings()
        )
        return f"We have emailed {user.email} a new link to set up their account."

    return _act(person, action)


@bp.post("/people/<int:user_id>/memberships/<int:membership_id>/revoke")
@managed_person
def revoke_membership(user_id: int, membership_id: int, person: User) -> Response:
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.user_id != user_id:
        abort(404)

    def action(user: User) -> str:
        assert membership is not None
        people.revoke_membership(db.session, membership, actor=current.person())
        return (
            f"{user.full_name} no longer has the role {membership.role} at "
            f"{membership.organisation.display_name}."
        )

    return _act(person, action)
