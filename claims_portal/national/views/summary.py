"""The Achievement Summary pages: the services and dates with calculated achievement, a
commissioner's providers with their totals, one provider's summary (on screen, CSV, XLSX,
PDF) and its missing data.

Who: ``VIEW_NATIONAL_ACHIEVEMENT`` (the national roles) in the current organisation, for the
organisation itself or, for a commissioner, a provider below it (its parent chain; the
national commissioner sees every provider). Another organisation's provider is a 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import current_organisation
from claims_portal.claims.evidence.serving import attachment_disposition
from claims_portal.extensions import db
from claims_portal.national import bp
from claims_portal.national.models import QualityService
from claims_portal.national.services import summary as summaries
from claims_portal.national.services.summary_files import summary_csv, summary_pdf, summary_xlsx
from claims_portal.organisations.models import Organisation
from claims_portal.routes import Target, requires, requires_on

VIEW = Capability.VIEW_NATIONAL_ACHIEVEMENT
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KINDS = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX, "pdf": "application/pdf"}
HELPERS = {"points": summaries.points_text, "percent": summaries.percent_text}


def _visible_provider(user: User, provider_id: int) -> Organisation | None:
    viewer = current_organisation()
    provider = db.session.get(Organisation, provider_id)
    if viewer is None or provider is None or not summaries.can_see(viewer, provider):
        return None
    return provider


PROVIDER = Target("provider", "provider_id", "provider", _visible_provider)
PROVIDER_RULE = "the provider itself, or a commissioner above it"


def _service_and_day(service_id: int, day: str) -> tuple[QualityService, dt.date]:
    service = db.session.get(QualityService, service_id)
    try:
        achievement_date = dt.date.fromisoformat(day)
    except ValueError:
        abort(404)
    if service is None:
        abort(404)
    return service, achievement_date


def _viewer() -> Organisation:
    viewer = current_organisation()
    assert viewer is not None  # requires() has checked
    return viewer


def _back(service: QualityService, day: dt.date, provider: Organisation) -> str:
    if _viewer().id == provider.id:
        return url_for("national.achievement_index")
    return url_for("national.achievement_providers", service_id=service.id, day=day.isoformat())


@bp.route("/achievement")
@requires(VIEW)
def achievement_index() -> ResponseReturnValue:
    viewer = _viewer()
    return render_template(
        "national/summary/index.html",
        organisation=viewer,
        dates=summaries.calculated_dates(db.session, viewer),
    )


@bp.route("/achievement/<int:service_id>/<day>")
@requires(VIEW)
def achievement_providers(service_id: int, day: str) -> ResponseReturnValue:
    service, achievement_date = _service_and_day(service_id, day)
    viewer = _viewer()
    if not viewer.kind.is_commissioner:
        return redirect(
            url_for(
                "national.achievement_summary",
                service_id=service.id,
                day=achievement_date.isoformat(),
                provider_id=viewer.id,
            )
        )
    page = request.args.get("page", "1")
    totals = summaries.provider_totals(
        db.session, viewer, service, achievement_date, page=int(page) if page.isdigit() else 1
    )
    return render_template(
        "national/summary/providers.html",
        organisation=viewer,
        service=service,
        day=achievement_date,
        totals=totals,
        **HELPERS,
    )


def _summary(service_id: int, day: str, provider: Organisation) -> summaries.AchievementSummary:
    service, achievement_date = _service_and_day(service_id, day)
    summary = summaries.summary_for(db.session, service, provider, achievement_date)
    if summary is None:
        abort(404)  # nothing calculated for this provider, service and date
    return summary


@bp.route("/achievement/<int:service_id>/<day>/<int:provider_id>")
@requires_on(PROVIDER, VIEW, note=PROVIDER_RULE)
def achievement_summary(
    service_id: int, day: str, provider_id: int, provider: Organisation
) -> ResponseReturnValue:
    summary = _summary(service_id, day, provider)
    return render_template(
        "national/summary/summary.html",
        summary=summary,
        back=_back(summary.service, summary.achievement_date, provider),
        **HELPERS,
    )


@bp.route("/achievement/<int:service_id>/<day>/<int:provider_id>.<kind>")
@requires_on(PROVIDER, VIEW, note=PROVIDER_RULE)
def achievement_download(
    service_id: int, day: str, provider_id: int, kind: str, provider: Organisation
) -> ResponseReturnValue:
    """``/national/achievement/7/2026-03-31/42.pdf`` (or ``.csv``, ``.xlsx``)."""
    if kind not in KINDS:
        abort(404)
    summary = _summary(service_id, day, provider)
    draw: dict[str, Any] = {"csv": summary_csv, "xlsx": summary_xlsx, "pdf": summary_pdf}
    return Response(
        draw[kind](summary),
        mimetype=KINDS[kind].split(";")[0],
        content_type=KINDS[kind],
        headers={
            "Content-Disposition": attachment_disposition(summary.filename(kind)),
            "Cache-Control": "private, no-store",
        },
    )


@bp.route("/achievement/<int:service_id>/<day>/<int:provider_id>/missing")
@requires_on(PROVIDER, VIEW, note=PROVIDER_RULE)
def achievement_missing(
    service_id: int, day: str, provider_id: int, provider: Organisation
) -> ResponseReturnValue:
    service, achievement_date = _service_and_day(service_id, day)
    return render_template(
        "national/summary/missing.html",
        service=service,
        provider=provider,
        day=achievement_date,
        missing=summaries.missing_data(db.session, service, provider, achievement_date),
        back=_back(service, achievement_date, provider),
    )
