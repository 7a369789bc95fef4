"""Forms on the provider's scheme pages (the admin's forms live in ``claims_portal/admin``)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length, Optional


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token travels with it."""


class RejectOfferForm(FlaskForm):
    reason = TextAreaField(
        "Why are you rejecting this offer? (optional)",
        validators=[
            Optional(),
            Length(max=1000, message="The reason must be 1000 characters or fewer"),
        ],
    )
