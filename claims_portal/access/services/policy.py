"""Who may have an account, and which passwords are acceptable: the rules in one place.

- A username is the person's own email address: shared or generic mailboxes (role-like local
  parts such as ``reception@`` or ``practice.manager@``) are refused, and so are names that do
  not identify a person (a first and a last name are required).
- Passwords follow OWASP ASVS 5.0 (V6.2): at least 12 characters, no composition rules,
  refused when found in a list of common (breached) passwords shipped with the package, or
  when they contain the email address's local part.

Every function returns the problem as a sentence for the user, or ``None`` when all is well.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from importlib import resources

from claims_portal.access.services import mailboxes

#: Local-part words that name a role, a team or a place rather than a person, shipped as
#: ``data/shared-mailbox-words.txt``; the ``GENERIC_MAILBOX_NAMES`` setting adds to them.
DEFAULT_GENERIC_MAILBOX_NAMES: frozenset[str] = frozenset(mailboxes.default_words())

#: What a list of words may be given as: words (as :func:`generic_mailbox_names` gives them;
#: a shipped word keeps the flags of its line) or entries with their flags.
MailboxWords = Mapping[str, mailboxes.RoleWord] | Iterable[str]

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
#: Shorter local parts ("al@") are too common inside ordinary words to refuse on.
MIN_LOCAL_PART_IN_PASSWORD = 3

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NAME_WORD = re.compile(r"[^\W\d_]", re.UNICODE)  # at least one letter


def generic_mailbox_names(setting: str | Iterable[str] | None = None) -> frozenset[str]:
    """The shipped words, extended by a comma-separated setting (``-word`` removes one)."""
    if setting is None or isinstance(setting, str):
        return _words_for_setting(setting or "")
    return frozenset(mailboxes.words_with(setting))


@functools.cache
def _words_for_setting(setting: str) -> frozenset[str]:
    return frozenset(mailboxes.words_with(setting))


def _entries(names: MailboxWords | None) -> Mapping[str, mailboxes.RoleWord]:
    if names is None:
        return mailboxes.default_words()
    if isinstance(names, Mapping):
        return names
    shipped = mailboxes.default_words()
    return {w: shipped.get(w, mailboxes.RoleWord(w)) for w in (n.strip().lower() for n in names)}


def _local_part(email: str) -> str:
    return email.strip().lower().split("@", 1)[0].split("+", 1)[0]


def email_problem(
    email: str, generic_names: MailboxWords | None = None, *, typed_by_the_person: bool = True
) -> str | None:
    """Why ``email`` cannot be a username, or ``None``.

    Refused: a badly formed address, and a shared or team mailbox: a local part with no
    letters, or holding a role word once normalised (``mailboxes.check_local_part``). The
    words address the person the account is for, or (``typed_by_the_person`` False) the
    administrator typing someone else's address.
    """
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        return "Enter an email address in the correct format, like firstname.lastname@nhs.net"
    local = _local_part(email)
    found = mailboxes.check_local_part(local, _entries(generic_names))
    if found.refused or not mailboxes.has_letters(local):
        whose = "your own" if typed_by_the_person else "the person's own"
        return (
            f"Enter {whose} email address, not a shared or team mailbox such as "
            f"{local}@: each person needs an account in their own name"
        )
    return None


def email_warning(email: str, generic_names: MailboxWords | None = None) -> str | None:
    """A warning for the person deciding when ``email`` might be a shared mailbox, or ``None``.

    Borderline addresses are accepted (a person's name can hold a short role word, as
    "Stafford" holds "staff"); the decider is asked to check.
    """
    email = email.strip().lower()
    if not _EMAIL.match(email) or email_problem(email, generic_names):
        return None
    word = mailboxes.check_local_part(_local_part(email), _entries(generic_names)).warning
    if word is None:
        return None
    return (
        f"Check that {email} is the person's own address and not a shared mailbox: the part "
        f"before the @ contains \u201c{word}\u201d, a word that shared and team mailboxes use"
    )


def full_name_problem(
    full_name: str, generic_names: MailboxWords | None = None, *, typed_by_the_person: bool = True
) -> str | None:
    """Why ``full_name`` does not identify a person, or ``None`` (worded as
    :func:`email_problem`)."""
    words = full_name.split()
    names = _entries(generic_names)
    if len(words) < 2 or not all(_NAME_WORD.search(w) for w in words[:2]):
        whose = "your" if typed_by_the_person else "the person's"
        return f"Enter {whose} first name and last name"
    if all(mailboxes.check_local_part(w, names).refused for w in words):
        return (
            "Enter the name of the person who will use the account, not a team or a role "
            f"such as {full_name.strip()}"
        )
    return None


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common (breached) passwords, lower case."""
    text = (
        resources.files("claims_portal.access")
        .joinpath("data/common-passwords.txt")
        .read_text(encoding="utf-8")
    )
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def _is_common(password: str) -> bool:
    lowered = password.lower()
    listed = common_passwords()
    if lowered in listed:
        return True
    # A listed password with only digits or symbols around it ("liverpool2024!") or repeated
    # ("monkeymonkey") is as easy to guess as the listed one.
    core = lowered.strip("0123456789!@#$%^&*()-_=+.,?~ ")
    if core and core in listed and len(core) >= 4:
        return True
    for size in range(1, len(lowered) // 2 + 1):
        if len(lowered) % size == 0 and lowered[:size] * (len(lowered) // size) == lowered:
            return lowered[:size] in listed or size <= 3
    return False


def password_problem(password: str, email: str | None = None) -> str | None:
    """Why ``password`` cannot be used, or ``None`` (ASVS 5.0: length and breached list)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Your password must be at least {MIN_PASSWORD_LENGTH} characters long"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Your password must be {MAX_PASSWORD_LENGTH} characters or fewer"
    if email:
        local = email.strip().lower().split("@", 1)[0].split("+", 1)[0]
        if len(local) >= MIN_LOCAL_PART_IN_PASSWORD and local in password.lower():
            return "Your password must not contain your email address (the part before the @)"
    if _is_common(password):
        return (
            "This password is too common: it appears in lists of passwords that criminals "
            "try first. Choose a different one, for example three or four random words"
        )
    return None
