"""Manual entry's forms (``views/entry.py``). The figures of a group are read from the posted
form by name (``AF006-numerator``, ``register-AF``, ``list-size``) and checked by the service
(``manual_entry.check_group``), which names each problem on its figure."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField


class ProviderChoiceForm(FlaskForm):
    """A commissioner chooses the provider to enter figures for (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    ods_code = StringField("The practice's ODS code")


class GroupEntryForm(FlaskForm):
    """A group's figures (read by name), the submission notes and the version seen."""

    notes = TextAreaField("Submission notes")
    #: ``GroupEntry.token``: the version of the figures the person saw.
    token = HiddenField()
