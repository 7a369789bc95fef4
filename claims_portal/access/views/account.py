"""Your account: details, two-factor authentication, email notifications, your requests."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from claims_portal import unit_of_work
from claims_portal.access import bp, current, throttling
from claims_portal.access.forms import (
    ChangePasswordForm,
    ConfirmForm,
    EnableMfaForm,
    NotificationPreferencesForm,
    PasswordConfirmForm,
)
from claims_portal.access.passwords import verify_password
from claims_portal.access.services import AccessError, access_requests, mfa, tokens
from claims_portal.access.views._common import links, show_error
from claims_portal.clock import today
from claims_portal.extensions import db
from claims_portal.mail import services as mail_services
from claims_portal.mail.kinds import KINDS, Delivery, EmailKind
from claims_portal.routes import signed_in
from claims_portal.service_settings import access_settings

#: The kind the "Email notifications" page offers one email a day for.
APPROVALS = EmailKind.CLAIM_TO_APPROVE
#: Flask-session key of the secret shown on the set-up page until it is confirmed.
MFA_SETUP_SECRET = "mfa_setup_secret"  # noqa: S105 - a session key, not a secret


@bp.get("/account")
@signed_in
def account() -> str:
    user = current.person()
    day = today()
    return render_template(
        "access/account.html",
        memberships=[m for m in user.memberships if m.is_active_on(day)],
        requests=access_requests.requests_of(db.session, user),
        mfa_required=mfa.is_required(user, settings=access_settings()),
        remaining_codes=mfa.remaining_recovery_codes(db.session, user) if user.mfa_enabled else 0,
        withdraw_form=ConfirmForm(),
    )


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password() -> str | Response | tuple[str, int]:
    user = current.person()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        throttling.count_attempt()
        try:
            ended = tokens.change_password(
                db.session,
                user,
                form.current.data or "",
                form.password.data or "",
                session_token=user.session_token or "",
                links=links(),
                settings=access_settings(),
                ip_address=request.remote_addr,
            )
        except AccessError as error:
            unit_of_work.keep_on_refusal()  # a wrong current password is counted (and audited)
            show_error(form, error)
        else:
            others = f" {ended} other signed-in session{'s' if ended != 1 else ''} ended."
            flash("Your password has changed." + (others if ended else ""), "success")
            return redirect(url_for("access.account"))
    return render_template("access/change_password.html", form=form, email=user.email), (
        400 if form.errors else 200
    )


@bp.route("/account/two-factor-authentication", methods=["GET", "POST"])
@signed_in
def mfa_set_up() -> str | Response:
    user = current.person()
    secret = session.get(MFA_SETUP_SECRET)
    if not secret:
        secret = session[MFA_SETUP_SECRET] = mfa.new_secret()
    form = EnableMfaForm()
    if form.validate_on_submit():
        try:
            codes = mfa.enable(
                db.session, user, secret, form.code.data or "", settings=access_settings()
            )
        except AccessError as error:
            show_error(form, error)
        else:
            session.pop(MFA_SETUP_SECRET, None)
            # Shown once, in this response: the codes are never stored in clear.
            return render_template("access/recovery_codes.html", codes=codes, new_setup=True)
    form.code.data = ""
    uri = mfa.provisioning_uri(secret, user.email, settings=access_settings())
    return render_template(
        "access/mfa_set_up.html",
        form=form,
        qr_svg=mfa.qr_code_svg(uri),
        secret_groups=[secret[i : i + 4] for i in range(0, len(secret), 4)],
        required=mfa.is_required(user, settings=access_settings()),
    )


@bp.route("/account/two-factor-authentication/turn-off", methods=["GET", "POST"])
@signed_in
def mfa_turn_off() -> str | Response:
    user = current.person()
    if not user.mfa_enabled:
        return redirect(url_for("access.account"))
    if mfa.is_required(user, settings=access_settings()):
        flash("Your role needs two-factor authentication, so it cannot be turned off.", "info")
        return redirect(url_for("access.account"))
    form = PasswordConfirmForm()
    if form.validate_on_submit():
        if verify_password(user.password_hash, form.password.data or ""):
            mfa.disable(db.session, user, actor=user)
            flash("Two-factor authentication is off.", "success")
            return redirect(url_for("access.account"))
        form.password.errors = [*form.password.errors, "Enter your correct password"]
    return render_template("access/mfa_turn_off.html", form=form)


@bp.route("/account/recovery-codes", methods=["GET", "POST"])
@signed_in
def recovery_codes() -> str | Response:
    user = current.person()
    if not user.mfa_enabled:
        return redirect(url_for("access.mfa_set_up"))
    form = PasswordConfirmForm()
    if form.validate_on_submit():
        if verify_password(user.password_hash, form.password.data or ""):
            codes = mfa.regenerate_recovery_codes(db.session, user)
            return render_template("access/recovery_codes.html", codes=codes, new_setup=False)
        form.password.errors = [*form.password.errors, "Enter your correct password"]
    return render_template("access/recovery_codes_new.html", form=form)


@bp.route("/account/email-notifications", methods=["GET", "POST"])
@signed_in
def email_notifications() -> str | Response:
    user = current.person()
    chosen = mail_services.deliveries_of(db.session, user)
    form = NotificationPreferencesForm()
    # Approval emails have a radio of their own (one each, one a day, off).
    listed = [kind for kind in chosen if kind is not APPROVALS]
    form.kinds.choices = [SelectChoice(kind.value, KINDS[kind].description) for kind in listed]
    if request.method == "POST" and form.validate():
        approvals = Delivery(form.approvals.data)
        enabled = [EmailKind(k) for k in form.kinds.data or []]
        if approvals is not Delivery.OFF:
            enabled.append(APPROVALS)
        daily = [APPROVALS] if approvals is Delivery.DIGEST else []
        mail_services.set_preferences(db.session, user, enabled, daily=daily)
        flash("Your email notification choices are saved.", "success")
        return redirect(url_for("access.account"))
    if request.method == "GET":
        form.kinds.data = [kind.value for kind in listed if chosen[kind] is not Delivery.OFF]
        form.approvals.data = chosen[APPROVALS].value
    always = [info.description for info in KINDS.values() if info.always and info.listed]
    return render_template("access/email_notifications.html", form=form, always=always)
