"""What the scheme admin views share: scope filters, choice lists, and inline rows saved
through ``claims_portal.schemes`` services (never by Flask-Admin itself).

A scheme's edit page holds its components and questions, and a component's edit page holds
its tariffs (Flask-Admin's inline model forms). The inline rows are not saved by Flask-Admin:
each row is handed to the matching service (add, update or remove).
"""

from __future__ import annotations

from typing import Any

from flask import flash, g
from flask_admin.contrib.sqla.fields import InlineModelFormList
from flask_admin.model.form import InlineFormAdmin
from sqlalchemy import or_, select
from wtforms.fields.choices import SelectChoice

from claims_portal.access import current
from claims_portal.admin.base import scope_ids
from claims_portal.clock import today
from claims_portal.extensions import db
from claims_portal.organisations.models import Organisation, OrganisationKind
from claims_portal.schemes import services
from claims_portal.schemes.models import Component, Scheme, SchemeShare, SchemeStatus
from claims_portal.schemes.services import SchemeError

# --- Scope filters and choice lists -------------------------------------------------------


def own_scheme_ids() -> Any:
    return select(Scheme.id).where(Scheme.commissioner_id.in_(scope_ids()))


def visible_scheme_filter() -> Any:
    shared = select(SchemeShare.scheme_id).where(SchemeShare.commissioner_id.in_(scope_ids()))
    return or_(Scheme.commissioner_id.in_(scope_ids()), Scheme.id.in_(shared))


def own_schemes(*statuses: SchemeStatus) -> list[Scheme]:
    query = select(Scheme).where(Scheme.commissioner_id.in_(scope_ids()))
    if statuses:
        query = query.where(Scheme.status.in_(statuses))
    return list(db.session.scalars(query.order_by(Scheme.financial_year.desc(), Scheme.code)))


def scheme_choices(schemes: list[Scheme]) -> list[SelectChoice]:
    return [SelectChoice(s.id, f"{s.code} - {s.name} ({s.status})") for s in schemes]


def commissioners() -> list[Organisation]:
    return list(
        db.session.scalars(
            select(Organisation).where(Organisation.id.in_(scope_ids())).order_by(Organisation.kind)
        )
    )


def other_icbs() -> list[Organisation]:
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.kind == OrganisationKind.ICB, Organisation.id.not_in(scope_ids()))
            .order_by(Organisation.name)
        )
    )


def financial_years(current: str | None = None) -> list[SelectChoice]:
    start = today().year - (0 if today().month >= 4 else 1)
    labels = [f"{y}/{(y + 1) % 100:02d}" for y in range(start - 1, start + 3)]
    if current and current not in labels:
        labels.insert(0, current)
    return [SelectChoice(label, label) for label in labels]


# --- Inline rows through services ---------------------------------------------------------


class ServiceInline(InlineFormAdmin):
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
        # Text as posted, or the row's own id (an int) when the form was filled from it.
        pk = str(entry.form.id.data or "").strip()
        model = None
        if pk:
            model = by_id.get(pk)
            if model is None:
                raise SchemeError("The form named a row that is not part of this record; reload it")
        rows.append((entry.form, model, field.should_delete(entry)))
    return rows


def component_values(form: Any) -> dict[str, Any]:
    return {name: getattr(form, name).data for name in services.COMPONENT_FIELDS}


def question_values(form: Any) -> dict[str, Any]:
    values = {name: getattr(form, name).data for name in services.QUESTION_FIELDS}
    values["kind"] = form.kind.member
    values["choices"] = values["choices"] or ""
    values["help_text"] = values["help_text"] or ""
    return values


def save_components(scheme: Scheme, field: InlineModelFormList) -> None:
    for row, component, delete in _inline_rows(field, scheme.components):
        if delete:
            services.remove_component(db.session, component, actor=current.person())
            continue
        if component is None:
            component = services.add_component(
                db.session, scheme, actor=current.person(), **component_values(row)
            )
        else:
            services.update_component(
                db.session, component, actor=current.person(), **component_values(row)
            )
        if row.new_unit_value.data is not None or row.new_effective_from.data is not None:
            services.add_tariff(
                db.session,
                component,
                actor=current.person(),
                unit_value=row.new_unit_value.data,
                effective_from=row.new_effective_from.data or scheme.start_date,
            )


def save_questions(scheme: Scheme, field: InlineModelFormList) -> None:
    for row, question, delete in _inline_rows(field, scheme.questions):
        if delete:
            services.remove_question(db.session, question, actor=current.person())
        elif question is None:
            services.add_question(
                db.session, scheme, actor=current.person(), **question_values(row)
            )
        else:
            services.update_question(
                db.session, question, actor=current.person(), **question_values(row)
            )


def note(message: str) -> None:
    """A warning to show once the save it belongs to is committed (:func:`flash_notes`;
    a trial run of the services, which is rolled back, shows none)."""
    g.setdefault("admin_notes", []).append(message)


def note_tariff(component: Component, effective_from: Any) -> None:
    """Warn of a tariff starting part-way through a period or back-dated over claims."""
    for warning in services.tariff_warnings(db.session, component, effective_from):
        note(warning)


def flash_notes() -> None:
    for message in g.pop("admin_notes", []):
        flash(message, "warning")


def save_tariffs(component: Component, field: InlineModelFormList) -> None:
    for row, tariff, delete in _inline_rows(field, component.tariffs):
        if delete:
            services.remove_tariff(db.session, tariff, actor=current.person())
        elif tariff is None:
            services.add_tariff(
                db.session,
                component,
                actor=current.person(),
                unit_value=row.unit_value.data,
                effective_from=row.effective_from.data,
            )
            note_tariff(component, row.effective_from.data)
        elif (row.unit_value.data, row.effective_from.data) != (
            tariff.unit_value,
            tariff.effective_from,
        ):
            services.edit_tariff(
                db.session,
                tariff,
                actor=current.person(),
                unit_value=row.unit_value.data,
                effective_from=row.effective_from.data,
            )
            note_tariff(component, row.effective_from.data)
