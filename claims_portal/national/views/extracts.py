"""Achievement extract loads (``national.services.extracts``): the upload, the list of
loads, a load's page (status, counts, problems by row and column, paged) and the choice to
load only its valid rows (with a confirmation step) or not to load it.

Only a national commissioner's people with ``LOAD_ACHIEVEMENT_EXTRACTS`` reach them (an
ICB's administrator holds the capability but is refused: 403).
"""

from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from claims_portal.access import current
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import current_organisation
from claims_portal.claims.evidence.storage import store_from_config
from claims_portal.clock import now
from claims_portal.extensions import db
from claims_portal.inputs import parse_id
from claims_portal.national import bp
from claims_portal.national.models import AchievementLoad, LoadStatus
from claims_portal.national.services import extracts
from claims_portal.routes import requires
from claims_portal.rules import Problem, RuleError
from claims_portal.unit_of_work import refuse

_CAPABILITY = Capability.LOAD_ACHIEVEMENT_EXTRACTS


def _allowed() -> None:
    if not extracts.may_load(current.person(), current_organisation()):
        abort(403)


def _upload_page(problems: list[Problem], status: int = 200) -> ResponseReturnValue:
    return render_template(
        "national/extracts/upload.html",
        problems=problems,
        services=extracts.upload_options(db.session),
        dates=extracts.achievement_dates(db.session),
        file_field=extracts.FILE_FIELD,
        max_size=extracts.size_text(extracts.file_limit(current_app.config)),
        chosen=request.form,
    ), status


def _choices() -> extracts.Choices:
    service_id = parse_id(request.form.get("service", ""))
    text = (request.form.get("achievement_date") or "").strip()
    try:
        day = dt.date.fromisoformat(text) if text else None
    except ValueError as error:
        raise RuleError(Problem("Choose an achievement date", "achievement_date")) from error
    return extracts.Choices(service_id, day)


@bp.get("/extracts")
@requires(_CAPABILITY)
def extract_loads() -> ResponseReturnValue:
    _allowed()
    organisation = current_organisation()
    assert organisation is not None
    return render_template(
        "national/extracts/list.html", loads=extracts.loads_of(db.session, organisation)
    )


@bp.route("/extracts/upload", methods=["GET", "POST"])
@requires(_CAPABILITY)
def upload_extract() -> ResponseReturnValue:
    _allowed()
    if request.method == "GET":
        return _upload_page([])
    limit = extracts.file_limit(current_app.config)
    upload = request.files.get(extracts.FILE_FIELD)
    if upload is None or not upload.filename:
        return _upload_page(
            refuse(RuleError(Problem("Select the extract file", extracts.FILE_FIELD))), 400
        )
    store = store_from_config(current_app.config)
    try:
        load = extracts.start_load(
            db.session, store, current.person(), current_organisation(),
            stream=upload.stream, filename=upload.filename, choices=_choices(), now=now(),
            limit=limit,
        )  # fmt: skip
    except RuleError as error:
        return _upload_page(refuse(error), error.status_code)
    finally:
        store.close()
    return redirect(url_for("jobs.job_page", job_id=load.job_id), 303)


def _load_or_404(load_id: int) -> AchievementLoad:
    load = extracts.load_of(db.session, current.person(), current_organisation(), load_id)
    if load is None:
        abort(404)
    return load


@bp.get("/extracts/<int:load_id>")
@requires(_CAPABILITY)
def extract_load(load_id: int) -> ResponseReturnValue:
    _allowed()
    load = _load_or_404(load_id)
    page = parse_id(request.args.get("page", "1")) or 1
    problems, pages = extracts.problems_page(db.session, load, page)
    return render_template(
        "national/extracts/load.html",
        load=load,
        problems=problems,
        page=min(page, pages),
        pages=pages,
        waiting=load.status is LoadStatus.HAS_PROBLEMS,
        errors=[],
    )


@bp.route("/extracts/<int:load_id>/load-valid-rows", methods=["GET", "POST"])
@requires(_CAPABILITY)
def load_valid_rows(load_id: int) -> ResponseReturnValue:
    """A confirmation page (what will be left out), then the job loading the valid rows."""
    _allowed()
    load = _load_or_404(load_id)
    if request.method == "GET" or request.form.get("confirmed") != "1":
        return render_template("national/extracts/confirm.html", load=load, errors=[])
    try:
        job = extracts.load_valid_rows(
            db.session, current.person(), current_organisation(), load_id
        )
    except RuleError as error:
        return render_template(
            "national/extracts/confirm.html", load=load, errors=refuse(error)
        ), error.status_code
    return redirect(url_for("jobs.job_page", job_id=job.id), 303)


@bp.post("/extracts/<int:load_id>/decline")
@requires(_CAPABILITY)
def decline_load(load_id: int) -> ResponseReturnValue:
    _allowed()
    _load_or_404(load_id)
    try:
        extracts.decline(db.session, current.person(), current_organisation(), load_id)
    except RuleError as error:
        flash(refuse(error)[0].message, "error")
    else:
        flash("The file was not loaded", "success")
    return redirect(url_for("national.extract_load", load_id=load_id), 303)
