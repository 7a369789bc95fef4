"""Admin view for offers of schemes to this ICB's providers (``schemes.services.offers``)."""

from __future__ import annotations

from typing import Any

from flask import flash, request
from flask_admin.actions import action
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from claims_portal.access import current
from claims_portal.admin import forms
from claims_portal.admin import scheme_rows as rows
from claims_portal.admin.base import ScopedModelView, get_or_404, scope_ids
from claims_portal.extensions import db
from claims_portal.hosts import public_base_url
from claims_portal.inputs import parse_id
from claims_portal.organisations.models import Organisation
from claims_portal.schemes import services
from claims_portal.schemes.models import Offer, Scheme, SchemeStatus
from claims_portal.schemes.services import offers as offer_services


def _providers_in_scope() -> Any:
    return select(Organisation.id).where(Organisation.parent_id.in_(scope_ids()))


class OfferAdmin(ScopedModelView):
    """Offers to this ICB's providers. Created here; changed only by the actions below."""

    allow_create = True
    column_list = [
        "scheme",
        "provider",
        "provider_kind",
        "status",
        "offered_at",
        "responded_at",
        "reason",
    ]
    column_labels = {"provider_kind": "Kind", "offered_at": "Offered", "responded_at": "Answered"}
    column_sortable_list = [
        ("scheme", "scheme.code"),
        ("provider", "provider.name"),
        "status",
        "offered_at",
    ]
    column_default_sort = [("offered_at", True)]
    column_searchable_list = ["scheme.code", "scheme.name", "provider.name", "provider.ods_code"]
    column_filters = ["status", "scheme.code", "provider.ods_code"]
    column_formatters = {
        "scheme": lambda v, c, m, p: m.scheme.code,
        "provider": lambda v, c, m, p: m.provider.display_name,
        "provider_kind": lambda v, c, m, p: str(m.provider.kind),
    }
    form = forms.OfferForm
    form_widget_args = {"provider_ids": {"class": "list-unstyled"}}

    def scope(self, query: Any) -> Any:
        return query.filter(Offer.provider_id.in_(_providers_in_scope()))

    def create_form(self, obj: Any = None) -> Any:
        form = super().create_form(obj)
        schemes = db.session.scalars(
            select(Scheme)
            .where(rows.visible_scheme_filter(), Scheme.status == SchemeStatus.PUBLISHED)
            .order_by(Scheme.code)
        ).all()
        form.scheme_id.choices = rows.scheme_choices(list(schemes))
        providers = services.providers_in_scope(db.session, scope_ids())
        form.provider_ids.choices = [
            SelectChoice(o.id, f"{o.display_name} - {o.kind}") for o in providers
        ]
        if request.method == "GET" and parse_id(request.args.get("scheme_id")) is not None:
            form.scheme_id.data = parse_id(request.args["scheme_id"])
        return form

    def create_with(self, form: Any) -> Any:
        scheme = get_or_404(Scheme, form.scheme_id.data)
        for provider_id in form.provider_ids.data:
            provider = get_or_404(Organisation, provider_id)
            offer_services.offer_scheme(
                db.session, scheme, provider, actor=current.person(), base_url=public_base_url()
            )
        count = len(form.provider_ids.data)
        flash(f"{scheme.code} offered to {count} provider{'s' if count != 1 else ''}.", "success")
        return True

    @action("reissue", "Reissue", "Reissue the selected offers to their providers?")
    def action_reissue(self, ids: list[str]) -> None:
        self.run_each(
            ids,
            lambda o: offer_services.reissue_offer(
                db.session, o, actor=current.person(), base_url=public_base_url()
            ),
            "Offers reissued",
        )

    @action("withdraw", "Withdraw", "Withdraw the selected offers?")
    def action_withdraw(self, ids: list[str]) -> None:
        self.run_each(
            ids,
            lambda o: offer_services.withdraw_offer(
                db.session, o, actor=current.person(), base_url=public_base_url()
            ),
            "Offers withdrawn",
        )

    @action("cancel", "Cancel", "Cancel the selected offers? Providers can no longer claim.")
    def action_cancel(self, ids: list[str]) -> None:
        self.run_each(
            ids,
            lambda o: offer_services.cancel_offer(
                db.session, o, actor=current.person(), base_url=public_base_url()
            ),
            "Offers cancelled",
        )
