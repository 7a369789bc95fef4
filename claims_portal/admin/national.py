"""Admin views for the national quality services catalogue (``national.services``): each
year's services, their indicators and reference values.

Only an administrator of the national commissioner sees them
(``CONFIGURE_NATIONAL_SERVICES`` acting for an organisation of kind national commissioner);
an ICB's administrator holds the capability for its ICB but gets 403 here and no menu entry.
Writes go through ``national.services.catalogue_edits``, which checks the same again,
validates and audits (the audit trail is the history); nothing is created or deleted here:
services come from the shipped data files (``claims-portal national load-services``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import abort, g
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from claims_portal.access import current
from claims_portal.access.roles import Capability
from claims_portal.admin.base import ScopedModelView
from claims_portal.admin.forms import DayField, EnumSelectField
from claims_portal.extensions import db
from claims_portal.inputs import parse_id
from claims_portal.national.models import (
    AchievementDate,
    IndicatorPurpose,
    NationalPrevalence,
    QualityService,
)
from claims_portal.national.services import catalogue_edits as edits
from claims_portal.routes import Kind, Requirement


class BoundedDecimalField(DecimalField):
    """A decimal from 0 to ``maximum``: ``NaN``, ``1e100`` and words are form errors."""

    def __init__(self, label: str, *, maximum: Decimal, **kwargs: Any) -> None:
        super().__init__(label, places=None, **kwargs)
        self.maximum = maximum

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        text = str(valuelist[0]).strip()
        if not text:
            self.data = None
            return
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or not 0 <= value <= self.maximum:
            self.data = None
            raise ValueError(f"Enter a number from 0 to {self.maximum}")
        self.data = value


def _fraction(label: str) -> BoundedDecimalField:
    return BoundedDecimalField(
        label,
        maximum=Decimal(1),
        validators=[Optional()],
        description="A fraction: 0.40 is 40%",
    )


class ServiceForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired("Enter the name"), Length(max=200)])
    start_date = DayField("Start date", validators=[InputRequired("Enter the start date")])
    end_date = DayField("End date", validators=[InputRequired("Enter the end date")])
    response_date = DayField("Response date", validators=[Optional()])
    automatically_accepted = BooleanField("Automatically accepted")
    declaration_required = BooleanField("Declaration required")
    approval_required = BooleanField("Approval required")
    amendment_window_days = IntegerField(
        "Amendment window (days)", validators=[Optional(), NumberRange(min=0, max=3660)]
    )
    source = TextAreaField("Source", validators=[Optional(), Length(max=4000)])


class IndicatorForm(FlaskForm):
    description = TextAreaField(
        "Description", validators=[InputRequired("Enter what it measures"), Length(max=4000)]
    )
    points = BoundedDecimalField(
        "Points", maximum=Decimal(9999), validators=[InputRequired("Enter the points")]
    )
    lower_threshold = _fraction("Lower threshold")
    upper_threshold = _fraction("Upper threshold")
    prevalence_register = StringField(
        "Prevalence register", validators=[Optional(), Length(max=20)]
    )
    purpose = EnumSelectField("Purpose", IndicatorPurpose)
    manual = BooleanField("Entered by hand")
    tick_box = BooleanField("Tick-box (yes or no)")


class ReferenceForm(FlaskForm):
    pounds_per_point = BoundedDecimalField(
        "Pounds per point", maximum=Decimal(9999), validators=[Optional()]
    )
    national_average_list_size = IntegerField(
        "National average list size", validators=[Optional(), NumberRange(min=1, max=10**7)]
    )
    aspiration_share = _fraction("Aspiration share")
    source = TextAreaField("Source", validators=[Optional(), Length(max=4000)])

    def validate_pounds_per_point(self, field: Any) -> None:
        if field.data is not None and field.data != round(field.data, 2):
            raise ValidationError("Enter pounds and pence (two decimal places at most)")


class PrevalenceForm(FlaskForm):
    prevalence = BoundedDecimalField(
        "National prevalence",
        maximum=Decimal(1),
        validators=[InputRequired("Enter the prevalence")],
        description="A fraction: 0.0215 is 2.15%",
    )
    source = TextAreaField("Source", validators=[Optional(), Length(max=4000)])


class PrevalenceCreateForm(PrevalenceForm):
    service_id = SelectField("Service", coerce=int, validate_choice=True)
    register = StringField(
        "Register", validators=[InputRequired("Enter the register's code"), Length(max=20)]
    )


class AchievementDateForm(FlaskForm):
    is_payment_date = BooleanField("Payment date")


class AchievementDateCreateForm(AchievementDateForm):
    service_id = SelectField("Service", coerce=int, validate_choice=True)
    date = DayField(
        "Achievement date",
        validators=[InputRequired("Enter the date")],
        description="The last day of a month",
    )


def _service_choices() -> list[SelectChoice]:
    services = db.session.scalars(
        select(QualityService).order_by(QualityService.financial_year.desc(), QualityService.code)
    )
    return [SelectChoice(s.id, str(s)) for s in services]


def _service_or_404(key: Any) -> QualityService:
    found = parse_id(key)
    service = db.session.get(QualityService, found) if found is not None else None
    if service is None:
        abort(404)
    return service


def _service_label(service_id: int) -> str:
    service = db.session.get(QualityService, service_id)
    return str(service) if service is not None else ""


class NationalModelView(ScopedModelView):
    """A catalogue view: national administrators only, reads and writes alike."""

    required_capability = Capability.CONFIGURE_NATIONAL_SERVICES
    allow_edit = True
    can_view_details = True
    action_disallowed_list = ["delete"]

    @staticmethod
    def _national() -> bool:
        from flask_login import current_user

        return bool(
            current_user.is_authenticated
            and edits.can_configure_national_services(
                current.person(), g.get("current_organisation")
            )
        )

    def is_accessible(self) -> bool:
        return self._national()

    @property
    def can_edit(self) -> bool:  # type: ignore[override]
        return self.allow_edit and self._national()

    @property
    def can_create(self) -> bool:  # type: ignore[override]
        return self.allow_create and self._national()

    @property
    def can_delete(self) -> bool:  # type: ignore[override]
        return self.allow_delete and self._national()

    def requirement_for(self, name: str) -> Requirement:
        return Requirement(Kind.CAPABILITY, (Capability.CONFIGURE_NATIONAL_SERVICES,))

    def _handle_view(self, name: str, **kwargs: Any) -> Any:
        refused = super()._handle_view(name, **kwargs)
        if refused is not None:
            return refused
        if not self._national():
            abort(403)
        return None

    def is_action_allowed(self, name: str) -> bool:
        return False

    def scope(self, query: Any) -> Any:
        return query  # one national catalogue: no ICB's rows to hide

    def _organisation(self) -> Any:
        organisation = g.get("current_organisation")
        assert organisation is not None  # the guard let only a national administrator in
        return organisation


class QualityServiceAdmin(NationalModelView):
    column_list = [
        "code",
        "financial_year",
        "name",
        "kind",
        "payment_type",
        "provider_level",
        "start_date",
        "end_date",
        "automatically_accepted",
        "data_version",
    ]
    column_labels = {"financial_year": "Year", "data_version": "Loaded from"}
    column_formatters = {"financial_year": lambda v, c, m, p: m.year_label}
    column_sortable_list = ["code", "financial_year", "name", "start_date"]
    column_default_sort = [("financial_year", True), ("code", False)]
    column_searchable_list = ["code", "name"]
    column_filters = ["financial_year", "kind", "payment_type"]
    column_details_list = [
        *column_list,
        "response_date",
        "declaration_required",
        "approval_required",
        "amendment_window_days",
        "source",
    ]
    column_export_list = column_list
    form = ServiceForm

    def update_with(self, form: Any, service: Any) -> None:
        edits.update_service(
            db.session,
            service,
            actor=current.person(),
            organisation=self._organisation(),
            name=form.name.data,
            start_date=form.start_date.data,
            end_date=form.end_date.data,
            response_date=form.response_date.data,
            automatically_accepted=bool(form.automatically_accepted.data),
            declaration_required=bool(form.declaration_required.data),
            approval_required=bool(form.approval_required.data),
            amendment_window_days=form.amendment_window_days.data,
            source=form.source.data or "",
        )


class QualityIndicatorAdmin(NationalModelView):
    column_list = [
        "service_id",
        "code",
        "group",
        "description",
        "points",
        "lower_threshold",
        "upper_threshold",
        "prevalence_register",
        "manual",
        "purpose",
    ]
    column_labels = {
        "service_id": "Service",
        "lower_threshold": "Lower",
        "upper_threshold": "Upper",
        "prevalence_register": "Register",
        "manual": "Manual",
    }
    column_formatters = {
        "service_id": lambda v, c, m, p: _service_label(m.service_id),
        "group": lambda v, c, m, p: m.group.description,
    }
    column_formatters_export = column_formatters
    column_sortable_list = ["code", "points", "service_id"]
    column_default_sort = [("service_id", True), ("code", False)]
    column_searchable_list = ["code", "description", "prevalence_register"]
    column_filters = ["service_id", "manual", "purpose"]
    column_details_list = [*column_list, "tick_box"]
    column_export_list = column_list
    form = IndicatorForm

    def update_with(self, form: Any, indicator: Any) -> None:
        edits.update_indicator(
            db.session,
            indicator,
            actor=current.person(),
            organisation=self._organisation(),
            description=form.description.data,
            points=form.points.data,
            lower_threshold=form.lower_threshold.data,
            upper_threshold=form.upper_threshold.data,
            prevalence_register=form.prevalence_register.data,
            purpose=form.purpose.member,
            manual=bool(form.manual.data),
            tick_box=bool(form.tick_box.data),
        )


class ServiceReferenceAdmin(NationalModelView):
    column_list = [
        "service_id",
        "pounds_per_point",
        "national_average_list_size",
        "aspiration_share",
        "source",
    ]
    column_labels = {
        "service_id": "Service",
        "national_average_list_size": "National average list size",
    }
    column_formatters = {"service_id": lambda v, c, m, p: _service_label(m.service_id)}
    column_formatters_export = column_formatters
    column_sortable_list = ["service_id"]
    column_default_sort = ("service_id", True)
    column_export_list = column_list
    form = ReferenceForm

    def update_with(self, form: Any, reference: Any) -> None:
        service = db.session.get(QualityService, reference.service_id)
        if service is None:
            abort(404)
        edits.update_reference(
            db.session,
            service,
            actor=current.person(),
            organisation=self._organisation(),
            pounds_per_point=form.pounds_per_point.data,
            national_average_list_size=form.national_average_list_size.data,
            aspiration_share=form.aspiration_share.data,
            source=form.source.data or "",
        )


class NationalPrevalenceAdmin(NationalModelView):
    """Each year's national prevalence per register: added when NHS England publishes it."""

    allow_create = True
    column_list = ["service_id", "register", "prevalence", "source"]
    column_labels = {"service_id": "Service", "prevalence": "National prevalence"}
    column_formatters = {"service_id": lambda v, c, m, p: _service_label(m.service_id)}
    column_formatters_export = column_formatters
    column_sortable_list = ["service_id", "register"]
    column_default_sort = [("service_id", True), ("register", False)]
    column_searchable_list = ["register"]
    column_export_list = column_list

    def get_create_form(self) -> Any:
        return PrevalenceCreateForm

    def get_edit_form(self) -> Any:
        return PrevalenceForm

    def create_form(self, obj: Any = None) -> Any:
        form = super().create_form(obj)
        form.service_id.choices = _service_choices()
        return form

    def _save(self, service: QualityService, register: str, form: Any) -> NationalPrevalence:
        edits.set_national_prevalence(
            db.session,
            service,
            register=register,
            prevalence=form.prevalence.data,
            source=form.source.data or "",
            actor=current.person(),
            organisation=self._organisation(),
        )
        return db.session.scalars(
            select(NationalPrevalence).filter_by(
                service_id=service.id, register=register.strip().upper()
            )
        ).one()

    def create_with(self, form: Any) -> NationalPrevalence:
        return self._save(_service_or_404(form.service_id.data), form.register.data or "", form)

    def update_with(self, form: Any, prevalence: Any) -> None:
        self._save(_service_or_404(prevalence.service_id), prevalence.register, form)


