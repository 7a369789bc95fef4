"""Signing in (password, then a security code when two-factor is on), out, and passwords."""

from __future__ import annotations

from typing import Any

from flask import flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from claims_portal import clock, session_timeout, unit_of_work
from claims_portal.access import bp, current, throttling
from claims_portal.access import services as access_services
from claims_portal.access.forms import (
    ForgottenPasswordForm,
    NewPasswordForm,
    SecurityCodeForm,
    SignInForm,
)
from claims_portal.access.models import TokenPurpose, User
from claims_portal.access.services import mfa, tokens
from claims_portal.access.views._common import links, show_error
from claims_portal.audit.services import record_event
from claims_portal.extensions import db
from claims_portal.routes import public, signed_in
from claims_portal.security import is_safe_redirect
from claims_portal.service_settings import access_settings

#: Flask-session key of a sign-in waiting for its security code (password already checked).
MFA_PENDING = "mfa_pending"
MFA_PENDING_SECONDS = 300


def _log_in(user: User, token: str) -> None:
    session_timeout.clear_session_keeping_form()  # nothing else from before carries over
    user.session_token = token
    login_user(user)


def _after_sign_in(next_url: str | None) -> Response:
    return redirect(next_url if is_safe_redirect(next_url) else url_for("core.home"))


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> str | Response:
    next_url = request.values.get("next")
    if current_user.is_authenticated:
        return _after_sign_in(next_url)
    form = SignInForm()
    if form.validate_on_submit():
        throttling.count_attempt()
        check = access_services.check_password(
            db.session,
            email=form.email.data or "",
            password=form.password.data or "",
            settings=access_settings(),
            ip_address=request.remote_addr,
        )
        if check.user is not None and mfa.needs_second_factor(check.user):
            user_id = check.user.id
            session_timeout.clear_session_keeping_form()
            session[MFA_PENDING] = {
                "user_id": user_id,
                "expires": clock.timestamp() + MFA_PENDING_SECONDS,
                "next": next_url if is_safe_redirect(next_url) else None,
            }
            return redirect(url_for("access.sign_in_code"))
        if check.user is not None:
            user = check.user
            token = access_services.complete_sign_in(
                db.session,
                user,
                user_agent=request.user_agent.string,
                ip_address=request.remote_addr,
            )
            _log_in(user, token)
            return _after_sign_in(next_url)
        unit_of_work.keep_on_refusal()  # the failure count, a lock, the audit
        form.form_errors.append(check.error or access_services.GENERIC_SIGN_IN_ERROR)
        form.password.data = ""
    return render_template("access/sign_in.html", form=form, next_url=next_url)


def _pending_user() -> tuple[User | None, dict[str, Any]]:
    pending = session.get(MFA_PENDING) or {}
    if not pending or float(pending.get("expires", 0)) < clock.timestamp():
        return None, {}
    user = db.session.get(User, int(pending["user_id"]))
    return user, pending


@bp.route("/sign-in/security-code", methods=["GET", "POST"])
@public
def sign_in_code() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    user, pending = _pending_user()
    if user is None:
        session.pop(MFA_PENDING, None)
        flash("Your sign-in timed out. Sign in again.", "info")
        return redirect(url_for("access.sign_in"))
    form = SecurityCodeForm()
    if form.validate_on_submit():
        throttling.count_attempt()
        try:
            method = mfa.verify(
                db.session,
                user,
                form.code.data or "",
                settings=access_settings(),
                ip_address=request.remote_addr,
            )
        except access_services.AccessError as error:
            unit_of_work.keep_on_refusal()  # the failure counts towards the lockout
            show_error(form, error)
        else:
            token = access_services.complete_sign_in(
                db.session,
                user,
                method=f"password and {method}",
                user_agent=request.user_agent.string,
                ip_address=request.remote_addr,
            )
            remaining = mfa.remaining_recovery_codes(db.session, user)
            _log_in(user, token)
            if method == "recovery code":
                flash(
                    f"You signed in with a recovery code. You have {remaining} left: "
                    "make new ones from Your account if you are running out.",
                    "info",
                )
            return _after_sign_in(pending.get("next"))
    form.code.data = ""
    return render_template("access/sign_in_code.html", form=form)


@bp.post("/sign-out")
@signed_in
def sign_out() -> Response:
    user = current.person()
    if user.session_token:
        access_services.end_session(db.session, user.session_token, actor=user)
    logout_user()
    session.clear()
    if request.form.get("timed_out"):  # the timeout warning's time ran out
        flash(session_timeout.timed_out_message(), "info")
    else:
        flash("You have signed out.", "success")
    return redirect(url_for("access.sign_in"))


@bp.post("/stay-signed-in")
@signed_in
def stay_signed_in() -> Response:
    """The timeout warning's "Stay signed in": counts as activity (a JSON answer)."""
    token = current.person().session_token or ""
    return jsonify(expires_in=session_timeout.stay_signed_in(token))


@bp.post("/sign-out-everywhere")
@signed_in
def sign_out_everywhere() -> Response:
    user = current.person()
    ended = access_services.end_all_sessions(db.session, user)
    record_event(
        db.session,
        action="user.signed_out_everywhere",
        object_type="user",
        object_id=user.id,
        actor=user,
        after={"sessions_ended": ended},
    )
    logout_user()
    session.clear()
    flash("You have signed out on every device.", "success")
    return redirect(url_for("access.sign_in"))


@bp.route("/forgotten-password", methods=["GET", "POST"])
@public
def forgotten_password() -> str | Response:
    form = ForgottenPasswordForm()
    if form.validate_on_submit():
        throttling.count_attempt()
        settings = access_settings()
        tokens.request_password_reset(
            db.session,
            form.email.data or "",
            links=links(),
            settings=settings,
            ip_address=request.remote_addr,
        )
        minutes = settings.password_reset_link_lifetime.seconds // 60
        # The same answer whether or not the address has an account.
        flash(
            f"If {form.email.data} has an account, we have emailed it a link to reset the "
            f"password. The link works once, for {minutes} minutes.",
            "success",
        )
        return redirect(url_for("access.sign_in"))
    return render_template("access/forgotten_password.html", form=form)


def _set_password_page(
    token: str, purposes: set[TokenPurpose], template: str, action: Any, done: str
) -> str | Response | tuple[str, int]:
    try:
        row = tokens.find_token(db.session, token, purposes)
    except tokens.InvalidLink:
        return render_template("access/link_expired.html"), 410
    email = row.user.email
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            action(db.session, token, form.password.data or "", links=links())
        except access_services.AccessError as error:
            show_error(form, error)
        else:
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash(done, "success")
            return redirect(url_for("access.sign_in"))
    return render_template(template, form=form, email=email, purpose=row.purpose)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str) -> str | Response | tuple[str, int]:
    return _set_password_page(
        token,
        {TokenPurpose.PASSWORD_RESET},
        "access/reset_password.html",
        tokens.reset_password,
        "Your password has been changed and you have been signed out everywhere. "
        "Sign in with your new password.",
    )


@bp.route("/complete-registration/<token>", methods=["GET", "POST"])
@public
def complete_registration(token: str) -> str | Response | tuple[str, int]:
    return _set_password_page(
        token,
        {TokenPurpose.REGISTRATION, TokenPurpose.INVITATION},
        "access/complete_registration.html",
        tokens.complete_registration,
        "Your account is ready. Sign in with your email address and new password.",
    )
