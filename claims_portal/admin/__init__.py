"""The ICB's administration (Flask-Admin). The only package that imports Flask-Admin.

Commissioner staff configure local schemes here without a developer: schemes, components,
tariffs, claim windows, supplementary questions and offers. Admin views reuse the domain
services, so a rule cannot be bypassed from here (``base.py`` explains access and tenant
scoping; ``schemes.py``, ``scheme_parts.py`` and ``offers.py`` the scheme views).

Templates in ``admin/templates`` override a few of Flask-Admin's so that they work under
the portal's Content-Security-Policy (no inline event handlers: ``portal_base.html`` binds
them from a nonce'd script) and add the scheme pages' buttons.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, g
from flask.typing import ResponseReturnValue
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from sqlalchemy.orm import joinedload

from claims_portal.access.roles import Capability
from claims_portal.admin import audit_objects
from claims_portal.admin.audit_names import action_filter, action_name
from claims_portal.admin.base import SecureIndexView, SecureModelView, get_in_scope, scope_ids
from claims_portal.admin.jobs import JobRunAdmin
from claims_portal.admin.national import (
    AchievementDateAdmin,
    NationalPrevalenceAdmin,
    QualityIndicatorAdmin,
    QualityServiceAdmin,
    ServiceReferenceAdmin,
)
from claims_portal.admin.offers import OfferAdmin
from claims_portal.admin.paycodes import PaycodeAdmin
from claims_portal.admin.scheme_parts import (
    ClaimWindowAdmin,
    ComponentAdmin,
    QuestionAdmin,
    TariffAdmin,
)
from claims_portal.admin.schemes import SchemeAdmin
from claims_portal.audit.models import AuditEvent
from claims_portal.extensions import db
from claims_portal.jobs.models import JobRun
from claims_portal.national.models import (
    AchievementDate,
    NationalPrevalence,
    QualityIndicator,
    QualityService,
    ServiceReference,
)
from claims_portal.organisations.models import Organisation
from claims_portal.organisations.services import with_descendants
from claims_portal.payments.models import Paycode
from claims_portal.routes import declare, public
from claims_portal.schemes.models import (
    ClaimWindow,
    Component,
    Offer,
    Scheme,
    SupplementaryQuestion,
    Tariff,
)
from claims_portal.security import csp_nonce


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

    def get_one(self, id: Any) -> Any:
        return get_in_scope(self, id)


class AuditEventAdmin(SecureModelView):
    required_capability = Capability.VIEW_AUDIT_TRAIL
    # People, organisations and objects by name (audit_objects.py), not by id.
    column_list = ["occurred_at", "actor", "organisation", "action", "object", "reason"]
    column_details_list = [
        "id",
        *column_list,
        "actor_label",
        "object_type",
        "object_id",
        "before",
        "after",
        "request_id",
    ]
    column_labels = {
        "occurred_at": "When",
        "actor": "Who",
        "organisation": "Organisation",
        "object": "What",
        "actor_label": "Recorded as",
        "object_type": "Object type",
        "object_id": "Object id",
        "request_id": "Request id",
    }
    column_sortable_list = ["occurred_at", "action"]
    column_searchable_list = ["action", "object_type", "object_id", "actor_label"]
    column_filters = [action_filter(), "object_type", "actor_label"]
    column_formatters = {"action": action_name, **audit_objects.FORMATTERS}
    column_default_sort = ("id", True)

    def get_query(self) -> Any:
        return (
            super()
            .get_query()
            .filter(AuditEvent.organisation_id.in_(_visible_organisation_ids()))
            .options(joinedload(AuditEvent.actor), joinedload(AuditEvent.organisation))
        )

    def get_list(self, *args: Any, **kwargs: Any) -> Any:
        count, events = super().get_list(*args, **kwargs)
        audit_objects.remember_names(events)
        return count, events

    def get_count_query(self) -> Any:
        return (
            super()
            .get_count_query()
            .filter(AuditEvent.organisation_id.in_(_visible_organisation_ids()))
        )

    def get_one(self, id: Any) -> Any:
        return get_in_scope(self, id)


def _visible_organisation_ids() -> list[int]:
    """The current user's ICB, its sub-locations and every organisation under them."""
    if "admin_visible_organisations" in g:
        return list(g.admin_visible_organisations)
    ids = with_descendants(db.session, scope_ids())
    g.admin_visible_organisations = ids
    return ids


