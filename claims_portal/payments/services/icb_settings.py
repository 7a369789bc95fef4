"""Each ICB's payments settings: the agency account it pays through, its finance contacts,
its cut-off for the month's payments and the expected payment day.

Set by the ICB's administrators or finance staff; every change audited
(``icb_payment_settings.changed``, the changed fields before and after).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import PermissionDenied, has_capability
from claims_portal.audit.services import record_event
from claims_portal.db import DbSession, utcnow
from claims_portal.organisations.models import Organisation, OrganisationKind
from claims_portal.payments.models import (
    CUT_OFF_WORKING_DAYS,
    DEFAULT_CUT_OFF_WORKING_DAYS,
    DEFAULT_PAYMENT_DAY,
    MAX_FINANCE_CONTACTS,
    IcbPaymentSettings,
)
from claims_portal.payments.services.paycodes import PaymentsError
from claims_portal.rules import Problem

#: Who may change an ICB's payments settings (any one of these in the ICB).
SETTINGS_CAPABILITIES = (Capability.CONFIGURE_SCHEMES, Capability.APPROVE_CLAIM_FINANCE)
_ACCOUNT = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}$")
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
FIELDS = ("agency_account", "finance_contacts", "cut_off_working_days", "payment_day")


@dataclass(frozen=True)
class PaymentSettings:
    """What applies to an ICB (its row, or the defaults when it has none)."""

    agency_account: str | None
    finance_contacts: tuple[str, ...]
    cut_off_working_days: int
    payment_day: int


def payment_settings(session: DbSession, icb: Organisation) -> PaymentSettings:
    row = session.scalar(select(IcbPaymentSettings).where(IcbPaymentSettings.icb_id == icb.id))
    if row is None:
        return PaymentSettings(None, (), DEFAULT_CUT_OFF_WORKING_DAYS, DEFAULT_PAYMENT_DAY)
    return PaymentSettings(
        row.agency_account,
        tuple(row.finance_contacts),
        row.cut_off_working_days,
        row.payment_day,
    )


def can_set_payment_settings(user: User, icb: Organisation) -> bool:
    return any(has_capability(user, c, icb) for c in SETTINGS_CAPABILITIES)


def _whole(text: Any) -> int | None:
    text = str(text if text is not None else "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 3 else None


def _clean(
    agency_account: Any, finance_contacts: Any, cut_off_working_days: Any, payment_day: Any
) -> dict[str, Any]:
    problems: list[Problem] = []
    account = str(agency_account or "").strip().upper()
    if not _ACCOUNT.match(account):
        problems.append(
            Problem(
                "Enter the agency account reference: 2 to 40 capital letters, digits and hyphens",
                "agency_account",
            )
        )
    contacts: list[str] = []
    for item in re.split(r"[\s,;]+", str(finance_contacts or "")):
        email = item.strip().lower()
        if not email:
            continue
        if not _EMAIL.match(email) or len(email) > 254:
            problems.append(
                Problem(
                    f"{item[:60]} is not an email address, like name@nhs.net", "finance_contacts"
                )
            )
        elif email not in contacts:
            contacts.append(email)
    if not contacts and not any(p.field == "finance_contacts" for p in problems):
        problems.append(
            Problem("Enter at least one finance contact's email address", "finance_contacts")
        )
    elif len(contacts) > MAX_FINANCE_CONTACTS:
        problems.append(
            Problem(f"Enter {MAX_FINANCE_CONTACTS} finance contacts at most", "finance_contacts")
        )
    cut_off = _whole(cut_off_working_days)
    low, high = CUT_OFF_WORKING_DAYS[0], CUT_OFF_WORKING_DAYS[-1]
    if cut_off is None or not low <= cut_off <= high:
        problems.append(
            Problem(
                f"The cut-off must be {low} or {high} working days before the payment date",
                "cut_off_working_days",
            )
        )
    day = _whole(payment_day)
    if day is None or not 1 <= day <= 28:
        problems.append(
            Problem("The payment day must be a day of the month from 1 to 28", "payment_day")
        )
    if problems:
        raise PaymentsError(problems)
    return {
        "agency_account": account,
        "finance_contacts": contacts,
        "cut_off_working_days": cut_off,
        "payment_day": day,
    }


def set_payment_settings(
    session: DbSession,
    icb: Organisation,
    *,
    actor: User,
    agency_account: Any,
    finance_contacts: Any,
    cut_off_working_days: Any,
    payment_day: Any,
) -> bool:
    """Save the ICB's payments settings; True if anything changed. ``finance_contacts`` is
    text holding email addresses (separated by commas, semicolons, spaces or lines).

    Raises ``PermissionDenied`` unless ``actor`` is the ICB's administrator or finance, and
    ``PaymentsError`` listing every problem with the values.
    """
    if icb.kind is not OrganisationKind.ICB:
        raise PaymentsError("Payments settings are kept for an ICB")
    if not can_set_payment_settings(actor, icb):
        raise PermissionDenied(f"{actor.email} may not set payments settings for {icb.ods_code}")
    values = _clean(agency_account, finance_contacts, cut_off_working_days, payment_day)
    row = session.scalar(
        select(IcbPaymentSettings).where(IcbPaymentSettings.icb_id == icb.id).with_for_update()
    )
    if row is None:
        before: dict[str, Any] = {}
        changed = list(FIELDS)
        row = IcbPaymentSettings(icb_id=icb.id)
        session.add(row)
    else:
        changed = [name for name in FIELDS if getattr(row, name) != values[name]]
        if not changed:
            return False
        before = {name: getattr(row, name) for name in changed}
    for name in changed:
        setattr(row, name, values[name])
    row.updated_at = utcnow()
    row.updated_by_id = actor.id
    session.flush()
    record_event(
        session,
        action="icb_payment_settings.changed",
        object_type="icb_payment_settings",
        object_id=row.id,
        actor=actor,
        organisation=icb,
        before=before,
        after={name: values[name] for name in changed},
    )
    return True
