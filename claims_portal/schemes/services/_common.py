"""What every scheme service shares: the error, scoping, validators, auditing."""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import (
    ensure_capability,
    icb_of,
)
from claims_portal.audit.services import record_event
from claims_portal.db import DbSession
from claims_portal.organisations.models import Organisation, OrganisationKind
from claims_portal.rules import RuleError
from claims_portal.schemes.models import (
    Scheme,
    SchemeStatus,
)


class SchemeError(RuleError):
    """A scheme rule was broken. ``problems`` lists every one (``messages`` their text)."""


class SchemeConflict(SchemeError):
    """Someone else changed the scheme or offer first (published, closed, answered it while
    the page was open). The message says who and when, and that nothing was changed."""

    status_code = 409


# --- Who sees what ------------------------------------------------------------------------


def commissioner_scope(session: DbSession, organisation: Organisation | None) -> list[int]:
    """Ids of the ICB at or above ``organisation`` and of the ICB's sub-locations.

    This is what a commissioner's staff see in the admin (tenant scoping). Empty when the
    organisation sits under no ICB.
    """
    if organisation is None:
        return []
    icb = icb_of(organisation)
    if icb is None:
        return []
    sub_locations = session.scalars(
        select(Organisation.id).where(
            Organisation.parent_id == icb.id,
            Organisation.kind == OrganisationKind.ICB_SUB_LOCATION,
        )
    ).all()
    return [icb.id, *sub_locations]


def providers_in_scope(session: DbSession, scope: Sequence[int]) -> list[Organisation]:
    """Practices, PCNs and federations under the commissioners in ``scope``, by name."""
    return list(
        session.scalars(
            select(Organisation)
            .where(
                Organisation.parent_id.in_(scope),
                Organisation.kind.in_(PROVIDER_KINDS),
            )
            .order_by(Organisation.kind, Organisation.name)
        )
    )


PROVIDER_KINDS = (OrganisationKind.GP_PRACTICE, OrganisationKind.PCN, OrganisationKind.FEDERATION)
COMMISSIONER_KINDS = (OrganisationKind.ICB, OrganisationKind.ICB_SUB_LOCATION)


def ensure_can_configure(actor: User, scheme: Scheme) -> None:
    """Raise :class:`PermissionDenied` unless ``actor`` administers the scheme's commissioner."""
    ensure_capability(actor, Capability.CONFIGURE_SCHEMES, scheme.commissioner)


# --- Small validators ---------------------------------------------------------------------

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,29}$")
_PAYCODE = re.compile(r"^[A-Z0-9-]{1,20}$")
_FY = re.compile(r"^(\d{4})/(\d{2})$")


def financial_year_dates(label: str) -> tuple[dt.date, dt.date] | None:
    """(1 April, 31 March) of a year labelled like ``2026/27``; None if not such a label."""
    match = _FY.match(label or "")
    if match is None or (int(match[1]) + 1) % 100 != int(match[2]):
        return None
    start = int(match[1])
    return dt.date(start, 4, 1), dt.date(start + 1, 3, 31)


def financial_year_of(day: dt.date) -> str:
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def parse_money(value: object, label: str) -> Decimal:
    """A non-negative amount in pounds with at most two decimal places."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise SchemeError(f"Enter {label} as an amount in pounds, like 25.50") from None
    if not amount.is_finite():
        raise SchemeError(f"Enter {label} as an amount in pounds, like 25.50")
    if amount < 0:
        raise SchemeError(f"{label.capitalize()} must be 0 or more")
    # Size first: quantize() of 1e100 to the penny is itself an InvalidOperation.
    if amount >= Decimal("10000000000"):
        raise SchemeError(f"{label.capitalize()} is too large")
    if amount != amount.quantize(Decimal("0.01")):
        raise SchemeError(f"{label.capitalize()} must be in pounds and pence, like 25.50")
    return amount.quantize(Decimal("0.01"))


def _text(value: str | None) -> str:
    return " ".join((value or "").split())


def plain(value: Any) -> Any:
    """What the audit trail stores: enum member names and ODS codes, not objects.

    (A ``StrEnum`` is a ``str``, so JSON would otherwise store its display value.)
    """
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, Organisation):
        return value.ods_code
    if isinstance(value, list):
        return sorted(plain(v) for v in value)
    return value


def _snapshot(obj: object, fields: Iterable[str]) -> dict[str, Any]:
    return {name: plain(getattr(obj, name)) for name in fields}


def _changes(obj: object, fields: Iterable[str], new: Mapping[str, Any]) -> list[str]:
    return [name for name in fields if name in new and getattr(obj, name) != new[name]]


def _audit(
    session: DbSession,
    action: str,
    obj: Any,
    *,
    actor: User,
    scheme: Scheme,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    record_event(
        session,
        action=action,
        object_type=obj.__tablename__,
        object_id=obj.id,
        actor=actor,
        organisation=scheme.commissioner,
        before=before,
        after=after,
    )


def _ensure_not_closed(scheme: Scheme) -> None:
    if scheme.status is SchemeStatus.CLOSED:
        raise SchemeError(f"{scheme.code} is closed: it can no longer be changed")


def _ensure_draft(scheme: Scheme, what: str) -> None:
    _ensure_not_closed(scheme)
    if scheme.status is not SchemeStatus.DRAFT:
        raise SchemeError(f"{scheme.code} is published: {what}")


def _ods(organisations: Iterable[Organisation]) -> list[str]:
    return sorted(o.ods_code for o in organisations)
