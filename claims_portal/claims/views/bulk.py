"""Bulk work on claims: approving many claims from the list, and bulk claims from a
spreadsheet (tier 1 commissioners).

Bulk approval posts the ticked claims (``<id>:<version>`` each, the version the list
showed) or "all claims on this filter" (the list's query string, resolved here to the claims
at the chosen step, with the versions they have now). A confirmation shows how many claims
and their total value first, and posts exactly those claims and versions again
(``confirmed``). The result page lists what was approved and, for each claim that was not,
why. More than ``BULK_APPROVAL_IN_REQUEST`` claims are approved by a job on a worker
(``services.bulk_job``) and the person is taken to its page (``/jobs/<id>``). So is a bulk
claims spreadsheet of more than ``BULK_CLAIMS_IN_REQUEST`` rows, once checked whole here
(``services.bulk_claims_job``).
"""

from __future__ import annotations

import io
from typing import cast
from urllib.parse import parse_qsl

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from claims_portal.access import current
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import current_organisation
from claims_portal.claims import bp
from claims_portal.claims.evidence import attachment_disposition
from claims_portal.claims.models import ClaimAction
from claims_portal.claims.services import (
    ClaimInvalid,
    Problem,
    bulk_claims_job,
    bulk_job,
    bulk_reading,
    bulk_upload,
    listing,
)
from claims_portal.claims.services import bulk as bulk_services
from claims_portal.claims.views._common import base_url
from claims_portal.claims.views.listing import list_scope
from claims_portal.clock import today
from claims_portal.extensions import db
from claims_portal.inputs import parse_id
from claims_portal.organisations.models import Organisation
from claims_portal.routes import requires
from claims_portal.service_settings import claims_settings
from claims_portal.unit_of_work import refuse


def _targets() -> list[tuple[int, int]]:
    targets = []
    for value in request.form.getlist("claim"):
        claim_id, _, version = (parse_id(part) for part in value.partition(":"))
        if claim_id is not None and version is not None:
            targets.append((claim_id, version))
    return targets


@bp.post("/claims/bulk-approval")
@requires(Capability.VIEW_PROVIDER_CLAIMS, Capability.VIEW_COMMISSIONER_CLAIMS)
def bulk_approve() -> ResponseReturnValue:
    user, organisation, scope = list_scope()
    # The steps the person's capabilities allow here: a practice's provider approver gives
    # provider approval, commissioners theirs (separation of duties is the lifecycle's).
    steps = {s.action.name: s for s in bulk_services.steps_for(user, organisation)}
    step = steps.get(request.form.get("action", ""))
    if step is None:
        abort(403 if not steps else 400)
    chosen = listing.parse_filter(MultiDict(parse_qsl(request.form.get("filter", ""))))
    if request.form.get("all-on-filter") == "1":
        targets = listing.ids_on_filter(
            db.session,
            scope,
            chosen,
            statuses=[step.from_status],
            limit=bulk_services.MAX_BULK,
        )
    else:
        targets = _targets()[: bulk_services.MAX_BULK]
    selection = None
    if request.form.get("confirmed") != "1":  # ask first: how many claims, and their value
        selection = bulk_services.selection(db.session, user, step.action, targets)
    if not targets or (selection is not None and not selection.items):
        return render_template(
            "claims/bulk_result.html",
            result=None,
            step=step,
            back=_back(chosen),
            problems=[Problem("Select at least one claim to approve")],
        ), 400
    if selection is not None:
        return render_template(
            "claims/bulk_confirm.html",
            selection=selection,
            step=step,
            filter=request.form.get("filter", ""),
            back=_back(chosen),
        )
    if bulk_job.runs_as_job(targets, current_app.config["BULK_APPROVAL_IN_REQUEST"]):
        job = bulk_job.start_bulk_approval(db.session, user, organisation, step.action, targets)
        return redirect(url_for("jobs.job_page", job_id=job.id))  # a worker takes it on
    result = bulk_services.bulk_approve(
        db.session, user, step.action, targets, base_url=base_url(), settings=claims_settings()
    )
    return render_template(
        "claims/bulk_result.html", result=result, step=step, back=_back(chosen), problems=[]
    )


def _back(chosen: listing.ClaimFilter) -> str:
    from urllib.parse import urlencode

    args = chosen.query_args()
    return "/claims" + ("?" + urlencode(args) if args else "")


# --- Bulk claims from a spreadsheet --------------------------------------------------------


def _bulk_page(problems: list[Problem] | None = None, status: int = 200) -> ResponseReturnValue:
    organisation = cast(Organisation, current_organisation())
    options = bulk_upload.bulk_options(db.session, current.person(), organisation, today())
    return render_template(
        "claims/bulk_claims.html",
        options=options,
        problems=problems or [],
        file_field=bulk_upload.FILE_FIELD,
        created=None,
    ), status


@bp.get("/claims/bulk-claims")
@requires(Capability.APPROVE_CLAIM_TIER_1)
def bulk_claims() -> ResponseReturnValue:
    return _bulk_page()


@bp.get("/claims/bulk-claims/<int:window_id>/template")
@requires(Capability.APPROVE_CLAIM_TIER_1)
def bulk_template(window_id: int) -> ResponseReturnValue:
    organisation = cast(Organisation, current_organisation())
    option = bulk_upload.find_option(db.session, current.person(), organisation, today(), window_id)
    if option is None:
        abort(404)
    data = bulk_upload.template_workbook(db.session, current.person(), option)
    response = Response(
        io.BytesIO(data),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response.headers["Content-Disposition"] = attachment_disposition(
        bulk_upload.template_filename(option)
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/claims/bulk-claims")
@requires(Capability.APPROVE_CLAIM_TIER_1)
def bulk_claims_upload() -> ResponseReturnValue:
    organisation = cast(Organisation, current_organisation())
    upload = request.files.get(bulk_upload.FILE_FIELD)
    if upload is None or not upload.filename:
        return _bulk_page(
            [Problem("Select the filled-in template to upload", bulk_upload.FILE_FIELD)], 400
        )
    try:
        parsed = bulk_reading.read_upload(
            db.session,
            current.person(),
            organisation,
            upload.stream,
            upload.filename,
            today=today(),
        )
        if bulk_claims_job.runs_as_job(parsed, current_app.config["BULK_CLAIMS_IN_REQUEST"]):
            job = bulk_claims_job.start_bulk_claims(
                db.session, current.person(), organisation, parsed
            )
            return redirect(url_for("jobs.job_page", job_id=job.id))  # a worker takes it on
        created = bulk_upload.create_bulk_claims(
            db.session, current.person(), parsed, base_url=base_url()
        )
    except ClaimInvalid as error:
        return _bulk_page(refuse(error), 400)
    return render_template(
        "claims/bulk_claims_done.html",
        upload=created,
        claims=[item.claim for item in created.claims],
    )


__all__ = ["ClaimAction", "bulk_approve", "bulk_claims", "bulk_claims_upload", "bulk_template"]
