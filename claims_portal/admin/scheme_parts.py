"""Admin views for a scheme's parts: components, tariffs, claim windows and questions.

Every write calls ``claims_portal.schemes`` services.
"""

from __future__ import annotations

from typing import Any

from flask import request
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from claims_portal.access import current
from claims_portal.admin import forms
from claims_portal.admin import scheme_rows as rows
from claims_portal.admin.base import ScopedModelView, get_or_404
from claims_portal.clock import today
from claims_portal.extensions import db
from claims_portal.formatting import long_date, money
from claims_portal.inputs import parse_id
from claims_portal.schemes import services
from claims_portal.schemes.models import (
    ClaimWindow,
    Component,
    Scheme,
    SchemeStatus,
    SupplementaryQuestion,
    Tariff,
)


class ComponentAdmin(ScopedModelView):
    allow_create = allow_edit = allow_delete = True
    column_list = [
        "scheme",
        "code",
        "name",
        "unit_label",
        "tariff_now",
        "max_units_per_claim",
        "period_cap_units",
        "period_cap_amount",
        "year_cap_units",
        "year_cap_amount",
    ]
    column_labels = {
        "tariff_now": "Tariff in force today",
        "max_units_per_claim": "Max units a claim",
        "period_cap_units": "Period cap (units)",
        "period_cap_amount": "Period cap (£)",
        "year_cap_units": "Year cap (units)",
        "year_cap_amount": "Year cap (£)",
    }
    column_sortable_list = [("scheme", "scheme.code"), "code", "name"]
    column_searchable_list = ["code", "name", "unit_label", "scheme.code"]
    column_filters = ["scheme.code", "scheme.status"]
    column_formatters = {
        "scheme": lambda v, c, m, p: m.scheme.code,
        "tariff_now": lambda v, c, m, p: money(
            getattr(services.tariff_for_period(m, today()), "unit_value", None)
        ),
        "period_cap_amount": lambda v, c, m, p: money(m.period_cap_amount),
        "year_cap_amount": lambda v, c, m, p: money(m.year_cap_amount),
    }
    column_export_list = [c for c in column_list if c != "tariff_now"]
    inline_models = [rows.ServiceInline(Tariff, forms.TariffInlineForm, "Tariff")]

    def scope(self, query: Any) -> Any:
        return query.filter(Component.scheme_id.in_(rows.own_scheme_ids()))

    def get_create_form(self) -> Any:
        return self.scaffold_inline_form_models(
            type("ComponentAdminCreateForm", (forms.ComponentCreateForm,), {})
        )

    def get_edit_form(self) -> Any:
        return self.scaffold_inline_form_models(
            type("ComponentAdminEditForm", (forms.ComponentFields,), {})
        )

    def create_form(self, obj: Any = None) -> Any:
        form = super().create_form(obj)
        form.scheme_id.choices = rows.scheme_choices(rows.own_schemes(SchemeStatus.DRAFT))
        if request.method == "GET" and parse_id(request.args.get("scheme_id")) is not None:
            form.scheme_id.data = parse_id(request.args["scheme_id"])
        return form

    def create_with(self, form: Any) -> Component:
        scheme = get_or_404(Scheme, form.scheme_id.data)
        component = services.add_component(
            db.session, scheme, actor=current.person(), **rows.component_values(form)
        )
        rows.save_tariffs(component, form.tariffs)
        return component

    def update_with(self, form: Any, component: Component) -> None:
        services.update_component(
            db.session, component, actor=current.person(), **rows.component_values(form)
        )
        rows.save_tariffs(component, form.tariffs)

    def after_model_change(self, form: Any, model: Any, is_created: bool) -> None:
        rows.flash_notes()

    def delete_with(self, component: Component) -> None:
        services.remove_component(db.session, component, actor=current.person())


class TariffAdmin(ScopedModelView):
    allow_create = allow_edit = allow_delete = True
    column_list = ["scheme", "component", "unit_value", "effective_from", "created_at"]
    column_labels = {"unit_value": "Unit value", "effective_from": "Takes effect on"}
    column_sortable_list = [("component", "component.code"), "unit_value", "effective_from"]
    column_default_sort = [("effective_from", False)]
    column_searchable_list = ["component.code", "component.name"]
    column_filters = ["effective_from", "component.code"]
    column_formatters = {
        "scheme": lambda v, c, m, p: m.component.scheme.code,
        "component": lambda v, c, m, p: f"{m.component.code} - {m.component.name}",
        "unit_value": lambda v, c, m, p: money(m.unit_value),
    }
    form = forms.TariffForm
    edit_template = "admin/schemes/tariff_edit.html"

    def scope(self, query: Any) -> Any:
        components = select(Component.id).where(Component.scheme_id.in_(rows.own_scheme_ids()))
        return query.filter(Tariff.component_id.in_(components))

    def _component_choices(self) -> list[SelectChoice]:
        schemes = rows.own_schemes(SchemeStatus.DRAFT, SchemeStatus.PUBLISHED)
        return [
            SelectChoice(c.id, f"{s.code} / {c.code} - {c.name}")
            for s in schemes
            if not s.participation_only
            for c in s.components
        ]

    def create_form(self, obj: Any = None) -> Any:
        form = super().create_form(obj)
        form.component_id.choices = self._component_choices()
        if request.method == "GET" and parse_id(request.args.get("component_id")) is not None:
            form.component_id.data = parse_id(request.args["component_id"])
        return form

    def get_edit_form(self) -> Any:
        # The component is fixed: shown above the form (tariff_edit.html), never posted.
        return forms.TariffFields

    def create_with(self, form: Any) -> Tariff:
        component = get_or_404(Component, form.component_id.data)
        tariff = services.add_tariff(
            db.session,
            component,
            actor=current.person(),
            unit_value=form.unit_value.data,
            effective_from=form.effective_from.data,
        )
        rows.note_tariff(component, tariff.effective_from)
        return tariff

    def update_with(self, form: Any, tariff: Tariff) -> None:
        saved = services.edit_tariff(
            db.session,
            tariff,
            actor=current.person(),
            unit_value=form.unit_value.data,
            effective_from=form.effective_from.data,
        )
        rows.note_tariff(tariff.component, saved.effective_from)
        if saved is not tariff:
            rows.note(
                f"{tariff.component.scheme.code} is published: a new tariff of "
                f"{money(saved.unit_value)} from {long_date(saved.effective_from)} was added, "
                f"and the one you opened is kept as history"
            )

    def after_model_change(self, form: Any, model: Any, is_created: bool) -> None:
        rows.flash_notes()

    def delete_with(self, tariff: Tariff) -> None:
        services.remove_tariff(db.session, tariff, actor=current.person())


