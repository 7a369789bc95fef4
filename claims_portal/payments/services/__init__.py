"""The payments rules (issue 15): paycodes (``paycodes.py``)."""

from claims_portal.payments.services.paycodes import (
    PAYCODE_FIELDS,
    PaymentsError,
    add_paycode,
    find_paycode,
    update_paycode,
)

__all__ = ["PAYCODE_FIELDS", "PaymentsError", "add_paycode", "find_paycode", "update_paycode"]
