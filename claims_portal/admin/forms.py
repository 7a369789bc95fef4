"""Admin forms: explicit FlaskForm classes (no scaffolding), choices filled per request.

Choices are ``SelectChoice`` objects (WTForms 3.3 deprecates tuples); the lists that depend
on the user's ICB (commissioners, schemes, providers) are set by the views on each request,
so a record outside the user's scope is not a valid choice.

Every typed value is bounded to what its column and the date arithmetic behind it take:
dates from 2000 to 2099 (:class:`DayField`), amounts in pounds and pence under ten billion
(:class:`MoneyField`, ``Numeric(12, 2)``), whole numbers within stated ranges (``integer``
columns), so an out-of-range value is a form error, never a database or overflow error.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal, InvalidOperation
from typing import Any

import wtforms
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from claims_portal.schemes.models import ClaimFrequency, EvidenceRequirement, QuestionKind


class EnumSelectField(SelectField):
    """A select over a ``StrEnum``: posts member names, shows values, gives back members."""

    def __init__(self, label: str, enum_class: type[enum.Enum], **kwargs: Any) -> None:
        kwargs.setdefault("validators", [InputRequired(f"Choose the {label.lower()}")])
        super().__init__(
            label, choices=[SelectChoice(m.name, str(m.value)) for m in enum_class], **kwargs
        )
        self.enum_class = enum_class

    def process_data(self, value: Any) -> None:
        self.data = value.name if isinstance(value, enum.Enum) else value

    @property
    def member(self) -> Any:
        return self.enum_class.__members__.get(self.data or "")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AtLeastOne:
    """Require a choice without the ``required`` attribute, which on a list of checkboxes
    would make the browser demand that every box be ticked."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        if not field.data:
            raise wtforms.validators.StopValidation(self.message)


EARLIEST_DAY = dt.date(2000, 1, 1)
LATEST_DAY = dt.date(2099, 12, 31)
#: ``Numeric(12, 2)``: amounts stay below ten billion pounds.
MONEY_LIMIT = Decimal("10000000000")
MAX_CAP_UNITS = 100_000_000
MAX_DISPLAY_ORDER = 10_000


class DayField(DateField):
    """A date from 2000 to 2099. Scheme dates lie around today; 9999-12-31 would parse but
    overflow the window arithmetic (a day after it does not exist)."""

    def pre_validate(self, form: Any) -> None:
        if self.data is not None and not EARLIEST_DAY <= self.data <= LATEST_DAY:
            raise ValidationError("Enter a date from 1 January 2000 to 31 December 2099")


