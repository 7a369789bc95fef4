"""Provider pages: the schemes offered to the current organisation, and answering offers."""

from __future__ import annotations

from typing import cast

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from claims_portal.access import current
from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import (
    current_organisation,
    has_capability,
)
from claims_portal.clock import today
from claims_portal.extensions import db
from claims_portal.hosts import public_base_url
from claims_portal.organisations.models import Organisation
from claims_portal.routes import Target, requires, requires_on
from claims_portal.rules import Problem, put_on_form
from claims_portal.schemes import bp
from claims_portal.schemes.forms import ConfirmForm, RejectOfferForm
from claims_portal.schemes.models import Offer, OfferStatus, SchemeStatus
from claims_portal.schemes.services import SchemeConflict, SchemeError, tariff_for_period
from claims_portal.schemes.services import offers as offer_services
from claims_portal.unit_of_work import refuse


def _offer_to_current(user: User, scheme_id: int) -> Offer | None:
    organisation = cast(Organisation, current_organisation())
    return offer_services.offer_of_scheme(db.session, scheme_id, organisation)


#: The current organisation's offer of a scheme (by the scheme's id); another provider's is
#: not found. The capability is checked in the current organisation first, as ``requires``.
OFFER: Target[Offer] = Target("offer", "scheme_id", "offer", _offer_to_current)


@bp.get("/schemes")
@requires(Capability.VIEW_PROVIDER_CLAIMS)
def index() -> ResponseReturnValue:
    organisation = cast(Organisation, current_organisation())
    offers = offer_services.offers_to(db.session, organisation)
    live = [o for o in offers if o.is_live]
    live_scheme_ids = {o.scheme_id for o in live}
    # Ended offers of schemes offered again are superseded; show the rest as history.
    ended = [o for o in offers if not o.is_live and o.scheme_id not in live_scheme_ids]
    return render_template("schemes/index.html", live=live, ended=ended)


@bp.get("/schemes/<int:scheme_id>")
@requires_on(OFFER, Capability.VIEW_PROVIDER_CLAIMS)
def detail(scheme_id: int, offer: Offer) -> ResponseReturnValue:
    return _detail_page(offer)


def _detail_page(
    offer: Offer, problems: list[Problem] | None = None, status: int = 200
) -> ResponseReturnValue:
    """The offer's page; with ``problems`` (a refused answer) in its error summary."""
    scheme = offer.scheme
    day = today()
    schedule = offer_services.window_schedule(db.session, scheme, offer.provider, day)
    current_period = next(
        (s.window for s in schedule if s.window.period_start <= day <= s.window.period_end), None
    )
    price_day = current_period.period_start if current_period else max(day, scheme.start_date)
    components = [
        (component, tariff_for_period(component, price_day)) for component in scheme.components
    ]
    return render_template(
        "schemes/detail.html",
        offer=offer,
        scheme=scheme,
        schedule=schedule,
        components=components,
        price_day=price_day,
        history=offer_services.offer_history(db.session, offer),
        can_respond=has_capability(current.person(), Capability.RESPOND_TO_OFFER, offer.provider),
        # A link starts the claim of each open window (the claim-start page checks the rest).
        can_claim=offer.status is OfferStatus.ACTIVE
        and scheme.status is SchemeStatus.PUBLISHED
        and has_capability(current.person(), Capability.CREATE_CLAIM, offer.provider),
        form=ConfirmForm(),
        OfferStatus=OfferStatus,
        problems=problems,
    ), status


def _act(offer: Offer, action: str) -> ResponseReturnValue:
    scheme_id = offer.scheme_id
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    user = current.person()
    try:
        if action == "accept":
            offer_services.accept_offer(db.session, offer, actor=user, base_url=public_base_url())
            message = f"You accepted {offer.scheme.name}. Its claim windows are below."
        else:
            offer_services.request_offer_again(
                db.session, offer, actor=user, base_url=public_base_url()
            )
            message = (
                f"You asked {offer.scheme.commissioner.name} to offer {offer.scheme.name} again."
            )
    except SchemeError as error:
        return _detail_page(offer, refuse(error), error.status_code)
    flash(message, "success")
    return redirect(url_for("schemes.detail", scheme_id=scheme_id))


@bp.route("/schemes/<int:scheme_id>/accept", methods=["GET", "POST"])
@requires_on(OFFER, Capability.RESPOND_TO_OFFER)
def accept(scheme_id: int, offer: Offer) -> ResponseReturnValue:
    """GET asks first ("Are you sure you want to accept ...?"); POST accepts."""
    if request.method == "POST":
        return _act(offer, "accept")
    if not offer_services.can_take(offer, "accept"):
        problem = Problem(f"This offer is {offer.status.lower()}: it can no longer be accepted")
        return _detail_page(offer, [problem], 409)
    return render_template(
        "schemes/accept.html", form=ConfirmForm(), offer=offer, scheme=offer.scheme
    )


@bp.post("/schemes/<int:scheme_id>/request-again")
@requires_on(OFFER, Capability.RESPOND_TO_OFFER)
def request_again(scheme_id: int, offer: Offer) -> ResponseReturnValue:
    return _act(offer, "request_again")


@bp.route("/schemes/<int:scheme_id>/reject", methods=["GET", "POST"])
@requires_on(OFFER, Capability.RESPOND_TO_OFFER)
def reject(scheme_id: int, offer: Offer) -> ResponseReturnValue:
    form = RejectOfferForm()

    # A rejection posted after someone else answered goes to the service, which says who.
    if not offer_services.can_take(offer, "reject") and not form.is_submitted():
        problem = Problem(f"This offer is {offer.status.lower()}: it can no longer be rejected")
        return _detail_page(offer, [problem], 409)
    if form.validate_on_submit():
        try:
            offer_services.reject_offer(
                db.session,
                offer,
                actor=current.person(),
                reason=form.reason.data,
                base_url=public_base_url(),
            )
        except SchemeConflict as error:
            return _detail_page(offer, refuse(error), error.status_code)
        except SchemeError as error:
            put_on_form(form, refuse(error))
        else:
            flash(
                f"You rejected {offer.scheme.name}. If that was a mistake, ask for it again.",
                "success",
            )
            return redirect(url_for("schemes.detail", scheme_id=scheme_id))
    return render_template("schemes/reject.html", form=form, offer=offer, scheme=offer.scheme)
