from __future__ import annotations

from flask import (
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from wtforms.fields.choices import SelectChoice

from claims_portal import static_files
from claims_portal.core import bp
from claims_portal.core.forms import SwitchOrganisationForm
from claims_portal.extensions import db
from claims_portal.request_context import CURRENT_ORGANISATION_KEY
from claims_portal.routes import public, signed_in


@bp.get("/")
@signed_in
def home() -> ResponseReturnValue:
    return render_template("core/home.html")


@bp.route("/switch-organisation", methods=["GET", "POST"])
@signed_in
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
@public
def healthz() -> ResponseReturnValue:
    """The process is up (no dependencies checked)."""
    return jsonify(status="ok")


@bp.get("/readyz")
@public
def readyz() -> ResponseReturnValue:
    """The database answers: the instance can take traffic."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return jsonify(status="unavailable", database="unreachable"), 503  # rolled back
    return jsonify(status="ok", database="ok"), 200


def send_cached_file(folders: tuple[str, ...], filename: str) -> ResponseReturnValue:
    """Serve ``filename`` from the first of ``folders`` holding it (404 otherwise), from
    memory and compressed (claims_portal/static_files.py)."""
    return static_files.send(folders, filename)


# url_for of a static file or an asset names its fingerprint (?v=...), cached for a year.
bp.app_url_defaults(static_files.add_fingerprint)


@bp.get("/assets/<path:filename>")
@public
def assets(filename: str) -> ResponseReturnValue:
    """nhsuk-frontend's built CSS, JS and images, installed from npm by the set-up."""
    return send_cached_file(static_files.folders_for("core.assets", current_app), filename)


@public
def static(filename: str) -> ResponseReturnValue:
    """The portal's own CSS and JavaScript (registered as Flask's ``static`` endpoint)."""
    return send_cached_file(static_files.folders_for("static", current_app), filename)


@bp.get("/accessibility")
@public
def accessibility() -> ResponseReturnValue:
    return render_template("core/accessibility.html")


@bp.get("/privacy")
@public
def privacy() -> ResponseReturnValue:
    return render_template("core/privacy.html")


@bp.get("/cookies")
@public
def cookies() -> ResponseReturnValue:
    return render_template("core/cookies.html")
