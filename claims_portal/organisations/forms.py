from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from claims_portal.organisations.models import ApprovalMode


class ApprovalModeForm(FlaskForm):
    approval_mode = RadioField(
        "How should this practice's claims be approved?",
        choices=[
            SelectChoice(
                ApprovalMode.ONE_STEP.name, "One-step: practice users submit straight to the ICB"
            ),
            SelectChoice(
                ApprovalMode.TWO_STEP.name,
                "Two-step: the practice's provider approver checks claims before the ICB",
            ),
        ],
        validators=[InputRequired("Select how this practice's claims should be approved")],
    )
    reason = TextAreaField(
        "Reason for the change (optional)",
        validators=[
            Optional(),
            Length(max=1000, message="Reason must be 1000 characters or fewer"),
        ],
    )
    #: The mode shown when the page was loaded: saving is refused if it changed meanwhile.
    seen_mode = HiddenField()
