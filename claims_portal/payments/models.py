"""Payments reference data: the paycodes administrators keep (issue 15, "Set-up").

A :class:`Paycode` is how the payments agency files a payment: the paycode a scheme is paid
under, what it is for, the subjective code (cost centre) finance books it to, and the GP
contract types it applies to (paycodes are determined by claim type and contract type:
GMS/PMS, or APMS). Changes are recorded in the audit trail (``paycode.added``,
``paycode.updated``), which is the paycode's history. The rules live in ``services/``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from claims_portal.db import UTCDateTime, created_at, intpk, utcnow
from claims_portal.extensions import db

#: The GP contract types, in the order they are shown, with their column names.
CONTRACT_TYPES = {"GMS": "applies_to_gms", "PMS": "applies_to_pms", "APMS": "applies_to_apms"}


class Paycode(db.Model):  # type: ignore[name-defined,misc]
    """One paycode of the payments agency's list (national reference data, not per ICB)."""

    __tablename__ = "paycode"
    __table_args__ = (
        CheckConstraint(
            "applies_to_gms OR applies_to_pms OR applies_to_apms", name="applies_to_a_contract"
        ),
    )

    id: Mapped[intpk]
    #: The agency's paycode (capital letters, digits and hyphens), unique.
    code: Mapped[str] = mapped_column(String(30), unique=True)
    description: Mapped[str] = mapped_column(String(200))
    #: The subjective code (cost centre) finance books payments under this paycode to.
    subjective_code: Mapped[str] = mapped_column(String(30))
    applies_to_gms: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    applies_to_pms: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    applies_to_apms: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    created_at: Mapped[created_at]

    @property
    def contract_types(self) -> list[str]:
        """The contract types it applies to, as users name them (``["GMS", "PMS"]``)."""
        return [name for name, column in CONTRACT_TYPES.items() if getattr(self, column)]

    def __str__(self) -> str:
        return f"{self.code} - {self.description}"


#: Working days before the payment date by which the month's payments are sent (public:
#: "midnight 8 to 9 working days before the contractual payment date").
CUT_OFF_WORKING_DAYS = (8, 9)
DEFAULT_CUT_OFF_WORKING_DAYS = 8
#: National services are paid "on or around the 20th of the month".
DEFAULT_PAYMENT_DAY = 20
MAX_FINANCE_CONTACTS = 5


class IcbPaymentSettings(db.Model):  # type: ignore[name-defined,misc]
    """One ICB's payments settings. Without a row the defaults above apply and the ICB has
    no agency account yet."""

    __tablename__ = "icb_payment_settings"
    __table_args__ = (
        CheckConstraint("cut_off_working_days BETWEEN 8 AND 9", name="cut_off_range"),
        CheckConstraint("payment_day BETWEEN 1 AND 28", name="payment_day_range"),
    )

    id: Mapped[intpk]
    icb_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), unique=True)
    #: The payments agency's reference of the account the ICB pays through.
    agency_account: Mapped[str] = mapped_column(String(40))
    #: Who hears of payment files that fail (email addresses, lower case, at most five).
    finance_contacts: Mapped[list[str]] = mapped_column(JSON, default=list)
    cut_off_working_days: Mapped[int] = mapped_column(Integer)
    #: The day of the month payments are expected in practices' accounts.
    payment_day: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
