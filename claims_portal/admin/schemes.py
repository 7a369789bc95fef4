"""Admin views for schemes and their parts. Every write calls ``claims_portal.schemes``.

Inline editing: a scheme's edit page holds its components and questions, and a component's
edit page holds its tariffs (Flask-Admin's inline model forms). The inline rows are not
saved by Flask-Admin: each row is handed to the matching service (add, update or remove).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.fields import InlineModelFormList
from flask_admin.model.form import InlineFormAdmin
from sqlalchemy import or_, select
from wtforms.fields.choices import SelectChoice

from claims_portal.admin import forms
from claims_portal.admin.base import (
    ScopedModelView,
    actor,
    can_configure,
    get_or_404,
    scope_ids,
)
from claims_portal.clock import today
from claims_portal.extensions import db
from claims_portal.inputs import parse_id
from claims_portal.organisations.models import Organisation, OrganisationKind
from claims_portal.schemes import services
from claims_portal.schemes.models import (
    ClaimWindow,
    Component,
    Offer,
    Scheme,
    SchemeShare,
    SchemeStatus,
    SupplementaryQuestion,
    Tariff,
)
from claims_portal.schemes.services import SchemeError
from claims_portal.schemes.services import offers as offer_services

# --- Scope filters and choice lists -------------------------------------------------------


def _own_scheme_ids() -> Any:
    return select(Scheme.id).where(Scheme.commissioner_id.in_(scope_ids()))


def _visible_scheme_filter() -> Any:
    shared = select(SchemeShare.scheme_id).where(SchemeShare.commissioner_id.in_(scope_ids()))
    return or_(Scheme.commissioner_id.in_(scope_ids()), Scheme.id.in_(shared))


def _own_schemes(*statuses: SchemeStatus) -> list[Scheme]:
    query = select(Scheme).where(Scheme.commissioner_id.in_(scope_ids()))
    if statuses:
        query = query.where(Scheme.status.in_(statuses))
    return list(db.session.scalars(query.order_by(Scheme.financial_year.desc(), Scheme.code)))


def _scheme_choices(schemes: list[Scheme]) -> list[SelectChoice]:
    return [SelectChoice(s.id, f"{s.code} - {s.name} ({s.status})") for s in schemes]


def _commissioners() -> list[Organisation]:
    return list(
        db.session.scalars(
            select(Organisation).where(Organisation.id.in_(scope_ids())).order_by(Organisation.kind)
        )
    )


def _other_icbs() -> list[Organisation]:
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.kind == OrganisationKind.ICB, Organisation.id.not_in(scope_ids()))
            .order_by(Organisation.name)
        )
    )


def _financial_years(current: str | None = None) -> list[SelectChoice]:
    start = today().year - (0 if today().month >= 4 else 1)
    labels = [f"{y}/{(y + 1) % 100:02d}" for y in range(start - 1, start + 3)]
    if current and current not in labels:
        labels.insert(0, current)
    return [SelectChoice(label, label) for label in labels]


def _date(value: dt.date | None) -> str:
    return value.strftime("%d %b %Y") if value else ""


def _money(value: Any) -> str:
    return "" if value is None else f"£{value:,.2f}"


# --- Inline rows through services ---------------------------------------------------------


class _ServiceInline(InlineFormAdmin):
    """An inline model whose form is ours; saving it is done by the parent view."""

    def __init__(self, model: type, form: type, label: str) -> None:
        super().__init__(model, form_label=label)
        self._form = form

    def get_form(self) -> Any:
        return self._form


def _inline_rows(field: InlineModelFormList, existing: list[Any]) -> list[tuple[Any, Any, bool]]:
    """(row form, existing model or None, delete?) for each inline row.

    A row naming an id that is not one of the parent's own rows is refused: the ids come from
    the browser.
    """
    by_id = {str(row.id): row for row in existing}
    rows = []
    for entry in field.entries:
        pk = (entry.form.id.data or "").strip()
        model = None
        if pk:
            model = by_id.get(pk)
            if model is None:
                raise SchemeError("The form named a row that is not part of this record; reload it")
        rows.append((entry.form, model, field.should_delete(entry)))
    return rows


def _component_values(form: Any) -> dict[str, Any]:
    return {name: getattr(form, name).data for name in services.COMPONENT_FIELDS}


def _question_values(form: Any) -> dict[str, Any]:
    values = {name: getattr(form, name).data for name in services.QUESTION_FIELDS}
    values["kind"] = form.kind.member
    values["choices"] = values["choices"] or ""
    values["help_text"] = values["help_text"] or ""
    return values


def _save_components(scheme: Scheme, field: InlineModelFormList) -> None:
    for row, component, delete in _inline_rows(field, scheme.components):
        if delete:
            services.remove_component(db.session, component, actor=actor())
            continue
        if component is None:
            component = services.add_component(
                db.session, scheme, actor=actor(), **_component_values(row)
            )
        else:
            services.update_component(
                db.session, component, actor=actor(), **_component_values(row)
            )
        if row.new_unit_value.data is not None or row.new_effective_from.data is not None:
            services.add_tariff(
                db.session,
                component,
                actor=actor(),
                unit_value=row.new_unit_value.data,
                effective_from=row.new_effective_from.data or scheme.start_date,
            )


def _save_questions(scheme: Scheme, field: InlineModelFormList) -> None:
    for row, question, delete in _inline_rows(field, scheme.questions):
        if delete:
            services.remove_question(db.session, question, actor=actor())
        elif question is None:
            services.add_question(db.session, scheme, actor=actor(), **_question_values(row))
        else:
            services.update_question(db.session, question, actor=actor(), **_question_values(row))


def _save_tariffs(component: Component, field: InlineModelFormList) -> None:
    for row, tariff, delete in _inline_rows(field, component.tariffs):
        if delete:
            services.remove_tariff(db.session, tariff, actor=actor())
        elif tariff is None:
            services.add_tariff(
                db.session,
                component,
                actor=actor(),
                unit_value=row.unit_value.data,
                effective_from=row.effective_from.data,
            )
        elif (row.unit_value.data, row.effective_from.data) != (
            tariff.unit_value,
            tariff.effective_from,
        ):
            services.update_tariff(
                db.session,
                tariff,
                actor=actor(),
                unit_value=row.unit_value.data,
                effective_from=row.effective_from.data,
            )


# --- Schemes ------------------------------------------------------------------------------


class SchemeAdmin(ScopedModelView):
    allow_create = allow_edit = allow_delete = True
    extra_write_views = frozenset({"publish_view", "close_view", "generate_windows_view"})
    create_template = "admin/schemes/scheme_create.html"
    edit_template = "admin/schemes/scheme_edit.html"
    details_template = "admin/schemes/scheme_details.html"
    column_list = [
        "code",
        "name",
        "commissioner",
        "financial_year",
        "status",
        "claim_frequency",
        "start_date",
        "end_date",
        "participation_only",
        "paycode",
    ]
    column_labels = {
        "financial_year": "Year",
        "claim_frequency": "Claims",
        "participation_only": "Participation only",
    }
    column_sortable_list = [
        "code",
        "name",
        ("commissioner", "commissioner.name"),
        "financial_year",
        "status",
        "start_date",
    ]
    column_default_sort = [("financial_year", True), ("code", False)]
    column_searchable_list = ["code", "name", "paycode"]
    column_filters = ["status", "claim_frequency", "financial_year", "participation_only"]
    column_formatters = {
        "commissioner": lambda v, c, m, p: m.commissioner.name,
        "start_date": lambda v, c, m, p: _date(m.start_date),
        "end_date": lambda v, c, m, p: _date(m.end_date),
    }
    column_details_list = [*column_list, "description", "window_days", "evidence_requirement"]
    column_export_list = column_list
    column_formatters_export = {"commissioner": lambda v, c, m, p: m.commissioner.ods_code}
    form_widget_args = {"shared_with_ids": {"class": "list-unstyled"}}
    inline_models = [
        _ServiceInline(Component, forms.ComponentInlineForm, "Component"),
        _ServiceInline(SupplementaryQuestion, forms.QuestionInlineForm, "Question"),
    ]

    def scope(self, query: Any) -> Any:
        return query.filter(_visible_scheme_filter())

    def _owned(self, scheme: Scheme) -> bool:
        return scheme.commissioner_id in scope_ids()

    def get_form(self) -> Any:
        # A subclass, so that Flask-Admin adds the inline lists to it and not to ours.
        return self.scaffold_inline_form_models(type("SchemeAdminForm", (forms.SchemeForm,), {}))

    def _prepare(self, form: Any, scheme: Scheme | None) -> Any:
        form.commissioner_id.choices = [
            SelectChoice(o.id, o.display_name) for o in _commissioners()
        ]
        form.financial_year.choices = _financial_years(scheme.financial_year if scheme else None)
        form.shared_with_ids.choices = [SelectChoice(o.id, o.display_name) for o in _other_icbs()]
        if not form.shared_with_ids.choices:
            form.shared_with_ids.description = "No other ICB uses the portal yet."
        if scheme is not None and request.method == "GET":
            form.shared_with_ids.data = [share.commissioner_id for share in scheme.shares]
        if scheme is not None and not scheme.is_draft:
            for name in services.LOCKED_WHEN_PUBLISHED:
                field = getattr(form, f"{name}_id" if name == "commissioner" else name)
                # Shown, not sent: the browser omits disabled fields, so nothing to require.
                field.render_kw = {"disabled": True}
                field.validators = []
            form.paycode.render_kw = {"readonly": True}
            form.paycode.description = "Locked: the scheme is published"
        return form

    def create_form(self, obj: Any = None) -> Any:
        form = self._prepare(super().create_form(obj), None)
        if request.method == "GET" and len(form.commissioner_id.choices) >= 1:
            form.commissioner_id.data = form.commissioner_id.choices[0].value
            form.financial_year.data = services.financial_year_of(today())
        return form

    def edit_form(self, obj: Any = None) -> Any:
        if obj is not None and not self._owned(obj):
            # Shared with this ICB: it may be seen and offered, not changed.
            abort(403)
        return self._prepare(super().edit_form(obj), obj)

    def _values(self, form: Any) -> dict[str, Any]:
        return {
            "code": form.code.data,
            "name": form.name.data,
            "description": form.description.data or "",
            "commissioner": get_or_404(Organisation, form.commissioner_id.data),
            "financial_year": form.financial_year.data,
            "start_date": form.start_date.data,
            "end_date": form.end_date.data,
            "claim_frequency": form.claim_frequency.member,
            "window_days": form.window_days.data,
            "evidence_requirement": form.evidence_requirement.member,
            "multi_service_claims": form.multi_service_claims.data,
            "participation_only": form.participation_only.data,
            "pay_through_agency": form.pay_through_agency.data,
            "paycode": form.paycode.data,
        }

    def _shares(self, form: Any) -> list[Organisation]:
        ids = form.shared_with_ids.data or []
        return list(db.session.scalars(select(Organisation).where(Organisation.id.in_(ids))))

    def create_with(self, form: Any) -> Scheme:
        scheme = services.create_scheme(
            db.session, actor=actor(), shared_with=self._shares(form), **self._values(form)
        )
        _save_components(scheme, form.components)
        _save_questions(scheme, form.questions)
        return scheme

    def update_with(self, form: Any, scheme: Scheme) -> None:
        values = self._values(form)
        if not scheme.is_draft:
            values = {k: v for k, v in values.items() if k not in services.LOCKED_WHEN_PUBLISHED}
        services.update_scheme(
            db.session, scheme, actor=actor(), shared_with=self._shares(form), **values
        )
        _save_components(scheme, form.components)
        _save_questions(scheme, form.questions)

    def delete_with(self, scheme: Scheme) -> None:
        services.delete_scheme(db.session, scheme, actor=actor())

    def get_save_return_url(self, model: Any, is_created: bool = False) -> str:
        # Back to the scheme, where windows, publishing and offers are one click away.
        return self.get_url(".edit_view", id=model.id)

    def render(self, template: str, **kwargs: Any) -> Any:
        model = kwargs.get("model")
        if isinstance(model, Scheme):
            kwargs.update(
                problems=services.publication_problems(model) if model.is_draft else [],
                owned=self._owned(model),
                can_configure=can_configure(),
                today=today(),
            )
        return super().render(template, **kwargs)

    # --- Buttons on a scheme's page ---------------------------------------------------

    def _scheme_from_form(self) -> Scheme:
        scheme = self.get_one(request.form.get("id"))
        if not self._owned(scheme):
            abort(403)
        return scheme

    def _back(self, scheme: Scheme) -> Any:
        return redirect(self.get_url(".edit_view", id=scheme.id))

    @expose("/publish/", methods=("POST",))
    def publish_view(self) -> Any:
        scheme = self._scheme_from_form()
        if self._write(lambda: services.publish_scheme(db.session, scheme, actor=actor())):
            flash(f"{scheme.code} is published. You can now offer it to providers.", "success")
        elif scheme.is_draft:  # not when someone else published it first (already said)
            flash(f"{scheme.code} was not published: put right the problems listed.", "error")
        return self._back(scheme)

    @expose("/close/", methods=("POST",))
    def close_view(self) -> Any:
        scheme = self._scheme_from_form()
        if self._write(lambda: services.close_scheme(db.session, scheme, actor=actor())):
            flash(f"{scheme.code} is closed.", "success")
        return self._back(scheme)

    @expose("/generate-windows/", methods=("POST",))
    def generate_windows_view(self) -> Any:
        scheme = self._scheme_from_form()
        result = self._write(lambda: services.generate_windows(db.session, scheme, actor=actor()))
        if result:
            added, removed = result
            flash(f"Claim windows: {added} added, {removed} removed.", "success")
        return self._back(scheme)

    # --- Bulk actions (ids outside the user's scope are ignored) ----------------------

    @action("publish", "Publish", "Publish the selected schemes?")
    def action_publish(self, ids: list[str]) -> None:
        self.run_each(
            ids,
            lambda s: services.publish_scheme(db.session, s, actor=actor()),
            "Schemes published",
        )

    @action("close", "Close", "Close the selected schemes? They cannot be reopened.")
    def action_close(self, ids: list[str]) -> None:
        self.run_each(
            ids, lambda s: services.close_scheme(db.session, s, actor=actor()), "Schemes closed"
        )

    @action("generate_windows", "Generate claim windows")
    def action_generate_windows(self, ids: list[str]) -> None:
        self.run_each(
            ids,
            lambda s: services.generate_windows(db.session, s, actor=actor()),
            "Schemes given claim windows",
        )


# --- Components and tariffs ---------------------------------------------------------------


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
        "tariff_now": lambda v, c, m, p: _money(
            getattr(services.tariff_for_period(m, today()), "unit_value", None)
        ),
        "period_cap_amount": lambda v, c, m, p: _money(m.period_cap_amount),
        "year_cap_amount": lambda v, c, m, p: _money(m.year_cap_amount),
    }
    column_export_list = [c for c in column_list if c != "tariff_now"]
    inline_models = [_ServiceInline(Tariff, forms.TariffInlineForm, "Tariff")]

    def scope(self, query: Any) -> Any:
        return query.filter(Component.scheme_id.in_(_own_scheme_ids()))

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
        form.scheme_id.choices = _scheme_choices(_own_schemes(SchemeStatus.DRAFT))
        if request.method == "GET" and parse_id(request.args.get("scheme_id")) is not None:
            form.scheme_id.data = parse_id(request.args["scheme_id"])
        return form

    def create_with(self, form: Any) -> Component:
        scheme = get_or_404(Scheme, form.scheme_id.data)
        component = services.add_component(
            db.session, scheme, actor=actor(), **_component_values(form)
        )
        _save_tariffs(component, form.tariffs)
        return component

    def update_with(self, form: Any, component: Component) -> None:
        services.update_component(db.session, component, actor=actor(), **_component_values(form))
        _save_tariffs(component, form.tariffs)

    def delete_with(self, component: Component) -> None:
        services.remove_component(db.session, component, actor=actor())


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
        "unit_value": lambda v, c, m, p: _money(m.unit_value),
        "effective_from": lambda v, c, m, p: _date(m.effective_from),
    }
    form = forms.TariffForm

    def scope(self, query: Any) -> Any:
        components = select(Component.id).where(Component.scheme_id.in_(_own_scheme_ids()))
        return query.filter(Tariff.component_id.in_(components))

    def _component_choices(self) -> list[SelectChoice]:
        schemes = _own_schemes(SchemeStatus.DRAFT, SchemeStatus.PUBLISHED)
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

    def edit_form(self, obj: Any = None) -> Any:
        form = super().edit_form(obj)
        form.component_id.choices = self._component_choices()
        form.component_id.render_kw = {"disabled": True}
        return form

    def create_with(self, form: Any) -> Tariff:
        component = get_or_404(Component, form.component_id.data)
        return services.add_tariff(
            db.session,
            component,
            actor=actor(),
            unit_value=form.unit_value.data,
            effective_from=form.effective_from.data,
        )

    def update_with(self, form: Any, tariff: Tariff) -> None:
        services.update_tariff(
            db.session,
            tariff,
            actor=actor(),
            unit_value=form.unit_value.data,
            effective_from=form.effective_from.data,
        )

    def delete_with(self, tariff: Tariff) -> None:
        services.remove_tariff(db.session, tariff, actor=actor())


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
        "period_start": lambda v, c, m, p: _date(m.period_start),
        "period_end": lambda v, c, m, p: _date(m.period_end),
        "opens_on": lambda v, c, m, p: _date(m.opens_on),
        "closes_on": lambda v, c, m, p: _date(m.closes_on),
        "now": lambda v, c, m, p: (
            "Open" if m.is_open_on(today()) else ("Upcoming" if today() < m.opens_on else "Closed")
        ),
    }
    column_export_list = ["scheme", "period_start", "period_end", "opens_on", "closes_on"]

    def scope(self, query: Any) -> Any:
        return query.filter(ClaimWindow.scheme_id.in_(_own_scheme_ids()))

    def get_create_form(self) -> Any:
        return forms.WindowForm

    def get_edit_form(self) -> Any:
        return forms.WindowEditForm

    def create_form(self, obj: Any = None) -> Any:
        form = super().create_form(obj)
        form.scheme_id.choices = _scheme_choices(
            _own_schemes(SchemeStatus.DRAFT, SchemeStatus.PUBLISHED)
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
            actor=actor(),
            period_start=form.period_start.data,
            period_end=form.period_end.data,
            opens_on=form.opens_on.data,
            closes_on=form.closes_on.data,
        )

    def update_with(self, form: Any, window: ClaimWindow) -> None:
        services.update_window(
            db.session,
            window,
            actor=actor(),
            opens_on=form.opens_on.data,
            closes_on=form.closes_on.data,
            period_start=form.period_start.data,
            period_end=form.period_end.data,
        )

    def delete_with(self, window: ClaimWindow) -> None:
        services.remove_window(db.session, window, actor=actor())


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
        return query.filter(SupplementaryQuestion.scheme_id.in_(_own_scheme_ids()))

    def get_create_form(self) -> Any:
        return forms.QuestionCreateForm

    def get_edit_form(self) -> Any:
        return forms.QuestionFields

    def create_form(self, obj: Any = None) -> Any:
        form = super().create_form(obj)
        form.scheme_id.choices = _scheme_choices(_own_schemes(SchemeStatus.DRAFT))
        return form

    def create_with(self, form: Any) -> SupplementaryQuestion:
        scheme = get_or_404(Scheme, form.scheme_id.data)
        return services.add_question(db.session, scheme, actor=actor(), **_question_values(form))

    def update_with(self, form: Any, question: SupplementaryQuestion) -> None:
        services.update_question(db.session, question, actor=actor(), **_question_values(form))

    def delete_with(self, question: SupplementaryQuestion) -> None:
        services.remove_question(db.session, question, actor=actor())


# --- Offers -------------------------------------------------------------------------------


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
        "offered_at": lambda v, c, m, p: m.offered_at.strftime("%d %b %Y %H:%M"),
        "responded_at": lambda v, c, m, p: (
            m.responded_at.strftime("%d %b %Y %H:%M") if m.responded_at else ""
        ),
    }
    form = forms.OfferForm
    form_widget_args = {"provider_ids": {"class": "list-unstyled"}}

    def scope(self, query: Any) -> Any:
        return query.filter(Offer.provider_id.in_(_providers_in_scope()))

    def create_form(self, obj: Any = None) -> Any:
        form = super().create_form(obj)
        schemes = db.session.scalars(
            select(Scheme)
            .where(_visible_scheme_filter(), Scheme.status == SchemeStatus.PUBLISHED)
            .order_by(Scheme.code)
        ).all()
        form.scheme_id.choices = _scheme_choices(list(schemes))
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
            offer_services.offer_scheme(db.session, scheme, provider, actor=actor())
        count = len(form.provider_ids.data)
        flash(f"{scheme.code} offered to {count} provider{'s' if count != 1 else ''}.", "success")
        return True

    @action("reissue", "Reissue", "Reissue the selected offers to their providers?")
    def action_reissue(self, ids: list[str]) -> None:
        self.run_each(
            ids,
            lambda o: offer_services.reissue_offer(db.session, o, actor=actor()),
            "Offers reissued",
        )

    @action("withdraw", "Withdraw", "Withdraw the selected offers?")
    def action_withdraw(self, ids: list[str]) -> None:
        self.run_each(
            ids,
            lambda o: offer_services.withdraw_offer(db.session, o, actor=actor()),
            "Offers withdrawn",
        )

    @action("cancel", "Cancel", "Cancel the selected offers? Providers can no longer claim.")
    def action_cancel(self, ids: list[str]) -> None:
        self.run_each(
            ids,
            lambda o: offer_services.cancel_offer(db.session, o, actor=actor()),
            "Offers cancelled",
        )
