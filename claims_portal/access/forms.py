from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional

from claims_portal.access.services.policy import MAX_PASSWORD_LENGTH


class SignInForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter your email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
        ],
    )
    password = PasswordField(
        "Password",
        validators=[
            DataRequired("Enter your password"),
            Length(max=1024, message="Password must be 1024 characters or fewer"),
        ],
    )


class SecurityCodeForm(FlaskForm):
    code = StringField(
        "Security code",
        validators=[
            DataRequired("Enter the security code"),
            Length(max=20, message="Enter the 6-digit code, or a recovery code"),
        ],
    )


def _new_password_fields() -> tuple[Any, Any]:
    """A new password and its confirmation (fresh fields each call, so that a form lists
    them after the fields it declares before them)."""
    password = PasswordField(
        "New password",
        validators=[
            DataRequired("Enter a new password"),
            Length(
                max=MAX_PASSWORD_LENGTH,
                message=f"Password must be {MAX_PASSWORD_LENGTH} characters or fewer",
            ),
        ],
    )
    confirm = PasswordField(
        "Confirm new password",
        validators=[
            DataRequired("Enter the new password again"),
            EqualTo("password", message="The passwords do not match"),
        ],
    )
    return password, confirm


class NewPasswordForm(FlaskForm):
    password, confirm = _new_password_fields()


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        "Current password",
        validators=[
            DataRequired("Enter your current password"),
            Length(max=MAX_PASSWORD_LENGTH, message="Enter your current password correctly"),
        ],
    )
    password, confirm = _new_password_fields()


class ForgottenPasswordForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter your email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
        ],
    )


class FindOrganisationForm(FlaskForm):
    class Meta:
        csrf = False  # a search (GET), changes nothing

    q = StringField(
        "Organisation name or ODS code",
        validators=[
            DataRequired("Enter the organisation's name or ODS code"),
            Length(min=2, max=200, message="Enter at least 2 characters"),
        ],
    )


class RequestAccessForm(FlaskForm):
    full_name = StringField(
        "Full name",
        validators=[
            DataRequired("Enter your full name"),
            Length(max=200, message="Full name must be 200 characters or fewer"),
        ],
    )
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter your email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
        ],
    )
    role = RadioField("Which role do you need?", validators=[InputRequired("Select a role")])
    note = TextAreaField(
        "What do you do at this organisation? (optional)",
        validators=[Optional(), Length(max=1000, message="Must be 1000 characters or fewer")],
    )


class DecisionForm(FlaskForm):
    decision = RadioField("Your decision", validators=[InputRequired("Select approve or reject")])
    reason = TextAreaField(
        "Reason (required if you reject the request)",
        validators=[
            Optional(),
            Length(max=1000, message="Reason must be 1000 characters or fewer"),
        ],
    )


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        "Reason (optional)",
        validators=[
            Optional(),
            Length(max=1000, message="Reason must be 1000 characters or fewer"),
        ],
    )


class InviteForm(FlaskForm):
    full_name = StringField(
        "Full name",
        validators=[
            DataRequired("Enter the person's full name"),
            Length(max=200, message="Full name must be 200 characters or fewer"),
        ],
    )
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter the person's email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
        ],
    )
    organisation_id = SelectField(
        "Organisation", coerce=int, validators=[InputRequired("Select an organisation")]
    )
    role = SelectField("Role", validators=[InputRequired("Select a role")])
    #: The address the administrator was warned about and chose to invite anyway.
    checked_email = HiddenField()


class EnableMfaForm(FlaskForm):
    code = StringField(
        "Enter the 6-digit code from your app",
        validators=[
            DataRequired("Enter the 6-digit code from your authenticator app"),
            Length(max=10, message="Enter the 6-digit code from your authenticator app"),
        ],
    )


class PasswordConfirmForm(FlaskForm):
    password = PasswordField(
        "Your password",
        validators=[
            DataRequired("Enter your password"),
            Length(max=1024, message="Password must be 1024 characters or fewer"),
        ],
    )


class NotificationPreferencesForm(FlaskForm):
    kinds = SelectMultipleField("Email me when", validate_choice=True)
    #: How claims waiting for the person's approval are emailed (``mail.kinds.Delivery``).
    approvals = RadioField(
        "Claims waiting for your approval",
        choices=[
            SelectChoice("each", "One email for each claim"),
            SelectChoice("digest", "One email a day listing them"),
            SelectChoice("off", "No emails"),
        ],
        validators=[InputRequired("Select how you want to hear about claims to approve")],
    )
