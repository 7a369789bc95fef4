"""claims-portal: claims, approvals and payments for NHS primary care."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from jinja2 import ChainableUndefined, ChoiceLoader, PackageLoader

from claims_portal import db_pool
from claims_portal.config import load_config
from claims_portal.extensions import csrf, db, login_manager, migrate
from claims_portal.formatting import register_filters
from claims_portal.inputs import IdConverter


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application.

    ``config`` overrides settings read from the environment (tests pass their database URL
    here); ``CLAIMS_PORTAL_ENV`` in it or in the environment chooses the configuration class.
    """
    from claims_portal.unit_of_work import PortalFlask

    # Static files are served from memory by core.views.static (no file handle left open).
    # PortalFlask ends each request in one unit of work: commit on success, else roll back.
    app = PortalFlask(__name__, instance_relative_config=True, static_folder=None)
    # Before any route: an <int:...> larger than a database integer matches nothing (404).
    app.url_map.converters["int"] = IdConverter
    overrides = dict(config or {})
    app.config.update(load_config(app.instance_path, overrides.pop("CLAIMS_PORTAL_ENV", None)))
    app.config.update(overrides)

    from claims_portal import hosts, logs, static_files

    # Logging first, so that everything below can log (INFO and above, on standard output).
    logs.init_app(app)

    # Static files answered before the app (no session, no database), inside the host guard.
    static_files.init_app(app)
    # First: a request for a host the portal does not answer to reaches nothing else.
    hosts.init_app(app)

    # nhsuk-frontend-jinja's macros need ChainableUndefined (they read nested optional keys).
    app.jinja_env.undefined = ChainableUndefined
    # Escape every template, whatever its extension: Flask's default leaves the NHS macros'
    # `.jinja` files unescaped, so user text given to a macro was printed as markup. Trusted
    # HTML for a macro's "html" parameter is built with {% set %}...{% endset %} or Markup.
    app.jinja_env.autoescape = True
    app.jinja_loader = ChoiceLoader(
        [app.jinja_loader, PackageLoader("nhsuk_frontend_jinja", "templates")]  # type: ignore[list-item]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    register_filters(app)  # long_date, england_time, money, ...: one copy for every template

    db.init_app(app)
    db_pool.init_app(app)
    migrate.init_app(
        app, db, directory=str(_migrations_dir()), compare_type=True, render_as_batch=True
    )
    csrf.init_app(app)
    login_manager.init_app(app)

    from claims_portal import errors, security, service_settings, web

    service_settings.init_app(app)  # configured values handed to the services, read once
    security.init_app(app)
    errors.init_app(app)
    web.init_app(app)
    _register_blueprints(app)

    from claims_portal import fragments, mail, navigation
    from claims_portal.access import throttling
    from claims_portal.access import views as access_views

    access_views.install(app)  # two-factor enrolment guard
    navigation.init_app(app)  # the header's links, from one table
    fragments.init_app(app)  # the NHS header and footer, rendered once per set of inputs

    throttling.init_app(app)  # counters shared by every worker (Redis in production)
    mail.init_app(app)

    from claims_portal import jobs, metrics

    jobs.init_app(app)  # Celery (Redis), handing jobs over after commit, worker and scheduler
    metrics.init_app(app)  # Prometheus figures at /metrics, for the scraper's token only

    from claims_portal.admin import init_admin

    init_admin(app)

    from claims_portal.cli import register_commands

    register_commands(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from claims_portal import (
        access,
        claims,
        core,
        jobs,
        messages,
        national,
        organisations,
        payments,
        schemes,
    )

    # Importing the views attaches their routes to each package's blueprint ``bp``.
    from claims_portal.access import views as _access_views  # noqa: F401
    from claims_portal.claims import views as _claim_views  # noqa: F401
    from claims_portal.core import views as _core_views
    from claims_portal.jobs import views as _job_views  # noqa: F401
    from claims_portal.messages import views as _message_views  # noqa: F401
    from claims_portal.national import views as _national_views  # noqa: F401
    from claims_portal.organisations import views as _organisation_views  # noqa: F401
    from claims_portal.payments import views as _payment_views  # noqa: F401
    from claims_portal.schemes import views as _scheme_views  # noqa: F401

    app.register_blueprint(core.bp)
    app.add_url_rule("/static/<path:filename>", endpoint="static", view_func=_core_views.static)
    app.register_blueprint(access.bp)
    app.register_blueprint(organisations.bp)
    app.register_blueprint(schemes.bp)
    app.register_blueprint(claims.bp)
    app.register_blueprint(messages.bp)
    app.register_blueprint(jobs.bp)
    app.register_blueprint(payments.bp)
    app.register_blueprint(national.bp)


def _migrations_dir() -> Any:
    from claims_portal.config import PROJECT_ROOT

    return PROJECT_ROOT / "migrations"
