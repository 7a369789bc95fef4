from __future__ import annotations

from typing import cast

from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user

from claims_portal.access import bp
from claims_portal.access import services as access_services
from claims_portal.access.forms import SignInForm
from claims_portal.access.models import User
from claims_portal.extensions import db
from claims_portal.security import is_safe_redirect

PUBLIC_ENDPOINTS = frozenset({"access.sign_in"})


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    next_url = request.values.get("next")
    if current_user.is_authenticated:
        return redirect(next_url if is_safe_redirect(next_url) else url_for("core.home"))
    form = SignInForm()
    if form.validate_on_submit():
        result = access_services.authenticate(
            db.session,
            email=form.email.data or "",
            password=form.password.data or "",
            user_agent=request.user_agent.string,
            ip_address=request.remote_addr,
        )
        db.session.commit()
        if result.user is not None and result.token is not None:
            session.clear()  # nothing from before sign-in carries over
            result.user.session_token = result.token
            login_user(result.user)
            return redirect(next_url if is_safe_redirect(next_url) else url_for("core.home"))
        form.form_errors.append(result.error or access_services.GENERIC_SIGN_IN_ERROR)
        form.password.data = ""
    return render_template("access/sign_in.html", form=form, next_url=next_url)


@bp.post("/sign-out")
@login_required
def sign_out() -> ResponseReturnValue:
    user = cast(User, current_user)
    if user.session_token:
        access_services.end_session(db.session, user.session_token, actor=user)
    db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("access.sign_in"))


@bp.post("/sign-out-everywhere")
@login_required
def sign_out_everywhere() -> ResponseReturnValue:
    user = cast(User, current_user)
    ended = access_services.end_all_sessions(db.session, user)
    from claims_portal.audit.services import record_event

    record_event(
        db.session,
        action="sign_out.everywhere",
        object_type="user",
        object_id=user.id,
        actor=user,
        after={"sessions_ended": ended},
    )
    db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out on every device.", "success")
    return redirect(url_for("access.sign_in"))