class AchievementDateAdmin(NationalModelView):
    """A service's achievement dates (month ends), payment dates among them."""

    allow_create = allow_delete = True
    column_list = ["service_id", "date", "is_payment_date"]
    column_labels = {"service_id": "Service", "is_payment_date": "Payment date"}
    column_formatters = {"service_id": lambda v, c, m, p: _service_label(m.service_id)}
    column_formatters_export = column_formatters
    column_sortable_list = ["service_id", "date"]
    column_default_sort = [("service_id", True), ("date", False)]
    column_filters = ["service_id", "is_payment_date"]
    column_export_list = column_list

    def get_create_form(self) -> Any:
        return AchievementDateCreateForm

    def get_edit_form(self) -> Any:
        return AchievementDateForm

    def create_form(self, obj: Any = None) -> Any:
        form = super().create_form(obj)
        form.service_id.choices = _service_choices()
        return form

    def create_with(self, form: Any) -> AchievementDate:
        return edits.set_achievement_date(
            db.session,
            _service_or_404(form.service_id.data),
            form.date.data,
            is_payment_date=bool(form.is_payment_date.data),
            actor=current.person(),
            organisation=self._organisation(),
        )

    def update_with(self, form: Any, row: Any) -> None:
        edits.set_achievement_date(
            db.session,
            _service_or_404(row.service_id),
            row.date,
            is_payment_date=bool(form.is_payment_date.data),
            actor=current.person(),
            organisation=self._organisation(),
        )

    def delete_with(self, row: Any) -> None:
        edits.remove_achievement_date(
            db.session, row, actor=current.person(), organisation=self._organisation()
        )
