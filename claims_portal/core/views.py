from __future__ import annotations

from pathlib import Path

from flask import (
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    send_from_directory,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import login_required
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from wtforms.fields.choices import SelectChoice

from claims_portal.core import bp
from claims_portal.core.forms import SwitchOrganisationForm
from claims_portal.extensions import db
from claims_portal.web import CURRENT_ORGANISATION_KEY

#: Endpoints anyone may reach without signing in (the convention tests read this).
PUBLIC_ENDPOINTS = frozenset(
    {
        "core.healthz",
        "core.readyz",
        "core.assets",
        "core.accessibility",
        "core.privacy",
        "static",
    }
)


@bp.get("/")
@login_required
def home() -> ResponseReturnValue:
    return render_template("core/home.html")


@bp.route("/switch-organisation", methods=["GET", "POST"])
@login_required
def switch_organisation() -> ResponseReturnValue:
    organisations = g.get("organisations", [])
    form = SwitchOrganisationForm()
    form.organisation_id.choices = [SelectChoice(o.id, o.display_name) for o in organisations]
    if form.validate_on_submit():
        session[CURRENT_ORGANISATION_KEY] = form.organisation_id.data
        chosen = next(o for o in organisations if o.id == form.organisation_id.data)
        flash(f"You are now working for {chosen.display_name}", "success")
        return redirect(url_for("core.home"))
    if g.current_organisation is not None and form.organisation_id.data is None:
        form.organisation_id.data = g.current_organisation.id
    return render_template("core/switch_organisation.html", form=form)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The process is up (no dependencies checked)."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """The database answers: the instance can take traffic."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200


@bp.get("/assets/<path:filename>")
def assets(filename: str) -> ResponseReturnValue:
    """nhsuk-frontend's built CSS, JS and images, installed from npm by the set-up."""
    root = Path(current_app.config["NHSUK_FRONTEND_DIR"])
    for folder in (root / "assets", root):
        if (folder / filename).is_file():
            return send_from_directory(folder, filename, max_age=3600)
    abort(404)


@bp.get("/accessibility")
def accessibility() -> ResponseReturnValue:
    return render_template("core/accessibility.html")


@bp.get("/privacy")
def privacy() -> ResponseReturnValue:
    return render_template("core/privacy.html")
