"""Starting a claim (``/claims/new``): the open windows of the provider's accepted schemes."""

from __future__ import annotations

from typing import cast

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from wtforms.fields.choices import SelectChoice

from claims_portal.access import current
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import (
    current_organisation,
)
from claims_portal.claims import bp, services
from claims_portal.claims.forms import StartClaimForm
from claims_portal.claims.services import ClaimError
from claims_portal.clock import today
from claims_portal.extensions import db
from claims_portal.formatting import long_date
from claims_portal.inputs import parse_id
from claims_portal.organisations.models import Organisation
from claims_portal.routes import requires
from claims_portal.unit_of_work import refuse


def _option_choices(options: list[services.StartOption]) -> list[SelectChoice]:
    choices = []
    for option in options:
        if not option.available:
            continue
        label = (
            f"{option.scheme.name} ({option.scheme.code}), {option.window.period_label}: "
            f"claim by {long_date(option.window.closes_on)}"
        )
        if option.components:
            choices += [
                SelectChoice(f"{option.window.id}:{c.id}", f"{label}: {c.name}")
                for c in option.components
            ]
        else:
            choices.append(SelectChoice(str(option.window.id), label))
    return choices


def _choose_window(form: StartClaimForm, window_id: int | None) -> None:
    """The window a scheme page's "Start a claim" link chose (``?window=``): its only choice
    selected, or its components the only choices; a window not open to a new claim is
    ignored (every open one is offered)."""
    if window_id is None:
        return
    chosen = [c for c in form.option.choices if c.value.partition(":")[0] == str(window_id)]
    if len(chosen) > 1:
        form.option.choices = chosen
    elif chosen and not form.is_submitted():
        form.option.data = chosen[0].value


@bp.route("/claims/new", methods=["GET", "POST"])
@requires(Capability.CREATE_CLAIM)
def new() -> ResponseReturnValue:
    provider = cast(Organisation, current_organisation())
    day = today()
    options = services.start_options(db.session, provider, day)
    form = StartClaimForm()
    form.option.choices = _option_choices(options)
    _choose_window(form, parse_id(request.args.get("window")))
    existing_claim = None
    if form.validate_on_submit():
        window_id, _, component_id = form.option.data.partition(":")
        option = next(o for o in options if o.window.id == int(window_id))
        component = next(
            (c for c in option.components if component_id and c.id == int(component_id)), None
        )
        try:
            claim = services.start_claim(
                db.session,
                provider,
                option.scheme,
                option.window,
                current.person(),
                day,
                component=component,
            )
        except ClaimError as error:
            form.option.errors = [p.message for p in refuse(error)]
            existing_claim = error.existing_claim_id
        else:
            return redirect(url_for("claims.edit", claim_id=claim.id))
    status = 400 if form.errors else 200
    return render_template(
        "claims/new.html",
        form=form,
        options=options,
        provider=provider,
        existing_claim=existing_claim,
    ), status
