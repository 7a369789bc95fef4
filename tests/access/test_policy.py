"""Who may have an account and which passwords pass (OWASP ASVS 5.0 V6.2)."""

from __future__ import annotations

import pytest

from claims_portal.access.services import policy


@pytest.mark.parametrize(
    "email",
    [
        "reception@riverside.nhs.net",
        "admin@example.nhs.net",
        "Info@Example.nhs.net",
        "enquiries@example.nhs.net",
        "practice.manager@example.nhs.net",
        "reception.y90001@nhs.net",
        "accounts-team@example.nhs.net",
        "office2@example.nhs.net",
        "12345@example.nhs.net",
    ],
)
def test_shared_and_generic_mailboxes_are_refused(email):
    problem = policy.email_problem(email)
    assert problem is not None
    assert "not a shared or team mailbox" in problem


@pytest.mark.parametrize(
    "email",
    ["aisha.rahman@nhs.net", "j.whitfield2@example.nhs.net", "tom.okafor+claims@nhs.net"],
)
def test_personal_addresses_are_accepted(email):
    assert policy.email_problem(email) is None


def test_badly_formed_address_is_refused():
    assert "correct format" in policy.email_problem("not an email")


def test_the_generic_list_is_configurable():
    # The setting adds to the shipped words (tests/access/test_shared_mailboxes.py has more).
    names = policy.generic_mailbox_names("rota, locum")
    assert policy.email_problem("rota@example.nhs.net", names)
    assert policy.email_problem("reception@example.nhs.net", names)
    assert set(policy.generic_mailbox_names(None)) == policy.DEFAULT_GENERIC_MAILBOX_NAMES


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("Aisha Rahman", True),
        ("Mary-Jane O'Neill", True),
        ("Aisha", False),
        ("Reception Team", False),
        ("Practice Manager", False),
        ("   ", False),
        ("123 456", False),
    ],
)
def test_a_name_must_identify_a_person(name, ok):
    assert (policy.full_name_problem(name) is None) is ok


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short-one", "at least 12 characters"),
        ("password1234", "too common"),
        ("PASSWORD1234", "too common"),
        ("liverpool2024!", "too common"),
        ("monkeymonkey", "too common"),
        ("aaaaaaaaaaaa", "too common"),
        ("my aisha.rahman password", "must not contain your email address"),
        ("AISHA.RAHMAN-2026-long", "must not contain your email address"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password, why):
    problem = policy.password_problem(password, "aisha.rahman@nhs.net")
    assert problem is not None
    assert why in problem


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "Kettle-lamp-orbit-91", "x" * 5 + "qzv" * 3 + "!"]
)
def test_good_passwords_pass_without_composition_rules(password):
    assert policy.password_problem(password, "aisha.rahman@nhs.net") is None


def test_a_short_local_part_is_not_searched_for():
    assert policy.password_problem("al-was-here-in-2026", "al@nhs.net") is None


def test_the_common_password_list_ships_with_the_package():
    listed = policy.common_passwords()
    assert 10_000 <= len(listed) <= 30_000
    assert "password" in listed
    assert all(word == word.lower() for word in list(listed)[:500])


def test_the_words_depend_on_who_is_typing():
    assert policy.email_problem("reception@example.nhs.net").startswith(
        "Enter your own email address"
    )
    assert policy.email_problem("reception@example.nhs.net", typed_by_the_person=False).startswith(
        "Enter the person's own email address"
    )
    assert policy.full_name_problem("Ben") == "Enter your first name and last name"
    assert (
        policy.full_name_problem("Ben", typed_by_the_person=False)
        == "Enter the person's first name and last name"
    )
    assert policy.email_problem("jo.smith@example.nhs.net", typed_by_the_person=False) is None
