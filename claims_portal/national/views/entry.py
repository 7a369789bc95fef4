"""Manual entry of achievement data (Achievement Entry; ``national.services.manual_entry``).

A provider's Achievement entry people enter its own figures; a commissioner's enter them on
a provider's behalf (they choose the provider by ODS code first). Then: the services the
provider takes part in, the service's achievement dates (those with data, and "Add new
achievement" for the others), a task list of the service's indicator groups with their
status, a form per group (save as work in progress, or continue), check your answers, and
the confirmation. A provider the person may not enter for (another ICB's practice) is not
found (404), as are a service it does not take part in, a date that is not the service's
and a group of another service.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from claims_portal.access import current
from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import PermissionDenied, current_organisation
from claims_portal.extensions import db
from claims_portal.national import bp
from claims_portal.national.entry_forms import GroupEntryForm, ProviderChoiceForm
from claims_portal.national.models import IndicatorGroup, QualityService
from claims_portal.national.services import manual_entry
from claims_portal.national.services.manual_entry import Entrant, EntryConflict, EntryError
from claims_portal.organisations.models import Organisation
from claims_portal.routes import Target, requires, requires_on
from claims_portal.rules import Problem
from claims_portal.unit_of_work import refuse

ENTER = Capability.ENTER_ACHIEVEMENT


def _load_provider(user: User, provider_id: int) -> Organisation | None:
    """The provider if the person may enter its figures from the current organisation."""
    provider = db.session.get(Organisation, provider_id)
    acting_for = current_organisation()
    if provider is None or acting_for is None:
        return None
    try:
        manual_entry.entrant(user, acting_for, provider)
    except PermissionDenied:
        return None
    return provider


PROVIDER = Target("provider", "provider_id", "provider", _load_provider)


def _who(provider: Organisation) -> Entrant:
    return manual_entry.entrant(
        current.person(), cast(Organisation, current_organisation()), provider
    )


def _service(provider: Organisation, service_id: int) -> QualityService:
    service = db.session.get(QualityService, service_id)
    if service is None or service not in manual_entry.participating_services(db.session, provider):
        abort(404)
    return service


def _date(service: QualityService, date_text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(date_text)
    except ValueError:
        abort(404)
    if not manual_entry.valid_date(db.session, service, day):
        abort(404)
    return day


def _group(service: QualityService, group_id: int) -> IndicatorGroup:
    group = db.session.get(IndicatorGroup, group_id)
    if group is None or group.service_id != service.id:
        abort(404)
    return group


def _urls(provider: Organisation, service: QualityService, day: dt.date) -> dict[str, Any]:
    base: dict[str, Any] = {
        "provider_id": provider.id,
        "service_id": service.id,
        "date_text": day.isoformat(),
    }
    return {"tasks": url_for("national.entry_groups", **base), "base": base}


@bp.route("/entry")
@requires(ENTER)
def entry_start() -> ResponseReturnValue:
    organisation = cast(Organisation, current_organisation())
    if not organisation.kind.is_commissioner:
        # A provider enters its own figures: its services at once (the header's link).
        return render_template(
            "national/entry/services.html",
            who=_who(organisation),
            services=manual_entry.participating_services(db.session, organisation),
        )
    form = ProviderChoiceForm(request.args)
    problems: list[Problem] = []
    code = (form.ods_code.data or "").strip().upper()
    if code:
        provider = db.session.scalar(select(Organisation).where(Organisation.ods_code == code))
        if provider is not None and _load_provider(current.person(), provider.id) is not None:
            return redirect(url_for("national.entry_services", provider_id=provider.id))
        problems = [
            Problem(f"{organisation.name} commissions no practice with ODS code {code}", "ods_code")
        ]
    elif "ods_code" in request.args:
        problems = [Problem("Enter the practice's ODS code", "ods_code")]
    return render_template(
        "national/entry/start.html", form=form, organisation=organisation, problems=problems
    ), (400 if problems else 200)


@bp.route("/entry/providers/<int:provider_id>")
@requires_on(PROVIDER, ENTER)
def entry_services(provider_id: int, provider: Organisation) -> ResponseReturnValue:
    return render_template(
        "national/entry/services.html",
        who=_who(provider),
        services=manual_entry.participating_services(db.session, provider),
    )


@bp.route("/entry/providers/<int:provider_id>/services/<int:service_id>")
@requires_on(PROVIDER, ENTER)
def entry_dates(provider_id: int, service_id: int, provider: Organisation) -> ResponseReturnValue:
    service = _service(provider, service_id)
    dates = manual_entry.achievement_dates(db.session, service, provider)
    new = request.args.get("date")
    problems: list[Problem] = []
    if new is not None:
        if new in {d.date.isoformat() for d in dates if not d.has_data}:
            return redirect(
                url_for(
                    "national.entry_groups",
                    provider_id=provider.id, service_id=service.id, date_text=new,
                )
            )  # fmt: skip
        problems = [Problem("Select an achievement date", "date")]
    return render_template(
        "national/entry/dates.html",
        who=_who(provider),
        service=service,
        dates=dates,
        problems=problems,
    ), (400 if problems else 200)


@bp.route("/entry/providers/<int:provider_id>/services/<int:service_id>/dates/<date_text>")
@requires_on(PROVIDER, ENTER)
def entry_groups(
    provider_id: int, service_id: int, date_text: str, provider: Organisation
) -> ResponseReturnValue:
    service = _service(provider, service_id)
    day = _date(service, date_text)
    who = _who(provider)
    return render_template(
        "national/entry/groups.html",
        who=who,
        service=service,
        day=day,
        groups=manual_entry.group_progress(db.session, who, service, day),
        blockers=manual_entry.blockers(db.session, who, service, day),
        notes=manual_entry.submission_notes(db.session, service, provider, day),
        urls=_urls(provider, service, day),
    )


_GROUP = "/entry/providers/<int:provider_id>/services/<int:service_id>/dates/<date_text>/groups/<int:group_id>"  # noqa: E501 - one address


def _group_page(
    provider: Organisation,
    service_id: int,
    date_text: str,
    group_id: int,
) -> tuple[Entrant, manual_entry.GroupEntry]:
    service = _service(provider, service_id)
    day = _date(service, date_text)
    group = _group(service, group_id)
    who = _who(provider)
    return who, manual_entry.open_group(db.session, who, service, day, group)


def _render_group(
    page: manual_entry.GroupEntry,
    form: GroupEntryForm,
    *,
    typed: Any = None,
    problems: list[Problem] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    problems = problems or []
    return render_template(
        "national/entry/group.html",
        page=page,
        form=form,
        typed=typed,
        problems=problems,
        errors={p.field: p.message for p in reversed(problems) if p.field},
        urls=_urls(page.entrant.provider, page.service, page.date),
    ), status


def _refused(
    provider: Organisation,
    service_id: int,
    date_text: str,
    group_id: int,
    form: GroupEntryForm,
    error: EntryError,
) -> ResponseReturnValue:
    """The group again after a refused save: the figures typed and the problems; after
    someone else's save (a conflict), the figures as they now are, to check."""
    problems = refuse(error)
    _, page = _group_page(provider, service_id, date_text, group_id)
    typed = None if isinstance(error, EntryConflict) else request.form
    if typed is None:
        form.token.data = page.token
        form.notes.data = page.work_in_progress.notes if page.work_in_progress else None
    return _render_group(page, form, typed=typed, problems=problems, status=error.status_code)


