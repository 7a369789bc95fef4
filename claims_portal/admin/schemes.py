"""Admin view for schemes. Every write calls ``claims_portal.schemes`` services.

A scheme's edit page holds its components and questions (``scheme_rows.py`` saves them); its
buttons publish, close and generate claim windows.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from claims_portal.access import current
from claims_portal.admin import forms
from claims_portal.admin import scheme_rows as rows
from claims_portal.admin.base import ScopedModelView, can_configure, get_or_404, scope_ids
from claims_portal.clock import today
from claims_portal.extensions import db
from claims_portal.hosts import public_base_url
from claims_portal.organisations.models import Organisation
from claims_portal.payments.models import Paycode
from claims_portal.schemes import services
from claims_portal.schemes.models import Component, Scheme, SchemeStatus, SupplementaryQuestion
from claims_portal.schemes.services import closing

#: The paycode field's first choice: only a scheme not paid through the agency goes without.
NO_PAYCODE = SelectChoice("", "None (only for a scheme not paid through the payments agency)")


def paycode_choices(kept: str | None) -> list[SelectChoice]:
    """The paycode list as choices (``CODE - description``), and the paycode ``kept`` (the
    scheme's own) even when the list no longer holds it, so that it still shows."""
    listed = [
        SelectChoice(p.code, str(p))
        for p in db.session.scalars(select(Paycode).order_by(Paycode.code))
    ]
    if kept and kept not in {choice.value for choice in listed}:
        listed.insert(0, SelectChoice(kept, f"{kept} - not in the paycode list"))
    return [NO_PAYCODE, *listed]


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
    }
    column_details_list = [
        *column_list,
        "description",
        "window_days",
        "evidence_requirement",
        "pay_through_agency",
        "agency_enrolment_date",
    ]
    column_export_list = column_list
    column_formatters_export = {"commissioner": lambda v, c, m, p: m.commissioner.ods_code}
    form_widget_args = {"shared_with_ids": {"class": "list-unstyled"}}
    inline_models = [
        rows.ServiceInline(Component, forms.ComponentInlineForm, "Component"),
        rows.ServiceInline(SupplementaryQuestion, forms.QuestionInlineForm, "Question"),
    ]

    def scope(self, query: Any) -> Any:
        return query.filter(rows.visible_scheme_filter())

    def _owned(self, scheme: Scheme) -> bool:
        return scheme.commissioner_id in scope_ids()

    def get_form(self) -> Any:
        # A subclass, so that Flask-Admin adds the inline lists to it and not to ours.
        return self.scaffold_inline_form_models(type("SchemeAdminForm", (forms.SchemeForm,), {}))

    def _prepare(self, form: Any, scheme: Scheme | None) -> Any:
        form.commissioner_id.choices = [
            SelectChoice(o.id, o.display_name) for o in rows.commissioners()
        ]
        form.financial_year.choices = rows.financial_years(
            scheme.financial_year if scheme else None
        )
        form.shared_with_ids.choices = [
            SelectChoice(o.id, o.display_name) for o in rows.other_icbs()
        ]
        if not form.shared_with_ids.choices:
            form.shared_with_ids.description = "No other ICB uses the portal yet."
        form.paycode.choices = paycode_choices(scheme.paycode if scheme else None)
        if scheme is not None and request.method == "GET":
            form.shared_with_ids.data = [share.commissioner_id for share in scheme.shares]
        if scheme is not None and not scheme.is_draft:
            for name in services.LOCKED_WHEN_PUBLISHED:
                field = getattr(form, f"{name}_id" if name == "commissioner" else name)
                # Shown, not sent: the browser omits disabled fields, so nothing to require.
                field.render_kw = {"disabled": True}
                field.validators = []
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
            "agency_enrolment_date": form.agency_enrolment_date.data,
            "paycode": form.paycode.data or None,
        }

    def _shares(self, form: Any) -> list[Organisation]:
        ids = form.shared_with_ids.data or []
        return list(db.session.scalars(select(Organisation).where(Organisation.id.in_(ids))))

    def create_with(self, form: Any) -> Scheme:
        scheme = services.create_scheme(
            db.session, actor=current.person(), shared_with=self._shares(form), **self._values(form)
        )
        rows.save_components(scheme, form.components)
        rows.save_questions(scheme, form.questions)
        return scheme

    def update_with(self, form: Any, scheme: Scheme) -> None:
        values = self._values(form)
        if not scheme.is_draft:
            values = {k: v for k, v in values.items() if k not in services.LOCKED_WHEN_PUBLISHED}
        services.update_scheme(
            db.session, scheme, actor=current.person(), shared_with=self._shares(form), **values
        )
        rows.save_components(scheme, form.components)
        rows.save_questions(scheme, form.questions)

    def delete_with(self, scheme: Scheme) -> None:
        services.delete_scheme(db.session, scheme, actor=current.person())

    def get_save_return_url(self, model: Any, is_created: bool = False) -> str:
        # Back to the scheme, where windows, publishing and offers are one click away.
        return self.get_url(".edit_view", id=model.id)

    def render(self, template: str, **kwargs: Any) -> Any:
        model = kwargs.get("model")
        if isinstance(model, Scheme):
            kwargs.update(
                problems=services.publication_problems(model) if model.is_draft else [],
                # Closing warns of the claims in progress (their practices are told).
                closing_warning=closing.in_progress(db.session, model).warning
                if model.status is SchemeStatus.PUBLISHED
                else "",
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
        if self._write(lambda: services.publish_scheme(db.session, scheme, actor=current.person())):
            flash(f"{scheme.code} is published. You can now offer it to providers.", "success")
        elif scheme.is_draft:  # not when someone else published it first (already said)
            flash(f"{scheme.code} was not published: put right the problems listed.", "error")
        return self._back(scheme)

    @expose("/close/", methods=("POST",))
    def close_view(self) -> Any:
        scheme = self._scheme_from_form()
        claims = self._write(
            lambda: services.close_scheme(
                db.session, scheme, actor=current.person(), base_url=public_base_url()
            )
        )
        if claims:
            told = len(claims.practices)
            flash(
                f"{scheme.code} is closed."
                + (
                    f" {claims.count} claim{'' if claims.count == 1 else 's'} were in progress: "
                    f"{told} practice{'' if told == 1 else 's'} told."
                    if claims.count
                    else ""
                ),
                "success",
            )
        return self._back(scheme)

    @expose("/generate-windows/", methods=("POST",))
    def generate_windows_view(self) -> Any:
        scheme = self._scheme_from_form()
        result = self._write(
            lambda: services.generate_windows(db.session, scheme, actor=current.person())
        )
        if result:
            added, removed = result
            flash(f"Claim windows: {added} added, {removed} removed.", "success")
        return self._back(scheme)

    # --- Bulk actions (ids outside the user's scope are ignored) ----------------------

    @action("publish", "Publish", "Publish the selected schemes?")
    def action_publish(self, ids: list[str]) -> None:
        self.run_each(
            ids,
            lambda s: services.publish_scheme(db.session, s, actor=current.person()),
            "Schemes published",
        )

    @action("close", "Close", "Close the selected schemes? They cannot be reopened.")
    def action_close(self, ids: list[str]) -> None:
        self.run_each(
            ids,
            lambda s: services.close_scheme(
                db.session, s, actor=current.person(), base_url=public_base_url()
            ),
            "Schemes closed",
        )

    @action("generate_windows", "Generate claim windows")
    def action_generate_windows(self, ids: list[str]) -> None:
        self.run_each(
            ids,
            lambda s: services.generate_windows(db.session, s, actor=current.person()),
            "Schemes given claim windows",
        )
