"""The ICB's administration (Flask-Admin). The only package that imports Flask-Admin.

Admin views reuse the domain services, so a rule cannot be bypassed from here. Schemes and
their parts arrive in issue 5; for now the admin offers read-only views of organisations and
the audit trail to commissioner staff.
"""

from __future__ import annotations

from typing import Any, cast

from flask import Flask, abort, g, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.theme import Bootstrap4Theme
from flask_login import current_user
from flask_wtf import FlaskForm

from claims_portal.access.models import User
from claims_portal.access.permissions import has_capability
from claims_portal.access.roles import Capability
from claims_portal.audit.models import AuditEvent
from claims_portal.extensions import db
from claims_portal.organisations.models import Organisation
from claims_portal.security import csp_nonce

#: Flask-Admin's own CSS and JavaScript: the only admin endpoint anyone may reach.
PUBLIC_ENDPOINTS = frozenset({"admin.static"})


def _allowed(capability: Capability) -> bool:
    organisation = g.get("current_organisation")
    return bool(
        current_user.is_authenticated
        and organisation is not None
        and has_capability(cast(User, current_user), capability, organisation)
    )


class _Guarded:
    """Access checks shared by every admin view (index included)."""

    required_capability = Capability.ACCESS_ADMIN

    def is_accessible(self) -> bool:
        return _allowed(self.required_capability)

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("access.sign_in", next=request.full_path))
        abort(403)


class SecureIndexView(_Guarded, AdminIndexView):
    @expose("/")
    def index(self) -> Any:
        return super().index()


class SecureModelView(_Guarded, ModelView):
    # Flask-WTF's CSRFProtect checks every admin POST; SecureForm would clash with it.
    form_base_class = FlaskForm
    can_create = False
    can_edit = False
    can_delete = False
    page_size = 50


class OrganisationAdmin(SecureModelView):
    column_list = [
        "ods_code",
        "name",
        "kind",
        "parent",
        "approval_mode",
        "active_from",
        "active_to",
    ]
    column_searchable_list = ["ods_code", "name"]
    column_filters = ["kind", "approval_mode"]
    column_default_sort = "name"

    def get_query(self) -> Any:
        return super().get_query().filter(Organisation.id.in_(_visible_organisation_ids()))

    def get_count_query(self) -> Any:
        return super().get_count_query().filter(Organisation.id.in_(_visible_organisation_ids()))


class AuditEventAdmin(SecureModelView):
    required_capability = Capability.VIEW_AUDIT_TRAIL
    column_list = [
        "id",
        "occurred_at",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "reason",
    ]
    column_filters = ["action", "object_type", "actor_label"]
    column_default_sort = ("id", True)
    can_view_details = True

    def get_query(self) -> Any:
        return (
            super().get_query().filter(AuditEvent.organisation_id.in_(_visible_organisation_ids()))
        )

    def get_count_query(self) -> Any:
        return (
            super()
            .get_count_query()
            .filter(AuditEvent.organisation_id.in_(_visible_organisation_ids()))
        )


def _visible_organisation_ids() -> list[int]:
    """The current commissioner and every organisation under it (tenant scoping)."""
    root = g.get("current_organisation")
    if root is None:
        return []
    ids = [root.id]
    frontier = [root.id]
    while frontier:
        children = db.session.scalars(
            db.select(Organisation.id).where(Organisation.parent_id.in_(frontier))
        ).all()
        frontier = [c for c in children if c not in ids]
        ids.extend(frontier)
    return ids


def init_admin(app: Flask) -> Admin:
    """Build the admin for this app (never at module level: tests build several apps)."""
    admin = Admin(
        app,
        name="Claims portal administration",
        url="/admin",
        theme=Bootstrap4Theme(),
        index_view=SecureIndexView(url="/admin", endpoint="admin"),
        csp_nonce_generator=csp_nonce,
    )
    admin.add_view(
        OrganisationAdmin(
            Organisation,
            db,
            name="Organisations",
            endpoint="admin-organisations",
            url="organisations",
        )
    )
    admin.add_view(
        AuditEventAdmin(
            AuditEvent, db, name="Audit trail", endpoint="admin-audit", url="audit-trail"
        )
    )
    return admin
