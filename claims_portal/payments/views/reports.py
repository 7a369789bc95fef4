"""The payments report (the ICB's payment files and their rows), the accruals report and
national totals: on screen, and as CSV or XLSX with ``?format=csv`` or ``?format=xlsx``.

The reports are read-only and bounded: a page of files or rows at a time on screen; a
download is the filtered list, one file's rows (a few thousand at most) or an aggregate,
written to a temporary file in chunks and streamed (``services.report_downloads``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any, cast
from urllib.parse import urlencode

from flask import Response, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue

from claims_portal.access import current
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import current_organisation, has_capability
from claims_portal.claims.evidence import attachment_disposition
from claims_portal.clock import today
from claims_portal.extensions import db
from claims_portal.organisations.models import Organisation, OrganisationKind
from claims_portal.payments import bp
from claims_portal.payments.models import PaymentFileStatus
from claims_portal.payments.services import can_set_payment_settings, reports
from claims_portal.payments.services import report_downloads as downloads
from claims_portal.routes import requires
from claims_portal.rules import Problem

FORMATS = ("csv", "xlsx")


def _scope() -> tuple[Organisation, reports.ReportScope]:
    organisation = cast(Organisation, current_organisation())
    scope = reports.report_scope(organisation)
    if scope is None:
        abort(404)  # staff of no ICB: no ICB's payments here
    return organisation, scope


def _format() -> str | None:
    chosen = request.args.get("format", "")
    if chosen and chosen not in FORMATS:
        abort(404)
    return chosen or None


def _send(file_format: str, title: str, header: Any, lines: Iterable[Any], name: str) -> Response:
    spooled: IO[bytes] = downloads.download(file_format, title, header, lines)

    def blocks() -> Iterator[bytes]:
        while block := spooled.read(64 * 1024):
            yield block

    response = Response(blocks(), mimetype=downloads.content_type(file_format).split(";")[0])
    response.headers["Content-Type"] = downloads.content_type(file_format)
    response.call_on_close(spooled.close)
    response.headers["Content-Disposition"] = attachment_disposition(f"{name}.{file_format}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _with(args: dict[str, str], **more: str) -> str:
    merged = {**args, **more}
    return request.path + ("?" + urlencode(merged) if merged else "")


def pagination(page: reports.Page, args: dict[str, str]) -> dict[str, Any]:
    """The NHS pagination component's parameters: first, last and two either side."""
    wanted = {1, page.pages, *range(page.page - 2, page.page + 3)}
    items: list[dict[str, Any]] = []
    previous = 0
    for number in sorted(n for n in wanted if 1 <= n <= page.pages):
        if number - previous > 1:
            items.append({"ellipsis": True})
        items.append(
            {
                "number": number,
                "href": _with(args, page=str(number)),
                "current": number == page.page,
            }
        )
        previous = number
    return {
        "previous": {"href": _with(args, page=str(page.page - 1))} if page.page > 1 else {},
        "next": {"href": _with(args, page=str(page.page + 1))} if page.page < page.pages else {},
        "items": items,
    }


def _may_manage(scope: reports.ReportScope, organisation: Organisation, endpoint: str) -> bool:
    """Whether to offer finance's page ``endpoint`` (the ICB's finance, once it exists)."""
    return (
        scope.whole_icb
        and endpoint in current_app.view_functions
        and has_capability(current.person(), Capability.MANAGE_PAYMENTS, organisation)
    )


@bp.get("/payments/files")
@requires(Capability.VIEW_PAYMENT_REPORTS)
def files() -> ResponseReturnValue:
    organisation, scope = _scope()
    chosen = reports.parse_file_filter(request.args)
    file_format = _format()
    if file_format:
        lines = map(downloads.file_values, reports.iter_files(db.session, scope, chosen))
        name = f"payment-files-{today().isoformat()}"
        return _send(file_format, "Payment files", downloads.FILES_HEADER, lines, name)
    page = reports.files_page(db.session, scope, chosen)
    args = chosen.query_args(page=1)
    can_start_run = _may_manage(scope, organisation, "payments.start_run")
    return render_template(
        "payments/reports/files.html",
        scope=scope,
        page=page,
        chosen=chosen,
        statuses=list(PaymentFileStatus),
        pagination=pagination(page, args),
        export_query=urlencode(args),
        can_start_run=can_start_run,
        can_set_settings=scope.whole_icb
        and can_set_payment_settings(current.person(), organisation),
    )


@bp.get("/payments/files/<int:file_id>")
@requires(Capability.VIEW_PAYMENT_REPORTS)
def payment_file(file_id: int) -> ResponseReturnValue:
    organisation, scope = _scope()
    found = reports.find_file(db.session, scope, file_id)
    if found is None:
        abort(404)  # another ICB's file (or, for a sub-location, none of its rows)
    file_format = _format()
    if file_format:
        lines = map(downloads.payment_values, reports.iter_file_rows(db.session, scope, file_id))
        name = found.name.removesuffix(".csv") + "-rows"
        return _send(file_format, "Payments", downloads.ROWS_HEADER, lines, name)
    page = reports.file_rows_page(db.session, scope, file_id, reports.read_page(request.args))
    return render_template(
        "payments/reports/file.html",
        scope=scope,
        file=found,
        page=page,
        pagination=pagination(page, {}),
        responses=reports.file_responses(db.session, scope, file_id),
        can_withdraw=found.status is PaymentFileStatus.FAILED
        and _may_manage(scope, organisation, "payments.withdraw_file"),
    )


@bp.get("/payments/accruals")
@requires(Capability.VIEW_PAYMENT_REPORTS)
def accruals() -> ResponseReturnValue:
    _, scope = _scope()
    as_at, problem = reports.parse_as_at(request.args.get("as-at", ""), today())
    report = reports.accruals(db.session, scope, as_at)
    file_format = _format()
    if file_format:
        name = f"accruals-{as_at.isoformat()}"
        lines = downloads.accruals_lines(report)
        return _send(file_format, "Accruals", downloads.ACCRUALS_HEADER, lines, name)
    problems = [Problem(problem, "as-at")] if problem else []
    return render_template(
        "payments/reports/accruals.html",
        scope=scope,
        report=report,
        problems=problems,
        export_query=urlencode({"as-at": as_at.isoformat()}),
    )


@bp.get("/payments/national")
@requires(Capability.VIEW_NATIONAL_ACHIEVEMENT)
def national() -> ResponseReturnValue:
    organisation = cast(Organisation, current_organisation())
    if organisation.kind is not OrganisationKind.NATIONAL_COMMISSIONER:
        abort(403)  # national roles held in an ICB or a practice see no other ICB's figures
    years = reports.financial_years(today())
    chosen = request.args.get("year", "") or years[0]
    problems: list[Problem] = []
    if reports.financial_year_range(chosen) is None:
        problems.append(Problem("Choose a financial year from the list", "year"))
        chosen = years[0]
    report = reports.national_totals(db.session, chosen)
    file_format = _format()
    if file_format:
        name = f"national-payments-{chosen.replace('/', '-')}"
        lines = downloads.national_lines(report)
        return _send(file_format, "National totals", downloads.NATIONAL_HEADER, lines, name)
    return render_template(
        "payments/reports/national.html",
        organisation=organisation,
        report=report,
        years=sorted({*years, chosen}, reverse=True),
        problems=problems,
        export_query=urlencode({"year": chosen}),
    )
