"""Paycodes: reference data kept by administrators, every change in the audit trail.

The audit events (``paycode.added``, ``paycode.updated``, with the changed fields before and
after) are the paycode's history. A paycode is never deleted: schemes and, later, payment
files name it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import ensure_capability
from claims_portal.audit.services import record_event
from claims_portal.db import DbSession
from claims_portal.organisations.models import Organisation
from claims_portal.payments.models import CONTRACT_TYPES, Paycode
from claims_portal.rules import Problem, RuleError


class PaymentsError(RuleError):
    """A payments rule was broken; ``problems`` lists every one."""


PAYCODE_FIELDS = ("code", "description", "subjective_code", "contract_types")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,29}$")


def _clean(session: DbSession, values: dict[str, Any], current: Paycode | None) -> dict[str, Any]:
    problems: list[Problem] = []
    code = str(values.get("code") or "").strip().upper()
    if not _CODE.match(code):
        problems.append(
            Problem("Enter a paycode of 2 to 30 capital letters, digits and hyphens", "code")
        )
    else:
        taken = session.scalar(
            select(Paycode.id).where(
                func.upper(Paycode.code) == code, Paycode.id != (current.id if current else -1)
            )
        )
        if taken is not None:
            problems.append(Problem(f"There is already a paycode {code}", "code"))
    description = " ".join(str(values.get("description") or "").split())
    if not description:
        problems.append(Problem("Enter what the paycode is for", "description"))
    elif len(description) > 200:
        problems.append(Problem("The description must be 200 characters or fewer", "description"))
    subjective = str(values.get("subjective_code") or "").strip().upper()
    if not _CODE.match(subjective):
        problems.append(
            Problem(
                "Enter the subjective code (cost centre): 2 to 30 capital letters, digits and"
                " hyphens",
                "subjective_code",
            )
        )
    types = values.get("contract_types") or ()
    chosen = (
        sorted(set(types), key=list(CONTRACT_TYPES).index)
        if set(types) <= set(CONTRACT_TYPES)
        else None
    )
    if not chosen:
        problems.append(
            Problem("Choose the contract types it applies to: GMS, PMS or APMS", "contract_types")
        )
    if problems:
        raise PaymentsError(problems)
    return {
        "code": code,
        "description": description,
        "subjective_code": subjective,
        "contract_types": chosen,
    }


def _snapshot(paycode: Paycode, names: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(paycode, name) for name in names}


def _apply(paycode: Paycode, values: dict[str, Any]) -> None:
    paycode.code = values["code"]
    paycode.description = values["description"]
    paycode.subjective_code = values["subjective_code"]
    for name, column in CONTRACT_TYPES.items():
        setattr(paycode, column, name in values["contract_types"])


def add_paycode(
    session: DbSession, *, actor: User, organisation: Organisation, **fields: Any
) -> Paycode:
    """Add a paycode (``fields``: :data:`PAYCODE_FIELDS`; ``contract_types`` a collection of
    ``"GMS"``, ``"PMS"``, ``"APMS"``). Needs ``CONFIGURE_SCHEMES`` in ``organisation``
    (``PermissionDenied``); ``PaymentsError`` lists every problem with the values."""
    ensure_capability(actor, Capability.CONFIGURE_SCHEMES, organisation)
    values = _clean(session, {name: fields.get(name) for name in PAYCODE_FIELDS}, None)
    paycode = Paycode()
    _apply(paycode, values)
    session.add(paycode)
    session.flush()
    record_event(
        session,
        action="paycode.added",
        object_type="paycode",
        object_id=paycode.id,
        actor=actor,
        organisation=organisation,
        after=_snapshot(paycode, PAYCODE_FIELDS),
    )
    return paycode


def update_paycode(
    session: DbSession, paycode: Paycode, *, actor: User, organisation: Organisation, **changes: Any
) -> bool:
    """Change a paycode; False when nothing changed. Same rules as :func:`add_paycode`."""
    ensure_capability(actor, Capability.CONFIGURE_SCHEMES, organisation)
    unknown = set(changes) - set(PAYCODE_FIELDS)
    if unknown:
        raise TypeError(f"unknown paycode fields: {sorted(unknown)}")
    merged = _snapshot(paycode, PAYCODE_FIELDS) | changes
    values = _clean(session, merged, paycode)
    changed = [name for name in PAYCODE_FIELDS if getattr(paycode, name) != values[name]]
    if not changed:
        return False
    before = _snapshot(paycode, changed)
    _apply(paycode, values)
    session.flush()
    record_event(
        session,
        action="paycode.updated",
        object_type="paycode",
        object_id=paycode.id,
        actor=actor,
        organisation=organisation,
        before=before,
        after=_snapshot(paycode, changed),
    )
    return True


def find_paycode(session: DbSession, code: str) -> Paycode | None:
    """The paycode named ``code`` (any case), or None when the list has no such paycode."""
    return session.scalar(select(Paycode).where(func.upper(Paycode.code) == code.strip().upper()))
