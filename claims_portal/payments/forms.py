"""The ICB's payments settings form (the service checks every value again)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField


class PaymentSettingsForm(FlaskForm):
    agency_account = StringField("Payments agency account reference")
    finance_contacts = TextAreaField("Finance contacts' email addresses")
    cut_off_working_days = StringField("Cut-off, in working days before the payment date")
    payment_day = StringField("Expected payment day of the month")
