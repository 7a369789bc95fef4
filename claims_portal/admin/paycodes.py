"""Admin view for paycodes (``payments.services.paycodes``): national reference data, so
every administrator sees the whole list; writes need ``CONFIGURE_SCHEMES`` and are audited
by the service (the audit trail is the paycode's history)."""

from __future__ import annotations

from typing import Any

from claims_portal.access import current
from claims_portal.access.services.permissions import current_organisation
from claims_portal.admin import forms
from claims_portal.admin.base import ScopedModelView
from claims_portal.extensions import db
from claims_portal.payments import services
from claims_portal.payments.models import Paycode


def _values(form: Any) -> dict[str, Any]:
    return {
        "code": form.code.data,
        "description": form.description.data,
        "subjective_code": form.subjective_code.data,
        "contract_types": form.contract_types.data or [],
    }


class PaycodeAdmin(ScopedModelView):
    """The paycode list; paycodes are never deleted (schemes and payment files name them)."""

    allow_create = allow_edit = True
    column_list = ["code", "description", "subjective_code", "contract_types"]
    column_labels = {
        "code": "Paycode",
        "subjective_code": "Subjective code",
        "contract_types": "Contract types",
    }
    column_sortable_list = ["code", "subjective_code"]
    column_default_sort = "code"
    column_searchable_list = ["code", "description", "subjective_code"]
    column_formatters = {"contract_types": lambda v, c, m, p: ", ".join(m.contract_types)}
    column_export_list = column_list
    form = forms.PaycodeForm

    def scope(self, query: Any) -> Any:
        return query  # one national list: no ICB's rows to hide

    def create_with(self, form: Any) -> Paycode:
        return services.add_paycode(
            db.session, actor=current.person(), organisation=_organisation(), **_values(form)
        )

    def update_with(self, form: Any, paycode: Paycode) -> None:
        services.update_paycode(
            db.session,
            paycode,
            actor=current.person(),
            organisation=_organisation(),
            **_values(form),
        )


def _organisation() -> Any:
    organisation = current_organisation()
    assert organisation is not None  # the guard let only a member of an organisation in
    return organisation
