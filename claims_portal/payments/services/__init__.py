"""The payments rules (issue 15): paycodes (``paycodes.py``) and each ICB's payments
settings (``icb_settings.py``)."""

from claims_portal.payments.services.icb_settings import (
    SETTINGS_CAPABILITIES,
    PaymentSettings,
    can_set_payment_settings,
    payment_settings,
    set_payment_settings,
)
from claims_portal.payments.services.paycodes import (
    PAYCODE_FIELDS,
    PaymentsError,
    add_paycode,
    find_paycode,
    update_paycode,
)

__all__ = [
    "PAYCODE_FIELDS",
    "SETTINGS_CAPABILITIES",
    "PaymentSettings",
    "PaymentsError",
    "add_paycode",
    "can_set_payment_settings",
    "find_paycode",
    "payment_settings",
    "set_payment_settings",
    "update_paycode",
]
