from __future__ import annotations

import datetime as dt

import factory

from claims_portal.organisations.models import (
    ApprovalMode,
    NetworkMembership,
    Organisation,
    OrganisationKind,
)
from tests.factories import BaseFactory


class OrganisationFactory(BaseFactory):
    class Meta:
        model = Organisation

    kind = OrganisationKind.ICB
    ods_code = factory.Sequence(lambda n: f"Q{_base36(n, 2)}")
    name = factory.Sequence(lambda n: f"NHS Test {n} Integrated Care Board")
    parent = None
    active_from = dt.date(2020, 4, 1)
    active_to = None
    approval_mode = None


class NationalCommissionerFactory(OrganisationFactory):
    kind = OrganisationKind.NATIONAL_COMMISSIONER
    ods_code = factory.Sequence(lambda n: f"X{n % 100:02d}")
    name = "NHS England"


class IcbFactory(OrganisationFactory):
    kind = OrganisationKind.ICB
    ods_code = factory.Sequence(lambda n: f"Q{_base36(n, 2)}")


class SubLocationFactory(OrganisationFactory):
    kind = OrganisationKind.ICB_SUB_LOCATION
    ods_code = factory.Sequence(lambda n: f"{n % 100:02d}{chr(65 + (n // 100) % 26)}")
    name = factory.Sequence(lambda n: f"Test ICB sub-location {n}")
    parent = factory.SubFactory(IcbFactory)


class PcnFactory(OrganisationFactory):
    kind = OrganisationKind.PCN
    ods_code = factory.Sequence(lambda n: f"U{n:05d}")
    name = factory.Sequence(lambda n: f"Test {n} PCN")
    parent = factory.SubFactory(IcbFactory)


class PracticeFactory(OrganisationFactory):
    kind = OrganisationKind.GP_PRACTICE
    ods_code = factory.Sequence(lambda n: f"P{n:05d}")
    name = factory.Sequence(lambda n: f"Test Surgery {n}")
    parent = factory.SubFactory(IcbFactory)
    approval_mode = ApprovalMode.ONE_STEP


class NetworkMembershipFactory(BaseFactory):
    class Meta:
        model = NetworkMembership

    practice = factory.SubFactory(PracticeFactory)
    network = factory.SubFactory(PcnFactory)
    start_date = dt.date(2024, 4, 1)
    end_date = None


def _base36(n: int, width: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    for _ in range(width):
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out
