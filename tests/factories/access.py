from __future__ import annotations

import datetime as dt

import factory

from claims_portal.access.models import Membership, User
from claims_portal.access.passwords import hash_password
from claims_portal.access.roles import Role
from tests.factories import BaseFactory
from tests.factories.organisations import IcbFactory
from tests.helpers import TEST_PASSWORD


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person.{n}@example.nhs.net")
    full_name = factory.Sequence(lambda n: f"Test Person {n}")
    password_hash = factory.LazyFunction(lambda: hash_password(TEST_PASSWORD))
    is_disabled = False
    failed_sign_ins = 0


class MembershipFactory(BaseFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(IcbFactory)
    role = Role.ADMINISTRATOR
    start_date = dt.date(2020, 4, 1)
    end_date = None


def user_with_role(role: Role, organisation: object, **kwargs: object) -> User:
    """A user holding ``role`` in ``organisation`` from 2020."""
    user = UserFactory(**kwargs)
    MembershipFactory(user=user, organisation=organisation, role=role)
    return user
