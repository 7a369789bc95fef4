"""Demo paycodes for ``make run``: the ones the demo schemes are paid under, added by the
demo ICB's administrator through the service (so they are audited like any other)."""

from __future__ import annotations

from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.db import DbSession
from claims_portal.organisations.models import Organisation
from claims_portal.payments import services
from claims_portal.payments.models import Paycode

#: (code, description, subjective code, contract types). Our own examples: the agency's
#: list is not public.
DEMO_PAYCODES = (
    ("LESHC01", "Local enhanced service: NHS Health Checks", "521100", ("GMS", "PMS", "APMS")),
    ("LISQI02", "Local incentive scheme: diabetes care quality", "521200", ("GMS", "PMS")),
    ("LESPHL3", "Local enhanced service: phlebotomy", "521300", ("GMS", "PMS", "APMS")),
    ("LESEA04", "Local enhanced service: enhanced access sessions", "521400", ("GMS", "PMS")),
    ("LISAPMS1", "Local incentive scheme: APMS access", "521500", ("APMS",)),
)


def load_demo_paycodes(session: DbSession, *, administrator_email: str, icb_code: str) -> int:
    """Add the demo paycodes that are missing; returns how many were added."""
    administrator = session.scalar(select(User).where(User.email == administrator_email))
    icb = session.scalar(select(Organisation).where(Organisation.ods_code == icb_code))
    if administrator is None or icb is None:
        return 0
    have = set(session.scalars(select(Paycode.code)))
    created = 0
    for code, description, subjective_code, contract_types in DEMO_PAYCODES:
        if code in have:
            continue
        services.add_paycode(
            session,
            actor=administrator,
            organisation=icb,
            code=code,
            description=description,
            subjective_code=subjective_code,
            contract_types=contract_types,
        )
        created += 1
    return created
