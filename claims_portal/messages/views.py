"""The message centre's pages: ``/messages`` (pending actions: everything waiting for the
person) and ``/messages/updates`` (messages: offer news and claim outcomes, read or not)."""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange, Optional

from claims_portal.access import current
from claims_portal.access.services.permissions import current_organisation
from claims_portal.extensions import db
from claims_portal.inputs import MAX_INT
from claims_portal.mail.services import notices
from claims_portal.messages import bp, services
from claims_portal.messages.services import waiting as waiting_services
from claims_portal.organisations.models import Organisation
from claims_portal.routes import signed_in


class MarkReadForm(FlaskForm):
    up_to = IntegerField(validators=[InputRequired(), NumberRange(min=0, max=MAX_INT)])
    notices_up_to = IntegerField(validators=[Optional(), NumberRange(min=0, max=MAX_INT)])


def _organisation() -> Organisation | None:
    organisation = current_organisation()
    if organisation is None or not services.may_have_tasks(current.person(), organisation):
        return None
    return organisation


@bp.get("/messages")
@signed_in
def index() -> ResponseReturnValue:
    """Pending actions: everything waiting for the person (``services.waiting``)."""
    organisation = current_organisation()
    user = current.person()
    waiting = waiting_services.waiting_for(db.session, user, organisation)
    if waiting_services.may_have_any(user, organisation, g.get("memberships", [])):
        g.pending_actions_count = waiting.total  # the header's count, already known
    return render_template(
        "messages/tasks.html",
        organisation=organisation,
        waiting=waiting,
        tasks=waiting.claims,
        limit=services.TASKS_SHOWN,
        tab="tasks",
    )


@bp.get("/messages/updates")
@signed_in
def updates() -> ResponseReturnValue:
    organisation = _organisation()
    user = current.person()
    page_number = request.args.get("page", "1")
    page = (
        services.messages(
            db.session,
            user,
            organisation,
            page=int(page_number) if page_number.isdigit() and len(page_number) < 7 else 1,
        )
        if organisation
        else services.MessagePage([], 0, 0, 1, 1, 0)
    )
    news = notices.notices_for(db.session, user)
    form = MarkReadForm(
        formdata=None, up_to=page.newest_id, notices_up_to=news[0].id if news else 0
    )
    return render_template(
        "messages/updates.html",
        organisation=organisation,
        page=page,
        notices=news,
        form=form,
        tab="updates",
    )


@bp.post("/messages/updates/mark-read")
@signed_in
def mark_read() -> ResponseReturnValue:
    form = MarkReadForm()
    if form.validate_on_submit() and form.up_to.data is not None:
        services.mark_read(db.session, current.person(), form.up_to.data)
        if form.notices_up_to.data:
            notices.mark_read(db.session, current.person(), form.notices_up_to.data)
    return redirect(url_for("messages.updates"))
