from __future__ import annotations

import functools
import hashlib
import io
import mimetypes
from pathlib import Path

from flask import (
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    send_file,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.security import safe_join
from wtforms.fields.choices import SelectChoice

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


@functools.lru_cache(maxsize=128)
def _cached_file(folders: tuple[str, ...], filename: str) -> tuple[bytes, str, float] | None:
    """A file's bytes, ETag and modification time, read once per process.

    Assets are small and fixed for a release; holding them in memory means no file handle
    outlives a response that a client abandons half-way. ``safe_join`` refuses ``..``.
    """
    for folder in folders:
        path = safe_join(folder, filename)
        try:
            if path is None or not Path(path).is_file():
                continue
            data = Path(path).read_bytes()
            modified = Path(path).stat().st_mtime
        except OSError:  # a name the file system refuses (too long, say) is no file
            continue
        return data, hashlib.sha256(data).hexdigest()[:32], modified
    return None


def send_cached_file(folders: tuple[str, ...], filename: str) -> ResponseReturnValue:
    """Serve ``filename`` from the first of ``folders`` holding it (404 otherwise)."""
    found = _cached_file(folders, filename)
    if found is None:
        abort(404)
    data, etag, modified = found
    return send_file(
        io.BytesIO(data),
        mimetype=mimetypes.guess_type(filename)[0] or "application/octet-stream",
        etag=etag,
        last_modified=modified,
        max_age=3600,
        conditional=True,
    )


@bp.get("/assets/<path:filename>")
@public
def assets(filename: str) -> ResponseReturnValue:
    """nhsuk-frontend's built CSS, JS and images, installed from npm by the set-up."""
    root = Path(current_app.config["NHSUK_FRONTEND_DIR"])
    return send_cached_file((str(root / "assets"), str(root)), filename)


@public
def static(filename: str) -> ResponseReturnValue:
    """The portal's own CSS and JavaScript (registered as Flask's ``static`` endpoint)."""
    return send_cached_file((str(Path(__file__).resolve().parent.parent / "static"),), filename)


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
