from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import InputRequired


class SwitchOrganisationForm(FlaskForm):
    organisation_id = RadioField(
        "Which organisation are you working for?",
        coerce=int,
        validators=[InputRequired("Select the organisation you are working for")],
    )
