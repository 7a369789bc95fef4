"""The admin tests' helpers: a tenant (an ICB with a sub-location, practices and staff in every
commissioner role), posting with a CSRF token, reading an .xlsx export."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from claims_portal.access.models import User
from claims_portal.access.roles import Role
from claims_portal.organisations.models import Organisation
from tests.factories.access import user_with_role
from tests.factories.organisations import (
    IcbFactory,
    PcnFactory,
    PracticeFactory,
    SubLocationFactory,
)


@dataclass
class Tenant:
    icb: Organisation
    sub_location: Organisation
    practice: Organisation
    pcn: Organisation
    admin: User
    tier_1: User
    tier_2: User
    finance: User
    provider: User
    #: Answers the offers made to the PCN (someone must, for a PCN to be offered a scheme).
    pcn_lead: User


def make_tenant() -> Tenant:
    icb = IcbFactory()
    sub_location = SubLocationFactory(parent=icb)
    practice = PracticeFactory(parent=sub_location)
    pcn = PcnFactory(parent=sub_location)
    return Tenant(
        icb=icb,
        sub_location=sub_location,
        practice=practice,
        pcn=pcn,
        admin=user_with_role(Role.ADMINISTRATOR, icb),
        tier_1=user_with_role(Role.APPROVER_TIER_1, icb),
        tier_2=user_with_role(Role.APPROVER_TIER_2, icb),
        finance=user_with_role(Role.FINANCE, icb),
        provider=user_with_role(Role.PROVIDER_USER_SINGLE, practice),
        pcn_lead=user_with_role(Role.PROVIDER_APPROVER, pcn),
    )


def token(client) -> str:
    """A CSRF token for this client's session (from the portal's sign-out form)."""
    from tests.helpers import csrf_token

    return csrf_token(client.get("/"))


def post(client, url: str, data: dict | None = None, **kwargs):
    """POST with this session's CSRF token."""
    return client.post(url, data={"csrf_token": token(client), **(data or {})}, **kwargs)


def xlsx_text(response: Any) -> str:
    """Every cell of an .xlsx export as text: one line per row, cells tab-separated."""
    from openpyxl import load_workbook

    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = sheet.iter_rows(values_only=True)
    return "\n".join("\t".join("" if v is None else str(v) for v in row) for row in rows)
