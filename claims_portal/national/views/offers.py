"""The offers of national services (``national.services.offers``; thin: form, service,
page).

Commissioners (``MANAGE_NATIONAL_OFFERS``) list the offers their organisation made, by
financial year and status, offer a service (the service, whom to, the dates, then a page to
check the answers), and withdraw or cancel those they tick (a confirmation page; cancelling
asks why). Providers (``RESPOND_TO_NATIONAL_OFFER``) list the offers made to them (Offered
ones of this year first), view one's details (indicator groups by domain) and accept or
reject those they tick (a confirmation page; rejecting asks why). Another organisation's
offer is not found (404).
"""

from __future__ import annotations

from typing import Any, cast

from flask import abort, render_template, request, url_for
from flask.typing import ResponseReturnValue

from claims_portal.access import current
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import current_organisation
from claims_portal.clock import today
from claims_portal.extensions import db
from claims_portal.hosts import public_base_url
from claims_portal.inputs import parse_id
from claims_portal.national import bp, forms
from claims_portal.national.models import OfferStatus, QualityService, ServiceOffer
from claims_portal.national.services import offer_lists, offers
from claims_portal.national.services.machines import OFFER
from claims_portal.national.services.offers import OfferDates, OfferError
from claims_portal.organisations.models import Organisation, OrganisationKind
from claims_portal.routes import requires
from claims_portal.rules import Problem
from claims_portal.unit_of_work import refuse

MANAGE = Capability.MANAGE_NATIONAL_OFFERS
ANSWER = Capability.RESPOND_TO_NATIONAL_OFFER

#: The steps each side's list offers, and how its buttons read them.
_STEPS = {
    "made": {"withdraw": "Withdraw", "cancel": "Cancel"},
    "received": {"accept": "Accept", "reject": "Reject"},
}


def _organisation() -> Organisation:
    return cast(Organisation, current_organisation())


def _this_year() -> int:
    day = today()
    return day.year if day.month >= 4 else day.year - 1


def _base_url() -> str | None:
    try:
        return public_base_url()
    except RuntimeError:
        return None


def _list_page(side: str, problems: list[Problem] | None = None, status: int = 200) -> Any:
    organisation = _organisation()
    years = sorted({*offer_lists.financial_years(db.session), _this_year()}, reverse=True)
    opens_on = offer_lists.default_year(db.session, _this_year())
    if side == "made":
        filters = forms.parse_filters(request.args, default_year=opens_on)
    else:
        filters = forms.parse_filters(
            request.args, default_year=opens_on, default_status=OfferStatus.OFFERED
        )
    listed = offer_lists.offers_page(
        db.session, organisation, side, financial_year=filters.financial_year,
        status=filters.status, service_id=parse_id(request.args.get("service")),
        page=parse_id(request.args.get("page")) or 1,
    )  # fmt: skip
    return render_template(
        f"national/offers/{side}.html",
        organisation=organisation,
        rows=listed.rows,
        listed=listed,
        page_links=_page_links(side, listed),
        filters=filters,
        years=years,
        statuses=list(OfferStatus),
        steps=_STEPS[side],
        tickable=lambda offer: (
            offer.network_offer_id is None
            and any(OFFER.allows(offer.status, step) for step in _STEPS[side])
        ),
        problems=problems or [],
        ticked=set(forms.ticked_offers(request.form)),
    ), status


def _page_links(side: str, listed: offer_lists.OfferPage) -> dict[str, Any] | None:
    """The NHS pagination's previous and next links, keeping the filters."""
    if listed.pages <= 1:
        return None
    endpoint = "national.offers_made" if side == "made" else "national.offers_received"
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "page"}

    def link(page: int) -> dict[str, str]:
        return {"href": url_for(endpoint, **{**args, "page": page}), "text": f"Page {page}"}

    return {
        "previous": link(listed.page - 1) if listed.page > 1 else None,
        "next": link(listed.page + 1) if listed.page < listed.pages else None,
    }


def _chosen(side: str, ids: list[int]) -> list[ServiceOffer]:
    organisation = _organisation()
    find = offer_lists.offer_for_commissioner if side == "made" else offer_lists.offer_for_provider
    chosen = []
    for offer_id in ids:
        try:
            chosen.append(find(db.session, offer_id, organisation))
        except LookupError:
            abort(404)
    return chosen


def _take_steps(side: str) -> ResponseReturnValue:
    name = request.form.get("action", "")
    if name not in _STEPS[side]:
        return _list_page(side, [Problem("Choose what to do with the offers")], 400)
    chosen = _chosen(side, forms.ticked_offers(request.form))
    if not chosen:
        return _list_page(side, [Problem("Select at least one offer", "offer")], 400)
    step = OFFER.step(name)
    reason = request.form.get("reason", "")
    page = {
        "side": side,
        "step": step,
        "label": _STEPS[side][name],
        "chosen": chosen,
        "reason": reason,
        "back": url_for(f"national.offers_{side}"),
    }
    if request.form.get("confirmed") != "1":
        return render_template("national/offers/confirm.html", problems=[], **page)
    try:
        done = offers.take_steps(
            db.session, chosen, name, actor=current.person(), reason=reason,
            base_url=_base_url(),
        )  # fmt: skip
    except OfferError as error:
        status = error.status_code
        return render_template(
            "national/offers/confirm.html", problems=refuse(error), **page
        ), status
    return render_template("national/offers/done.html", done=done, **page)


