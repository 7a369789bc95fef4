"""The payments rules (issue 15): paycodes (``paycodes.py``) and each ICB's payments
settings (``icb_settings.py``)."""

from claims_portal.payments.services.finance import (
    PaymentsConflict,
    PaymentsNotFound,
    PaymentsRefused,
    held_claims,
    rejected_payments,
    take_payment_step,
    to_pay_by_hand,
    waiting_for_the_run,
)
from claims_portal.payments.services.icb_settings import (
    SETTINGS_CAPABILITIES,
    PaymentSettings,
    can_set_payment_settings,
    payment_settings,
    set_payment_settings,
)
from claims_portal.payments.services.manual import (
    check_manual_payment,
    record_manual_payments,
)
from claims_portal.payments.services.paycodes import (
    PAYCODE_FIELDS,
    PaymentsError,
    add_paycode,
    find_paycode,
    update_paycode,
)
from claims_portal.payments.services.recoveries import (
    RECOVERY,
    decide_recovery,
    mark_recovered,
    raise_recovery,
    recoverable,
)
from claims_portal.payments.services.statements import (
    STATEMENTS_JOB,
    STATEMENTS_PATH,
    issue_due_statements,
    issue_statements,
    parse_month,
    payment_claims,
    payments_summary,
    practice_recoveries,
    statement_for,
    statement_months,
    statements_due,
)

__all__ = [
    "PAYCODE_FIELDS",
    "RECOVERY",
    "SETTINGS_CAPABILITIES",
    "STATEMENTS_JOB",
    "STATEMENTS_PATH",
    "PaymentSettings",
    "PaymentsConflict",
    "PaymentsError",
    "PaymentsNotFound",
    "PaymentsRefused",
    "add_paycode",
    "can_set_payment_settings",
    "check_manual_payment",
    "decide_recovery",
    "find_paycode",
    "held_claims",
    "issue_due_statements",
    "issue_statements",
    "mark_recovered",
    "parse_month",
    "payment_claims",
    "payment_settings",
    "payments_summary",
    "practice_recoveries",
    "raise_recovery",
    "record_manual_payments",
    "recoverable",
    "rejected_payments",
    "set_payment_settings",
    "statement_for",
    "statement_months",
    "statements_due",
    "take_payment_step",
    "to_pay_by_hand",
    "update_paycode",
    "waiting_for_the_run",
]