@bp.route(_GROUP, methods=["GET", "POST"])
@requires_on(PROVIDER, ENTER)
def entry_group(
    provider_id: int, service_id: int, date_text: str, group_id: int, provider: Organisation
) -> ResponseReturnValue:
    who, page = _group_page(provider, service_id, date_text, group_id)
    form = GroupEntryForm()
    if request.method == "GET":
        if page.work_in_progress is not None:
            form.notes.data = page.work_in_progress.notes
        return _render_group(page, form)
    action = request.form.get("action")
    if not form.validate_on_submit() or action not in {"save", "check"}:
        # Back from checking the answers ("Change"), or a post without its token.
        return _render_group(page, form, typed=request.form)
    if action == "check":
        try:
            manual_entry.check_group(page, request.form, complete=True)
        except EntryError as error:
            return _render_group(page, form, typed=request.form, problems=refuse(error),
                                 status=400)  # fmt: skip
        return render_template(
            "national/entry/check.html", page=page, form=form, typed=request.form,
            urls=_urls(provider, page.service, page.date),
        )  # fmt: skip
    try:
        manual_entry.save_group(
            db.session, who, page.service, page.date, page.group, request.form,
            token=form.token.data or "", notes=form.notes.data, submit=False,
        )  # fmt: skip
    except EntryError as error:
        return _refused(provider, service_id, date_text, group_id, form, error)
    flash(f"{page.group.description} was saved as work in progress", "success")
    return redirect(_urls(provider, page.service, page.date)["tasks"])


@bp.post(_GROUP + "/submit")
@requires_on(PROVIDER, ENTER)
def entry_submit(
    provider_id: int, service_id: int, date_text: str, group_id: int, provider: Organisation
) -> ResponseReturnValue:
    who, page = _group_page(provider, service_id, date_text, group_id)
    form = GroupEntryForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        saved = manual_entry.save_group(
            db.session, who, page.service, page.date, page.group, request.form,
            token=form.token.data or "", notes=form.notes.data, submit=True,
        )  # fmt: skip
    except EntryError as error:
        return _refused(provider, service_id, date_text, group_id, form, error)
    _, page = _group_page(provider, service_id, date_text, group_id)
    return render_template(
        "national/entry/submitted.html", page=page, saved=saved,
        urls=_urls(provider, page.service, page.date),
    )  # fmt: skip