# --- Commissioners --------------------------------------------------------------------------


@bp.route("/offers/made", methods=["GET", "POST"])
@requires(MANAGE)
def offers_made() -> ResponseReturnValue:
    if request.method == "POST":
        return _take_steps("made")
    return _list_page("made")


@bp.get("/offers/made/<int:offer_id>")
@requires(MANAGE)
def offer_made(offer_id: int) -> ResponseReturnValue:
    try:
        offer = offer_lists.offer_for_commissioner(db.session, offer_id, _organisation())
    except LookupError:
        abort(404)
    return _details(offer, side="made")


def _details(offer: ServiceOffer, *, side: str) -> ResponseReturnValue:
    return render_template(
        "national/offers/details.html",
        offer=offer,
        side=side,
        domains=offer_lists.domains_of(offer.service),
        members=offers.member_offers(db.session, offer),
        history=offer_lists.history(db.session, offer),
        back=url_for(f"national.offers_{side}"),
    )


def _within(organisation: Organisation) -> Organisation | None:
    """The ICB the national commissioner narrowed the providers to (``within``), if any."""
    within_id = parse_id(request.values.get("within"))
    if within_id is None or organisation.kind is not OrganisationKind.NATIONAL_COMMISSIONER:
        return None
    within = db.session.get(Organisation, within_id)
    return within if within is not None and within.kind is OrganisationKind.ICB else None


def _offer_page(form: forms.OfferForm, status: int = 200) -> Any:
    organisation = _organisation()
    within = _within(organisation)
    year = parse_id(request.values.get("year")) or offer_lists.default_year(
        db.session, _this_year()
    )
    services = offer_lists.services_of_year(db.session, year)
    service = db.session.get(QualityService, form.service_id) if form.service_id else None
    providers: list[Organisation] = []
    live: set[int] = set()
    if service is not None:
        providers = offers.providers_for(db.session, service, organisation, within=within)
        live = offers.live_offer_provider_ids(db.session, service)
        dates = offers.default_dates(service)
        form.start_date = form.start_date or dates.start_date
        form.end_date = form.end_date or dates.end_date
        form.response_date = form.response_date or dates.response_date
    return render_template(
        "national/offers/new.html",
        organisation=organisation,
        form=form,
        year=year,
        services=services,
        service=service,
        providers=providers,
        live=live,
        within=within,
        icbs=offers.icbs(db.session)
        if organisation.kind is OrganisationKind.NATIONAL_COMMISSIONER
        else [],
        problems=form.problems,
    ), status


@bp.route("/offers/new", methods=["GET", "POST"])
@requires(MANAGE)
def offer_new() -> ResponseReturnValue:
    """Choose the service (GET ``?service=``), then whom to and the dates, then check."""
    if request.method == "GET":
        form = forms.OfferForm(service_id=parse_id(request.args.get("service")))
        return _offer_page(form)
    form = forms.read_offer_form(request.form, dates_required=True)
    if form.problems:
        return _offer_page(form, 400)
    organisation = _organisation()
    service = db.session.get(QualityService, form.service_id)
    if service is None:
        abort(404)
    assert form.start_date is not None
    assert form.end_date is not None
    dates = OfferDates(form.start_date, form.end_date, form.response_date)
    within = _within(organisation)
    if form.to == "all":
        live = offers.live_offer_provider_ids(db.session, service)
        everyone = offers.providers_for(db.session, service, organisation, within=within)
        chosen = [p for p in everyone if p.id not in live]
    else:
        chosen = [p for p in (db.session.get(Organisation, i) for i in form.provider_ids) if p]
    try:
        offers.check_dates(service, dates)
        if not chosen:
            raise OfferError(
                f"Every provider already has an offer of {service.name}", field="provider"
            )
        if request.form.get("confirmed") == "1":
            made = offers.offer_service(
                db.session, service, chosen, commissioner=organisation,
                actor=current.person(), dates=dates, base_url=_base_url(),
            )  # fmt: skip
            return render_template("national/offers/offered.html", service=service, made=made)
    except OfferError as error:
        form.problems = refuse(error)
        return _offer_page(form, error.status_code)
    return render_template(
        "national/offers/check.html",
        service=service,
        form=form,
        chosen=chosen,
        dates=dates,
        within=within,
    )


# --- Providers ------------------------------------------------------------------------------


@bp.route("/offers/received", methods=["GET", "POST"])
@requires(ANSWER)
def offers_received() -> ResponseReturnValue:
    if request.method == "POST":
        return _take_steps("received")
    return _list_page("received")


@bp.get("/offers/received/<int:offer_id>")
@requires(ANSWER)
def offer_received(offer_id: int) -> ResponseReturnValue:
    try:
        offer = offer_lists.offer_for_provider(db.session, offer_id, _organisation())
    except LookupError:
        abort(404)
    return _details(offer, side="received")
