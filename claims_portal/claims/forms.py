"""Fixed forms of the claim pages. The claim page's own fields (units, answers) depend on the
scheme and are read by ``services.entries``."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from claims_portal.pii import NoNhsNumber

REASON_LIMIT = 1000


class StepForm(FlaskForm):
    """A button taking a step: the action and the version the page showed."""

    action = HiddenField(validators=[DataRequired()])
    version = IntegerField(validators=[InputRequired()])


class VersionForm(FlaskForm):
    """A confirmation (removing a file): the version of the claim the page showed."""

    version = IntegerField(validators=[InputRequired()])


class SubmitClaimForm(VersionForm):
    """*Check your answers*: the declaration the submitter confirms."""

    declaration = BooleanField(
        validators=[
            DataRequired(
                "Confirm that the information in this claim is accurate and complete to submit it"
            )
        ]
    )


class ReasonForm(StepForm):
    reason = TextAreaField(
        "Reason",
        validators=[
            Optional(),
            Length(
                max=REASON_LIMIT,
                message=f"The reason must be {REASON_LIMIT:,} characters or fewer",
            ),
            NoNhsNumber(),
        ],
    )


class StartClaimForm(FlaskForm):
    """Which open window (and, for single-service schemes, which component) to claim for.

    Choices are set by the view: ``<window id>`` or ``<window id>:<component id>``.
    """

    option = RadioField(
        "What are you claiming for?",
        choices=[],
        validators=[InputRequired("Select the scheme and period you are claiming for")],
        validate_choice=True,
    )


class FinanceThresholdForm(FlaskForm):
    finance_threshold = StringField(
        "Finance threshold, in pounds",
        validators=[InputRequired("Enter the threshold in pounds, like 15000 or 15000.00")],
    )
    #: The threshold shown when the page was loaded: saving is refused if it changed since.
    seen = HiddenField()
