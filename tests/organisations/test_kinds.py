"""An organisation's kind inside a sentence: its article and its capitals."""

from __future__ import annotations

import pytest

from claims_portal.access.roles import Role
from claims_portal.access.services import access_requests
from claims_portal.access.services.accounts import AccessError, grant_membership
from claims_portal.clock import today
from claims_portal.organisations.models import OrganisationKind as K
from tests.factories.access import user_with_role
from tests.factories.organisations import IcbFactory, PracticeFactory
from tests.helpers import sign_in


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        (K.NATIONAL_COMMISSIONER, "a national commissioner"),
        (K.ICB, "an integrated care board"),
        (K.ICB_SUB_LOCATION, "an ICB sub-location"),
        (K.PCN, "a primary care network"),
        (K.GP_PRACTICE, "a GP practice"),
        (K.FEDERATION, "a federation"),
    ],
)
def test_every_kind_reads_with_its_article_and_capitals(kind, words):
    assert kind.with_article == words
    assert kind.in_sentence == words.split(" ", 1)[1]


def test_a_role_that_cannot_be_held_names_the_kind_properly(db_session):
    practice = PracticeFactory()
    problem = access_requests.role_problem(practice, Role.ADMINISTRATOR)
    assert problem == f"The role {Role.ADMINISTRATOR} cannot be held in a GP practice"
    person = user_with_role(Role.PROVIDER_USER_SINGLE, practice)
    with pytest.raises(AccessError) as caught:
        grant_membership(
            db_session,
            user=person,
            organisation=IcbFactory(),
            role=Role.PROVIDER_USER_SINGLE,
            start_date=today(),
            actor=None,
        )
    assert str(caught.value).endswith("cannot be held in an integrated care board")


def test_the_home_page_says_which_kind_of_organisation(client, db_session):
    icb = IcbFactory(name="North Riverside ICB")
    person = user_with_role(Role.APPROVER_TIER_1, icb)
    db_session.commit()
    sign_in(client, person.email)
    body = client.get("/").get_data(as_text=True)
    assert "North Riverside ICB</strong>" in body
    assert "an integrated care board." in body
    assert "a integrated" not in body