# --- Claim windows and questions ----------------------------------------------------------


class ClaimWindowAdmin(ScopedModelView):
    allow_create = allow_edit = allow_delete = True
    column_list = ["scheme", "period", "period_start", "period_end", "opens_on", "closes_on", "now"]
    column_labels = {"now": "Today", "opens_on": "Opens", "closes_on": "Closes"}
    column_sortable_list = [("scheme", "scheme.code"), "period_start", "opens_on", "closes_on"]
    column_default_sort = [("period_start", False)]
    column_searchable_list = ["scheme.code", "scheme.name"]
    column_filters = ["scheme.code", "opens_on", "closes_on"]
    column_formatters = {
        "scheme": lambda v, c, m, p: m.scheme.code,
        "period": lambda v, c, m, p: m.period_label,
        "now": lambda v, c, m, p: (
            "Open" if m.is_open_on(today()) else ("Upcoming" if today() < m.opens_on else "Closed")
        ),
    }
    column_export_list = ["scheme", "period_start", "period_end", "opens_on", "closes_on"]

    def scope(self, query: Any) -> Any:
        return query.filter(ClaimWindow.scheme_id.in_(rows.own_scheme_ids()))

    def get_create_form(self) -> Any:
        return forms.WindowForm

    def get_edit_form(self) -> Any:
        return forms.WindowEditForm

    def create_form(self, obj: Any = None) -> Any:
        form = super().create_form(obj)
        form.scheme_id.choices = rows.scheme_choices(
            rows.own_schemes(SchemeStatus.DRAFT, SchemeStatus.PUBLISHED)
        )
        if request.method == "GET" and parse_id(request.args.get("scheme_id")) is not None:
            form.scheme_id.data = parse_id(request.args["scheme_id"])
        return form

    def edit_form(self, obj: Any = None) -> Any:
        form = super().edit_form(obj)
        if obj is not None and not obj.scheme.is_draft:
            form.period_start.render_kw = {"readonly": True}
            form.period_end.render_kw = {"readonly": True}
        return form

    def create_with(self, form: Any) -> ClaimWindow:
        scheme = get_or_404(Scheme, form.scheme_id.data)
        return services.add_window(
            db.session,
            scheme,
            actor=current.person(),
            period_start=form.period_start.data,
            period_end=form.period_end.data,
            opens_on=form.opens_on.data,
            closes_on=form.closes_on.data,
        )

    def update_with(self, form: Any, window: ClaimWindow) -> None:
        services.update_window(
            db.session,
            window,
            actor=current.person(),
            opens_on=form.opens_on.data,
            closes_on=form.closes_on.data,
            period_start=form.period_start.data,
            period_end=form.period_end.data,
        )

    def delete_with(self, window: ClaimWindow) -> None:
        services.remove_window(db.session, window, actor=current.person())


class QuestionAdmin(ScopedModelView):
    allow_create = allow_edit = allow_delete = True
    column_list = ["scheme", "display_order", "text", "kind", "required", "help_text"]
    column_labels = {"display_order": "Order", "text": "Question", "kind": "Answer"}
    column_sortable_list = [("scheme", "scheme.code"), "display_order", "text"]
    column_default_sort = [("display_order", False)]
    column_searchable_list = ["text", "scheme.code"]
    column_filters = ["scheme.code", "kind", "required"]
    column_formatters = {"scheme": lambda v, c, m, p: m.scheme.code}

    def scope(self, query: Any) -> Any:
        return query.filter(SupplementaryQuestion.scheme_id.in_(rows.own_scheme_ids()))

    def get_create_form(self) -> Any:
        return forms.QuestionCreateForm

    def get_edit_form(self) -> Any:
        return forms.QuestionFields

    def create_form(self, obj: Any = None) -> Any:
        form = super().create_form(obj)
        form.scheme_id.choices = rows.scheme_choices(rows.own_schemes(SchemeStatus.DRAFT))
        return form

    def create_with(self, form: Any) -> SupplementaryQuestion:
        scheme = get_or_404(Scheme, form.scheme_id.data)
        return services.add_question(
            db.session, scheme, actor=current.person(), **rows.question_values(form)
        )

    def update_with(self, form: Any, question: SupplementaryQuestion) -> None:
        services.update_question(
            db.session, question, actor=current.person(), **rows.question_values(form)
        )

    def delete_with(self, question: SupplementaryQuestion) -> None:
        services.remove_question(db.session, question, actor=current.person())
