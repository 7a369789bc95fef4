"""Per-ICB claim settings: the finance threshold.

A claim worth **strictly more** than its ICB's threshold needs finance approval after tier 2
(a claim of exactly the threshold does not). The threshold belongs to the ICB above the
claim's provider; without a setting of its own the ICB uses ``FINANCE_THRESHOLD_DEFAULT``
(15,000 pounds, the public CQRS figure), which the rules are given in :class:`ClaimsSettings`
(built once by ``create_app``; the services never read the app). The ICB's administrator
changes it.

A change names the threshold the administrator saw; it is re-checked under a lock on the
ICB's row, so of two administrators saving at once the second is told the value changed
under them (:class:`ClaimConflict`) instead of silently overwriting it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import bindparam, select

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import ensure_capability
from claims_portal.audit.services import record_event
from claims_portal.claims.models import IcbClaimSettings
from claims_portal.claims.services._common import ClaimConflict, ClaimInvalid, Problem
from claims_portal.db import DbSession, utcnow
from claims_portal.decisions import NOTHING_CHANGED, by_whom, lock
from claims_portal.formatting import money
from claims_portal.organisations.models import Organisation, OrganisationKind

DEFAULT_FINANCE_THRESHOLD = Decimal("15000.00")
MAX_THRESHOLD = Decimal("9999999999.99")


@dataclass(frozen=True)
class ClaimsSettings:
    """The configured values claims' rules use (docs/configuration.md)."""

    #: ``FINANCE_THRESHOLD_DEFAULT``: the threshold of an ICB without one of its own.
    finance_threshold_default: Decimal = DEFAULT_FINANCE_THRESHOLD

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ClaimsSettings:
        """The settings in an app's configuration (defaults where a key is missing)."""
        configured = config.get("FINANCE_THRESHOLD_DEFAULT", DEFAULT_FINANCE_THRESHOLD)
        return cls(finance_threshold_default=Decimal(str(configured)).quantize(Decimal("0.01")))


#: The ICB's own threshold, the one column (every claim list shows it; built once).
_THRESHOLD = select(IcbClaimSettings.finance_threshold).where(
    IcbClaimSettings.icb_id == bindparam("icb_id")
)


def finance_threshold(
    session: DbSession, icb: Organisation | None, *, settings: ClaimsSettings
) -> Decimal:
    """The ICB's threshold, or the configured default."""
    amount = session.scalar(_THRESHOLD, {"icb_id": icb.id}) if icb is not None else None
    return amount if amount is not None else settings.finance_threshold_default


def parse_threshold(text: str) -> Decimal:
    """Pounds and pence, like ``15000`` or ``£15,000.00``; raises :class:`ClaimInvalid`."""
    compact = (text or "").strip().replace(",", "").removeprefix("£").strip()
    problem = Problem("Enter the threshold in pounds, like 15000 or 15000.00", "finance_threshold")
    try:
        amount = Decimal(compact)
    except InvalidOperation:
        raise ClaimInvalid(problem) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_THRESHOLD:
        raise ClaimInvalid(problem)
    if amount != amount.quantize(Decimal("0.01")):
        raise ClaimInvalid(
            Problem("The threshold cannot include fractions of a penny", "finance_threshold")
        )
    return amount.quantize(Decimal("0.01"))


def set_finance_threshold(
    session: DbSession,
    icb: Organisation,
    amount: Decimal,
    *,
    actor: User,
    settings: ClaimsSettings,
    expected: Decimal | None = None,
) -> bool:
    """Set the ICB's finance threshold (its administrator only); audited. True if changed.

    ``expected`` is the threshold the administrator saw: if another change was saved since
    (checked under a lock on the ICB's row), :class:`ClaimConflict` says what it is now, who
    set it and when, and nothing is recorded.
    """
    if icb.kind is not OrganisationKind.ICB:
        raise ClaimInvalid("The finance threshold is set for an ICB")
    ensure_capability(actor, Capability.CONFIGURE_SCHEMES, icb)
    # The settings row may not exist yet; the ICB's row always does.
    lock(session, Organisation, icb.id)
    row = session.scalar(
        select(IcbClaimSettings)
        .where(IcbClaimSettings.icb_id == icb.id)
        .execution_options(populate_existing=True)
    )
    before = row.finance_threshold if row is not None else settings.finance_threshold_default
    if expected is not None and before != expected:
        who = (
            by_whom(session.get(User, row.updated_by_id), row.updated_at)
            if row is not None and row.updated_by_id is not None
            else ""
        )
        raise ClaimConflict(
            Problem(
                f"The finance threshold was changed to {money(before)}{who} while you were "
                f"looking at it. {NOTHING_CHANGED}",
                "finance_threshold",
            )
        )
    if row is not None and row.finance_threshold == amount:
        return False
    if row is None:
        row = IcbClaimSettings(icb_id=icb.id, finance_threshold=amount)
        session.add(row)
    row.finance_threshold = amount
    row.updated_at = utcnow()
    row.updated_by_id = actor.id
    session.flush()
    record_event(
        session,
        action="icb_claim_settings.finance_threshold_changed",
        object_type="organisation",
        object_id=icb.id,
        actor=actor,
        organisation=icb,
        before={"finance_threshold": before},
        after={"finance_threshold": amount},
    )
    return True