class MoneyField(DecimalField):
    """An amount in pounds and pence that a ``Numeric(12, 2)`` column holds.

    WTForms reads ``1e100``, ``NaN`` and ``1.234`` as decimals (which then fail in
    ``quantize``, in ``NumberRange`` or in the database); here they are form errors.
    """

    def __init__(self, label: str, **kwargs: Any) -> None:
        super().__init__(label, places=2, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        text = str(valuelist[0]).strip()
        if not text:
            self.data = None
            return
        self.data = None
        try:
            amount = Decimal(text)
        except (InvalidOperation, ValueError):
            raise ValueError("Enter an amount in pounds, like 25.50") from None
        if not amount.is_finite():
            raise ValueError("Enter an amount in pounds, like 25.50")
        if amount.copy_abs() >= MONEY_LIMIT:  # abs() would round, and overflow on 1E+999999999
            raise ValueError("Enter an amount under £10,000,000,000")
        if amount != amount.quantize(Decimal("0.01")):
            raise ValueError("Enter an amount in pounds and pence, like 25.50")
        self.data = amount.quantize(Decimal("0.01"))


def _optional_units(label: str) -> IntegerField:
    return IntegerField(
        label,
        validators=[
            Optional(),
            NumberRange(
                min=0,
                max=MAX_CAP_UNITS,
                message=f"Enter a whole number from 0 to {MAX_CAP_UNITS:,}",
            ),
        ],
    )


def _optional_money(label: str) -> MoneyField:
    return MoneyField(
        label,
        validators=[Optional(), NumberRange(min=0, message="Enter an amount, 0 or more")],
    )


def _display_order() -> IntegerField:
    return IntegerField(
        "Order",
        default=0,
        validators=[
            Optional(),
            NumberRange(
                min=0,
                max=MAX_DISPLAY_ORDER,
                message=f"Enter a whole number from 0 to {MAX_DISPLAY_ORDER:,}",
            ),
        ],
    )


class SchemeForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[InputRequired("Enter the scheme's code"), Length(max=30)],
        description="Capital letters, digits and hyphens, like LES-HC-2627",
    )
    name = StringField("Name", validators=[InputRequired("Enter the name"), Length(max=200)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])
    commissioner_id = SelectField(
        "Commissioner", coerce=int, validators=[InputRequired("Choose the commissioner")]
    )
    financial_year = SelectField(
        "Financial year", validators=[InputRequired("Choose the financial year")]
    )
    start_date = DayField("Start date", validators=[InputRequired("Enter the start date")])
    end_date = DayField("End date", validators=[InputRequired("Enter the end date")])
    claim_frequency = EnumSelectField("Claim frequency", ClaimFrequency)
    window_days = IntegerField(
        "Days each claim window stays open after its period ends",
        default=30,
        validators=[InputRequired("Enter a number of days"), NumberRange(min=1, max=366)],
    )
    evidence_requirement = EnumSelectField("Evidence", EvidenceRequirement)
    multi_service_claims = BooleanField("Several services may be claimed in one claim")
    participation_only = BooleanField("Participation only (no payment lines)")
    pay_through_agency = BooleanField("Pay through the payments agency", default=True)
    agency_enrolment_date = DayField(
        "Paid through the agency from (enrolment date)",
        validators=[Optional()],
        description=(
            "Claims approved before this date are never paid through the agency; empty: the"
            " scheme's start date. Locked once published"
        ),
    )
    # Choices from the paycode list (admin/schemes.py); the schemes service refuses a code
    # not in the list, with its own message, so the field does not check the choice.
    paycode = SelectField(
        "Paycode",
        validators=[Optional()],
        validate_choice=False,
        description=(
            "From the paycode list (Administration, Paycodes). Required when paying through"
            " the payments agency; locked once published"
        ),
    )
    shared_with_ids = MultiCheckboxField("Share with other commissioners", coerce=int)


class ComponentFields(FlaskForm):
    code = StringField("Code", validators=[InputRequired("Enter the code"), Length(max=30)])
    name = StringField("Name", validators=[InputRequired("Enter the name"), Length(max=200)])
    unit_label = StringField(
        "Unit label",
        validators=[InputRequired("Enter the unit label"), Length(max=120)],
        description="What one unit is, like “health check completed”",
    )
    max_units_per_claim = _optional_units("Maximum units per claim")
    period_cap_units = _optional_units("Cap per period (units)")
    period_cap_amount = _optional_money("Cap per period (£)")
    year_cap_units = _optional_units("Cap per year (units)")
    year_cap_amount = _optional_money("Cap per year (£)")
    evidence_required = BooleanField("Evidence required (when the scheme sets it per component)")


class ComponentCreateForm(ComponentFields):
    scheme_id = SelectField("Scheme", coerce=int, validators=[InputRequired("Choose the scheme")])


# Made before the other tariff fields, so that forms list it first (WTForms keeps the order
# fields were made in).
_TARIFF_COMPONENT = SelectField(
    "Component", coerce=int, validators=[InputRequired("Choose the component")]
)


class TariffFields(FlaskForm):
    """A tariff's edit page: its component is fixed (shown above the form, never posted)."""

    unit_value = MoneyField(
        "Unit value (£)",
        validators=[InputRequired("Enter the unit value"), NumberRange(min=0)],
    )
    effective_from = DayField(
        "Takes effect on",
        validators=[InputRequired("Enter the date it takes effect")],
        description="Prices every claim period starting on or after this date",
    )


class TariffForm(TariffFields):
    component_id = _TARIFF_COMPONENT