def init_admin(app: Flask) -> Admin:
    """Build the admin for this app (never at module level: tests build several apps)."""
    # Registered before Flask-Admin's own blueprints, so these templates take precedence.
    app.register_blueprint(Blueprint("admin_templates", __name__, template_folder="templates"))
    admin = Admin(
        app,
        name="Claims portal administration",
        url="/admin",
        theme=Bootstrap4Theme(base_template="admin/portal_base.html"),
        index_view=SecureIndexView(
            url="/admin", endpoint="admin", template="admin/portal_index.html"
        ),
        csp_nonce_generator=csp_nonce,
    )
    admin.add_view(SchemeAdmin(Scheme, db, name="Schemes", endpoint="admin-schemes", url="schemes"))
    admin.add_view(
        ComponentAdmin(
            Component, db, name="Components", endpoint="admin-components", url="components"
        )
    )
    admin.add_view(TariffAdmin(Tariff, db, name="Tariffs", endpoint="admin-tariffs", url="tariffs"))
    admin.add_view(
        ClaimWindowAdmin(
            ClaimWindow, db, name="Claim windows", endpoint="admin-windows", url="claim-windows"
        )
    )
    admin.add_view(
        QuestionAdmin(
            SupplementaryQuestion,
            db,
            name="Questions",
            endpoint="admin-questions",
            url="questions",
        )
    )
    admin.add_view(OfferAdmin(Offer, db, name="Offers", endpoint="admin-offers", url="offers"))
    admin.add_view(
        PaycodeAdmin(Paycode, db, name="Paycodes", endpoint="admin-paycodes", url="paycodes")
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
    admin.add_view(
        JobRunAdmin(JobRun, db, name="Job runs", endpoint="admin-job-runs", url="job-runs")
    )
    _add_national_views(admin)
    _serve_static_from_memory(app)
    _declare_requirements(app, admin)
    return admin


def _add_national_views(admin: Admin) -> None:
    """The national quality services catalogue (``national.py``): national administrators
    only (the menu is flat: ``portal_base.html`` shows no categories)."""
    admin.add_view(
        QualityServiceAdmin(
            QualityService,
            db,
            name="Quality services",
            endpoint="admin-quality-services",
            url="quality-services",
        )
    )
    admin.add_view(
        QualityIndicatorAdmin(
            QualityIndicator,
            db,
            name="Indicators",
            endpoint="admin-quality-indicators",
            url="quality-indicators",
        )
    )
    admin.add_view(
        ServiceReferenceAdmin(
            ServiceReference,
            db,
            name="Reference values",
            endpoint="admin-service-references",
            url="service-references",
        )
    )
    admin.add_view(
        NationalPrevalenceAdmin(
            NationalPrevalence,
            db,
            name="National prevalences",
            endpoint="admin-national-prevalences",
            url="national-prevalences",
        )
    )
    admin.add_view(
        AchievementDateAdmin(
            AchievementDate,
            db,
            name="Achievement dates",
            endpoint="admin-achievement-dates",
            url="achievement-dates",
        )
    )


def _declare_requirements(app: Flask, admin: Admin) -> None:
    """Every admin endpoint needs what its guarded base view checks (``base.py``)."""
    for view in admin._views:
        prefix = f"{view.endpoint}."
        for rule in app.url_map.iter_rules():
            name = rule.endpoint.removeprefix(prefix)
            if rule.endpoint.startswith(prefix) and name != "static":
                declare(app, rule.endpoint, view.requirement_for(name))


def _serve_static_from_memory(app: Flask) -> None:
    """Flask-Admin's scripts, styles and fonts served from memory like the portal's own
    (``core.views.send_cached_file``): no file is left open when a browser drops the
    connection half-way, and no disk read per request."""
    from claims_portal.core.views import send_cached_file

    folders = (str(app.blueprints["admin"].static_folder),)

    # Flask-Admin's own CSS and JavaScript: the only admin endpoint anyone may reach.
    @public
    def admin_static(filename: str) -> ResponseReturnValue:
        return send_cached_file(folders, filename)

    app.view_functions["admin.static"] = admin_static
