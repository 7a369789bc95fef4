"""A scene for the national offers' tests: a national commissioner, two ICBs each with a
sub-location, practices and a PCN, and the people who offer and answer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.access.roles import Role
from claims_portal.mail.models import EmailMessage, Notice
from claims_portal.organisations.models import Organisation
from tests.factories.access import user_with_role
from tests.factories.organisations import (
    IcbFactory,
    NationalCommissionerFactory,
    NetworkMembershipFactory,
    PcnFactory,
    PracticeFactory,
    SubLocationFactory,
)


@dataclass
class Scene:
    national: Organisation
    icb: Organisation
    other_icb: Organisation
    practice: Organisation
    second_practice: Organisation
    pcn: Organisation
    other_practice: Organisation
    #: Commissioning management at the ICB and at the national commissioner.
    commissioner: User
    national_commissioner: User
    other_commissioner: User
    #: Service management at the practices and the PCN.
    manager: User
    second_manager: User
    pcn_manager: User
    other_manager: User


def make_scene() -> Scene:
    national = NationalCommissionerFactory()
    icb = IcbFactory(name="North ICB")
    sub = SubLocationFactory(parent=icb)
    practice = PracticeFactory(parent=sub, name="Alder Surgery")
    second = PracticeFactory(parent=icb, name="Birch Practice")
    pcn = PcnFactory(parent=sub, name="Central PCN")
    other_icb = IcbFactory(name="South ICB")
    other_practice = PracticeFactory(parent=other_icb, name="Cedar Health")
    NetworkMembershipFactory(practice=practice, network=pcn, start_date=dt.date(2024, 4, 1))
    NetworkMembershipFactory(
        practice=second, network=pcn, start_date=dt.date(2025, 4, 1), end_date=dt.date(2025, 9, 30)
    )
    return Scene(
        national=national,
        icb=icb,
        other_icb=other_icb,
        practice=practice,
        second_practice=second,
        pcn=pcn,
        other_practice=other_practice,
        commissioner=user_with_role(Role.COMMISSIONING_MANAGEMENT, icb, full_name="Tom Okafor"),
        national_commissioner=user_with_role(Role.COMMISSIONING_MANAGEMENT, national),
        other_commissioner=user_with_role(Role.COMMISSIONING_MANAGEMENT, other_icb),
        manager=user_with_role(Role.SERVICE_MANAGEMENT, practice, full_name="Aisha Khan"),
        second_manager=user_with_role(Role.SERVICE_MANAGEMENT, second),
        pcn_manager=user_with_role(Role.SERVICE_MANAGEMENT, pcn),
        other_manager=user_with_role(Role.SERVICE_MANAGEMENT, other_practice),
    )


def told(session) -> list[tuple[int, str]]:
    """(person, subject) of every notice so far; each has its email beside it."""
    notices = session.scalars(select(Notice).order_by(Notice.id)).all()
    emails = {(m.user_id, m.subject) for m in session.scalars(select(EmailMessage))}
    for notice in notices:
        assert (notice.user_id, notice.subject) in emails
    return [(n.user_id, n.subject) for n in notices]