class WindowForm(FlaskForm):
    scheme_id = SelectField("Scheme", coerce=int, validators=[InputRequired("Choose the scheme")])
    period_start = DayField("Period starts", validators=[InputRequired("Enter the start")])
    period_end = DayField("Period ends", validators=[InputRequired("Enter the end")])
    opens_on = DayField(
        "Window opens",
        validators=[Optional()],
        description="Leave empty for the day after the period ends",
    )
    closes_on = DayField(
        "Window closes",
        validators=[Optional()],
        description="Leave empty for the scheme's window length after the period ends",
    )


class WindowEditForm(FlaskForm):
    period_start = DayField("Period starts", validators=[InputRequired("Enter the start")])
    period_end = DayField("Period ends", validators=[InputRequired("Enter the end")])
    opens_on = DayField("Window opens", validators=[InputRequired("Enter the date")])
    closes_on = DayField("Window closes", validators=[InputRequired("Enter the date")])


class QuestionFields(FlaskForm):
    text = StringField(
        "Question", validators=[InputRequired("Enter the question"), Length(max=500)]
    )
    kind = EnumSelectField("Kind of answer", QuestionKind)
    required = BooleanField("An answer is required", default=True)
    help_text = StringField("Help text", validators=[Optional(), Length(max=500)])
    choices = TextAreaField(
        "Choices (single choice only, one per line)", validators=[Optional(), Length(max=5000)]
    )
    display_order = _display_order()


class QuestionCreateForm(QuestionFields):
    scheme_id = SelectField("Scheme", coerce=int, validators=[InputRequired("Choose the scheme")])


class OfferForm(FlaskForm):
    scheme_id = SelectField(
        "Scheme (published)", coerce=int, validators=[InputRequired("Choose the scheme")]
    )
    provider_ids = MultiCheckboxField(
        "Offer to",
        coerce=int,
        validators=[AtLeastOne("Choose at least one practice, PCN or federation")],
    )


# --- Inline forms (rows inside a parent form; the parent carries the CSRF token) ------------


class ComponentInlineForm(wtforms.Form):
    id = HiddenField()
    code = StringField("Code", validators=[InputRequired("Enter the code"), Length(max=30)])
    name = StringField("Name", validators=[InputRequired("Enter the name"), Length(max=200)])
    unit_label = StringField(
        "Unit label", validators=[InputRequired("Enter the unit label"), Length(max=120)]
    )
    max_units_per_claim = _optional_units("Maximum units per claim")
    period_cap_units = _optional_units("Cap per period (units)")
    period_cap_amount = _optional_money("Cap per period (£)")
    year_cap_units = _optional_units("Cap per year (units)")
    year_cap_amount = _optional_money("Cap per year (£)")
    evidence_required = BooleanField("Evidence required")
    new_unit_value = _optional_money("Add a tariff: unit value (£)")
    new_effective_from = DayField("Add a tariff: takes effect on", validators=[Optional()])


class QuestionInlineForm(wtforms.Form):
    id = HiddenField()
    text = StringField(
        "Question", validators=[InputRequired("Enter the question"), Length(max=500)]
    )
    kind = EnumSelectField("Kind of answer", QuestionKind)
    required = BooleanField("An answer is required", default=True)
    help_text = StringField("Help text", validators=[Optional(), Length(max=500)])
    choices = TextAreaField("Choices (single choice only, one per line)", validators=[Optional()])
    display_order = _display_order()


class TariffInlineForm(wtforms.Form):
    id = HiddenField()
    unit_value = MoneyField("Unit value (£)", validators=[InputRequired("Enter the unit value")])
    effective_from = DayField(
        "Takes effect on", validators=[InputRequired("Enter the date it takes effect")]
    )


class PaycodeForm(FlaskForm):
    code = StringField(
        "Paycode",
        validators=[InputRequired("Enter the paycode"), Length(max=30)],
        description="As the payments agency names it, for example LES-ANTICOAG",
    )
    description = StringField(
        "Description", validators=[InputRequired("Enter what it is for"), Length(max=200)]
    )
    subjective_code = StringField(
        "Subjective code (cost centre)",
        validators=[InputRequired("Enter the subjective code"), Length(max=30)],
    )
    contract_types = MultiCheckboxField(
        "Contract types it applies to",
        choices=[SelectChoice(name, name) for name in ("GMS", "PMS", "APMS")],
        validators=[AtLeastOne("Choose at least one contract type")],
    )
