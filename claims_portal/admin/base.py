"""Access control and tenant scoping shared by every admin view.

- Every admin page needs ``ACCESS_ADMIN`` (commissioner roles) in the current organisation;
  anyone else gets 403 (signed-out people are sent to sign in).
- Writes (create, edit, delete, actions and the custom buttons) also need
  ``CONFIGURE_SCHEMES`` (ICB administrators): others get 403 even by a hand-made request.
- Tenant scoping: a view shows only rows of the ICB at or above the current organisation
  and of its sub-locations. ``get_one`` (edit, details, delete by id) answers 404 for any
  other row, and list, export and bulk actions all read through the scoped query.
- Writes go through the domain services (which check permissions again, validate, audit
  and flush); the view commits once.
- Query strings are read defensively (ids, pages, list filters): a value the database
  cannot take is no record (404), the first page, or an ignored filter with a message,
  never a database error.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Callable, Iterable
from typing import Any, cast

from flask import Response, abort, flash, g, redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import HTTPException
from werkzeug.utils import secure_filename

from claims_portal.access import current
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import PermissionDenied, has_capability
from claims_portal.admin import look
from claims_portal.extensions import db
from claims_portal.inputs import MAX_INT, parse_id
from claims_portal.routes import Kind, Requirement
from claims_portal.rules import RuleError
from claims_portal.schemes.services import commissioner_scope


def _allowed(capability: Capability) -> bool:
    organisation = g.get("current_organisation")
    return bool(
        current_user.is_authenticated
        and organisation is not None
        and has_capability(current.person(), capability, organisation)
    )


def scope_ids() -> list[int]:
    """The commissioners whose records the current user sees (cached for the request)."""
    if "admin_scope" not in g:
        g.admin_scope = commissioner_scope(db.session, g.get("current_organisation"))
    return cast(list[int], g.admin_scope)


def get_or_404(model: type, key: Any) -> Any:
    key = parse_id(key)
    found = db.session.get(model, key) if key is not None else None
    if found is None:
        abort(404)
    return found


def can_configure() -> bool:
    return _allowed(Capability.CONFIGURE_SCHEMES)


class _Guarded:
    """Access checks shared by every admin view (index included).

    :meth:`requirement_for` is what each exposed method needs; ``init_admin`` declares it
    for every admin endpoint (``claims_portal/routes.py``, ``docs/routes.md``).
    """

    required_capability = Capability.ACCESS_ADMIN

    def requirement_for(self, name: str) -> Requirement:
        return Requirement(Kind.CAPABILITY, (self.required_capability,))

    def is_accessible(self) -> bool:
        return _allowed(self.required_capability)

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("access.sign_in", next=request.full_path))
        abort(403)

    def render(self, template: str, **kwargs: Any) -> Any:
        # The page's messages, gathered once: one error summary, nothing said twice.
        kwargs["notices"] = look.page_notices(
            kwargs.get("form"), shown_elsewhere=kwargs.get("problems") or ()
        )
        return super().render(template, **kwargs)  # type: ignore[misc]


class SecureIndexView(_Guarded, AdminIndexView):
    @expose("/")
    def index(self) -> Any:
        return super().index()


#: The last list page anyone can ask for (Flask-Admin pages from 0; the offset must fit).
MAX_PAGE = 100_000


def _storable(value: Any) -> bool:
    """Whether a cleaned filter value can be bound to a query (an int the columns hold)."""
    if isinstance(value, list | tuple):
        return all(_storable(item) for item in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return -MAX_INT - 1 <= value <= MAX_INT
    return True


def _safe_validate(flt: Any, validate: Callable[[Any], bool], value: Any) -> bool:
    """Flask-Admin's check of a filter's value, made total: its own ``validate`` only
    catches ``ValueError`` from ``clean`` (an unknown enum name raises ``KeyError``), and an
    int it accepts may still be too large for the column."""
    try:
        return bool(validate(value)) and _storable(flt.clean(value))
    except (LookupError, ValueError, TypeError, ArithmeticError):
        return False


class SecureModelView(_Guarded, ModelView):
    """A read-only, guarded model view."""

    # Flask-WTF's CSRFProtect checks every admin POST; SecureForm would clash with it.
    form_base_class = FlaskForm
    # Statuses as users read them ("Re-requested"), dates in long form (``look.py``).
    column_type_formatters = look.LIST_FORMATTERS
    column_type_formatters_detail = look.LIST_FORMATTERS
    column_type_formatters_export = look.EXPORT_FORMATTERS
    can_create = False
    can_edit = False
    can_delete = False
    can_view_details = True
    page_size = 50

    def scaffold_filters(self, name: Any) -> Any:
        filters = super().scaffold_filters(name)
        for flt in filters or []:
            # A value that cannot be read is refused with a message and the list shown unfiltered.
            flt.validate = functools.partial(_safe_validate, flt, flt.validate)
        return filters

    def _get_list_extra_args(self) -> Any:
        view_args = super()._get_list_extra_args()
        view_args.page = min(max(view_args.page or 0, 0), MAX_PAGE)  # no negative OFFSET
        return view_args


def get_in_scope(view: ModelView, id: Any) -> Any:
    """The row with this id if the view's scoped query holds it; 404 otherwise.

    Edit, details, delete and the custom buttons all load their row through this, so a
    record of another ICB is never reached by changing an id in a URL or a form.
    """
    key = parse_id(id)
    if key is None:
        abort(404)
    found = view.get_query().filter(view.model.id == key).one_or_none()
    if found is None:
        abort(404)
    return found


def _csv_safe(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP: CSV injection)."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


#: Exposed methods that change data: refused with 403 without CONFIGURE_SCHEMES.
WRITE_VIEWS = frozenset({"create_view", "edit_view", "delete_view", "action_view"})


class ScopedModelView(SecureModelView):
    """A tenant-scoped view whose writes go through services.

    Subclasses set ``allow_create``/``allow_edit``/``allow_delete``, implement
    :meth:`scope` (the filter on their query), and override :meth:`create_with`,
    :meth:`update_with` and :meth:`delete_with` to call the services.
    """

    allow_create = False
    allow_edit = False
    allow_delete = False
    can_export = True
    export_types = ["csv", "xlsx"]
    #: Custom exposed methods (buttons) that change data.
    extra_write_views: frozenset[str] = frozenset()

    @property
    def can_create(self) -> bool:  # type: ignore[override]
        return self.allow_create and can_configure()

    @property
    def can_edit(self) -> bool:  # type: ignore[override]
        return self.allow_edit and can_configure()

    @property
    def can_delete(self) -> bool:  # type: ignore[override]
        return self.allow_delete and can_configure()

    def requirement_for(self, name: str) -> Requirement:
        # CONFIGURE_SCHEMES is held by ICB administrators, who also hold ACCESS_ADMIN.
        if name in WRITE_VIEWS or name in self.extra_write_views:
            return Requirement(Kind.CAPABILITY, (Capability.CONFIGURE_SCHEMES,))
        return super().requirement_for(name)

    def _handle_view(self, name: str, **kwargs: Any) -> Any:
        refused = super()._handle_view(name, **kwargs)
        if refused is not None:
            return refused
        (capability,) = self.requirement_for(name).capabilities
        if not _allowed(capability):
            abort(403)
        return None

    def is_action_allowed(self, name: str) -> bool:
        return can_configure() and super().is_action_allowed(name)

    # --- Tenant scoping ---------------------------------------------------------------

    def scope(self, query: Any) -> Any:
        raise NotImplementedError

    def get_query(self) -> Any:
        return self.scope(super().get_query())

    def get_count_query(self) -> Any:
        return self.scope(super().get_count_query())

    def get_one(self, id: Any) -> Any:
        return get_in_scope(self, id)

    def in_scope(self, ids: Iterable[str]) -> list[Any]:
        """The rows among ``ids`` that are in scope (bulk actions ignore the others)."""
        keys = [key for key in map(parse_id, ids) if key is not None]
        if not keys:
            return []
        return list(self.get_query().filter(self.model.id.in_(keys)).all())

    # --- Writes through services ------------------------------------------------------

    def create_with(self, form: Any) -> Any:
        raise NotImplementedError

    def update_with(self, form: Any, model: Any) -> None:
        raise NotImplementedError

    def delete_with(self, model: Any) -> None:
        raise NotImplementedError

    def _write(self, work: Callable[[], Any]) -> Any:
        """Run ``work`` (service calls, flush only) and commit once; flash rule problems."""
        try:
            result = work()
        except RuleError as error:  # a scheme's or a paycode's rule
            db.session.rollback()
            for message in error.messages:  # Flask-Admin's own way of showing them
                flash(message, "error")
            return None
        except PermissionDenied:
            db.session.rollback()
            abort(403)
        db.session.commit()
        return result if result is not None else True

    def validate_form(self, form: Any) -> bool:
        if super().validate_form(form):
            return True
        if request.method == "POST" and request.endpoint == f"{self.endpoint}.edit_view":
            for message in self._rule_problems(form):
                flash(message, "error")
        return False

    def _rule_problems(self, form: Any) -> list[str]:
        """What the services would also refuse in an edit the form already refused, so that
        every problem is listed at once: a trial run in a savepoint, always rolled back, with
        each field in error put back to its saved value (its own error is already shown)."""
        model = self.get_one(request.args.get("id"))
        if any(getattr(field, "entries", None) and field.errors for field in form):
            return []  # inline rows in error: their rules are checked once they can be read
        restored = [field for field in form if field.errors and hasattr(model, field.name)]
        typed = [field.data for field in restored]
        for field in restored:
            field.process_data(getattr(model, field.name))
        savepoint = db.session.begin_nested()
        try:
            self.update_with(form, model)
        except RuleError as error:  # a scheme's or a paycode's rule
            return list(error.messages)
        except (PermissionDenied, HTTPException):
            return []
        finally:
            savepoint.rollback()
            for field, data in zip(restored, typed, strict=True):
                field.data = data
        return []

    def create_model(self, form: Any) -> Any:
        model = self._write(lambda: self.create_with(form))
        if model:
            self.after_model_change(form, model, True)
        return model or False

    def update_model(self, form: Any, model: Any) -> bool:
        done = self._write(lambda: self.update_with(form, model))
        if done:
            self.after_model_change(form, model, False)
        return bool(done)

    def delete_model(self, model: Any) -> bool:
        return bool(self._write(lambda: self.delete_with(model)))

    @action("delete", "Delete", "Delete the selected records?")
    def action_delete(self, ids: list[str]) -> None:
        # Flask-Admin's own bulk delete compares ids as text (refused by PostgreSQL) and
        # skips the services; this one deletes row by row through them.
        self.run_each(ids, self.delete_with, "Records deleted")

    def _export_rows(self) -> Iterable[list[str]]:
        """The header, then each in-scope row as text a spreadsheet will not run."""
        _, rows = self._export_data()
        yield [title for _, title in self._export_columns]
        for row in rows:
            yield [_csv_safe(self.get_export_value(row, name)) for name, _ in self._export_columns]

    def _attachment(self, data: bytes | str, export_type: str, mimetype: str) -> Response:
        filename = secure_filename(self.get_export_name(export_type=export_type))
        return Response(
            data,
            mimetype=mimetype,
            headers={"Content-Disposition": f"attachment; filename={filename}"},
        )

    def _export_csv(self, return_url: Any) -> Any:
        """The CSV built inside the request (not streamed after it, when the rows' session
        has gone), with spreadsheet formulas neutralised."""
        buffer = io.StringIO()
        csv.writer(buffer).writerows(self._export_rows())
        return self._attachment(buffer.getvalue(), "csv", "text/csv")

    def _export_tablib(self, export_type: str, return_url: str) -> Any:
        """The .xlsx export, written with openpyxl (Flask-Admin would need tablib), every
        cell text, as guarded as the CSV's (openpyxl would store ``=...`` as a formula)."""
        if export_type != "xlsx":
            abort(404)
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(re.sub(r"[][:*?/\\]", " ", str(self.name))[:31])
        for values in self._export_rows():
            sheet.append(values)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return self._attachment(
            buffer.getvalue(),
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )

    def run_each(self, ids: Iterable[str], work: Callable[[Any], Any], done: str) -> None:
        """A bulk action: ``work`` on each in-scope row, one commit per row."""
        count = 0
        for row in self.in_scope(ids):
            if self._write(functools.partial(work, row)):
                count += 1
        if count:
            flash(f"{done}: {count}", "success")
