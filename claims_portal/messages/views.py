"""The message centre's pages: ``/messages`` (tasks) and ``/messages/updates`` (messages),
and the header's "Messages (N)" link (one ``COUNT`` per page, computed once per request)."""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from claims_portal.access import current
from claims_portal.access.services.permissions import current_organisation
from claims_portal.extensions import db
from claims_portal.messages import bp, services
from claims_portal.organisations.models import Organisation
from claims_portal.routes import signed_in


class MarkReadForm(FlaskForm):
    up_to = IntegerField(validators=[InputRequired(), NumberRange(min=0)])


def _organisation() -> Organisation | None:
    organisation = current_organisation()
    if organisation is None or not services.may_have_tasks(current.person(), organisation):
        return None
    return organisation


@bp.get("/messages")
@signed_in
def index() -> ResponseReturnValue:
    organisation = _organisation()
    tasks: list[services.Task] = []
    if organisation is not None:
        tasks, g.messages_navigation = services.tasks_and_count(
            db.session, current.person(), organisation
        )
    return render_template(
        "messages/tasks.html",
        organisation=organisation,
        tasks=tasks,
        limit=services.TASKS_SHOWN,
        tab="tasks",
    )


@bp.get("/messages/updates")
@signed_in
def updates() -> ResponseReturnValue:
    organisation = _organisation()
    page_number = request.args.get("page", "1")
    page = (
        services.messages(
            db.session,
            current.person(),
            organisation,
            page=int(page_number) if page_number.isdigit() and len(page_number) < 7 else 1,
        )
        if organisation
        else services.MessagePage([], 0, 0, 1, 1, 0)
    )
    form = MarkReadForm(formdata=None, up_to=page.newest_id)
    return render_template(
        "messages/updates.html",
        organisation=organisation,
        page=page,
        form=form,
        tab="updates",
    )


@bp.post("/messages/updates/mark-read")
@signed_in
def mark_read() -> ResponseReturnValue:
    form = MarkReadForm()
    if form.validate_on_submit() and form.up_to.data is not None:
        services.mark_read(db.session, current.person(), form.up_to.data)
    return redirect(url_for("messages.updates"))
