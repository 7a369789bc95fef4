"""The claim list (``/claims``) with filters, sorting and paging, and its CSV and XLSX exports
(a list longer than ``EXPORT_IN_REQUEST`` rows is written by a job: ``services.export_job``);
whether the header shows "Claims".

A practice sees its own claims; a commissioner sees the claims sent to it by the providers
under its organisation. Approvers (a practice's provider approver, tier 1, tier 2, finance)
get checkboxes for bulk approval at their step (``views.bulk``). Filters are GET
parameters, so a filtered list can be bookmarked and shared. A page costs a fixed number of
queries whatever its length (``tests/claims/test_lists.py``).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import IO, Any, cast
from urllib.parse import urlencode

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from claims_portal.access import current
from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import current_organisation, has_capability, icb_of
from claims_portal.claims import bp, services
from claims_portal.claims.evidence import attachment_disposition
from claims_portal.claims.models import ClaimStatus
from claims_portal.claims.services import export_job, listing
from claims_portal.claims.services.bulk import MAX_BULK, steps_for
from claims_portal.claims.services.listing import ClaimFilter, ListNotAllowed, ListScope
from claims_portal.claims.views.list_rows import render_options, render_rows
from claims_portal.clock import now, today
from claims_portal.extensions import db
from claims_portal.messages import services as message_services
from claims_portal.organisations.models import Organisation
from claims_portal.routes import requires
from claims_portal.service_settings import claims_settings

#: Tasks shown above the list (the message centre has them all).
WAITING_SHOWN = 10

#: The filters' scheme and practice options, per list scope, with when they were read: the
#: same for everyone in an organisation and slow to change, so each process reads them at
#: most once every ``FILTER_OPTIONS_SECONDS`` (by the app's clock).
_options_kept: dict[ListScope, tuple[dt.datetime, listing.FilterOptions]] = {}
_options_lock = threading.Lock()
_OPTIONS_SCOPES = 1_000


def filter_options(scope: ListScope) -> listing.FilterOptions:
    seconds = current_app.config.get("FILTER_OPTIONS_SECONDS", 0)
    moment = now()
    with _options_lock:
        kept = _options_kept.get(scope)
    if kept is not None and dt.timedelta(0) <= moment - kept[0] < dt.timedelta(seconds=seconds):
        return kept[1]
    options = listing.filter_options(db.session, scope)
    if seconds:
        with _options_lock:
            if len(_options_kept) >= _OPTIONS_SCOPES:
                _options_kept.clear()
            _options_kept[scope] = (moment, options)
    return options


def list_scope() -> tuple[User, Organisation, ListScope]:
    user = current.person()
    organisation = current_organisation()
    try:
        return user, cast(Organisation, organisation), listing.scope_for(user, organisation)
    except ListNotAllowed:
        abort(403)


def _url(chosen: ClaimFilter, **changes: Any) -> str:
    args = chosen.query_args(**changes)
    return request.path + ("?" + urlencode(args) if args else "")


def pagination_items(page: listing.ClaimPage) -> list[dict[str, Any] | None]:
    """Page links for the NHS pagination component: first, last and two either side of the
    current page, with ellipses between."""
    wanted = {1, page.pages, *range(page.page - 2, page.page + 3)}
    items: list[dict[str, Any] | None] = []
    previous = 0
    for number in sorted(n for n in wanted if 1 <= n <= page.pages):
        if number - previous > 1:
            items.append({"ellipsis": True})
        items.append(
            {
                "number": number,
                "href": _url(page.filter, page=number),
                "current": number == page.page,
            }
        )
        previous = number
    return items


def sort_links(chosen: ClaimFilter) -> dict[str, dict[str, str]]:
    """For each sortable column: the link (same filter, first page) and its aria-sort."""
    links = {}
    for key in listing.SORTS:
        current = chosen.sort == key
        descending = not chosen.descending if current else key in ("submitted", "value")
        links[key] = {
            "href": _url(chosen, sort=key, descending=descending, page=1),
            "aria": ("descending" if chosen.descending else "ascending") if current else "none",
        }
    return links


@bp.get("/claims")
@requires(Capability.VIEW_PROVIDER_CLAIMS, Capability.VIEW_COMMISSIONER_CLAIMS)
def index() -> ResponseReturnValue:
    user, organisation, scope = list_scope()
    options = filter_options(scope)
    # What could not be read, or is not offered, is left out and listed in the error summary.
    chosen = listing.offered_only(listing.parse_filter(request.args), options)
    page = listing.list_page(db.session, scope, chosen)
    # The first few only: the header counts them all, the message centre lists them all.
    tasks = message_services.tasks(db.session, user, organisation, limit=WAITING_SHOWN + 1)
    icb = icb_of(organisation)
    steps = steps_for(user, organisation)  # provider approvers' too
    actionable = {s.from_status for s in steps}
    claims_base = url_for("claims.index")
    return render_template(
        "claims/list.html",
        side=scope.side,
        organisation=organisation,
        page=page,
        chosen=chosen,
        options=options,
        scheme_options=render_options(options.schemes, chosen.scheme_id),
        practice_options=render_options(options.providers, chosen.provider_id),
        status_options=render_options(
            [(status.name, status.value) for status in ClaimStatus],
            chosen.status.name if chosen.status else None,
        ),
        sort_links=sort_links(chosen),
        pagination=pagination_items(page),
        previous_url=_url(page.filter, page=page.page - 1) if page.page > 1 else None,
        next_url=_url(page.filter, page=page.page + 1) if page.page < page.pages else None,
        export_query=urlencode(chosen.query_args(page=1)),
        waiting=tasks[:WAITING_SHOWN],
        more_waiting=len(tasks) > WAITING_SHOWN,
        steps=steps,
        rows_html=render_rows(
            page.rows,
            claims_base=claims_base,
            commissioner=scope.is_commissioner,
            bulk=bool(steps),
            actionable=actionable,
        ),
        max_bulk=MAX_BULK,
        can_start=has_capability(user, Capability.CREATE_CLAIM, organisation),
        can_bulk_claim=scope.is_commissioner
        and has_capability(user, Capability.APPROVE_CLAIM_TIER_1, organisation),
        threshold=(
            services.finance_threshold(db.session, icb, settings=claims_settings())
            if icb is not None
            else None
        ),
        can_set_threshold=icb is not None
        and has_capability(user, Capability.CONFIGURE_SCHEMES, icb),
    )


def _export_rows(scope: ListScope, chosen: ClaimFilter) -> Iterator[listing.ClaimRow]:
    return listing.iter_rows(db.session, scope, chosen)


def _file_response(spooled: IO[bytes], mimetype: str) -> Response:
    """Stream a finished export file in 64 KB blocks, closing it when the response ends."""

    def blocks() -> Iterator[bytes]:
        while block := spooled.read(64 * 1024):
            yield block

    response = Response(blocks(), mimetype=mimetype)
    response.call_on_close(spooled.close)
    return response


@bp.route("/claims/export-csv", methods=["GET", "POST"])
@requires(Capability.VIEW_PROVIDER_CLAIMS, Capability.VIEW_COMMISSIONER_CLAIMS)
def export_csv() -> ResponseReturnValue:
    user, organisation, scope = list_scope()
    chosen = listing.parse_filter(request.args)
    as_job = _export_as_job(user, organisation, scope, chosen, "csv")
    if as_job is not None:
        return as_job
    response = _file_response(listing.csv_file(_export_rows(scope, chosen)), "text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    return _as_attachment(response, listing.export_filename("csv", today()))


@bp.route("/claims/export-xlsx", methods=["GET", "POST"])
@requires(Capability.VIEW_PROVIDER_CLAIMS, Capability.VIEW_COMMISSIONER_CLAIMS)
def export_xlsx() -> ResponseReturnValue:
    user, organisation, scope = list_scope()
    chosen = listing.parse_filter(request.args)
    as_job = _export_as_job(user, organisation, scope, chosen, "xlsx")
    if as_job is not None:
        return as_job
    response = _file_response(
        listing.xlsx_file(_export_rows(scope, chosen)),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    return _as_attachment(response, listing.export_filename("xlsx", today()))


def _export_as_job(
    user: User, organisation: Organisation, scope: ListScope, chosen: ClaimFilter, fmt: str
) -> ResponseReturnValue | None:
    """A list longer than ``EXPORT_IN_REQUEST`` rows is written by a job: the link (a GET)
    shows a page saying so, whose button (a POST, so following a link starts nothing)
    starts the job and goes to its page. ``None``: export it now. A POST for a short list
    exports it now too."""
    in_request = current_app.config["EXPORT_IN_REQUEST"]
    if not export_job.runs_as_job(db.session, scope, chosen, in_request=in_request):
        return None
    if request.method == "POST":
        job = export_job.start_export(
            db.session, user, organisation, chosen, fmt, at_least=in_request + 1
        )
        return redirect(url_for("jobs.job_page", job_id=job.id))  # a worker takes it on
    query = urlencode(chosen.query_args(page=1))
    return render_template(
        "claims/export_job.html",
        file_format=fmt.upper(),
        in_request=in_request,
        keep_days=current_app.config["EXPORT_KEEP_DAYS"],
        action=request.path + ("?" + query if query else ""),
        back=url_for("claims.index") + ("?" + query if query else ""),
    )


def _as_attachment(response: Response, filename: str) -> Response:
    response.headers["Content-Disposition"] = attachment_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
