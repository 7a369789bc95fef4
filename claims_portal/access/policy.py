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
from collections.abc import Iterable
from importlib import resources

#: Local-part words that name a role, a team or a place rather than a person. Settings can
#: replace the list (``GENERIC_MAILBOX_NAMES``, comma-separated).
DEFAULT_GENERIC_MAILBOX_NAMES: frozenset[str] = frozenset(
    {
        "accounts",
        "admin",
        "administration",
        "administrator",
        "appointments",
        "bookings",
        "clinic",
        "contact",
        "enquiries",
        "enquiry",
        "finance",
        "general",
        "generic",
        "gp",
        "hello",
        "help",
        "helpdesk",
        "info",
        "information",
        "mail",
        "mailbox",
        "manager",
        "noreply",
        "no-reply",
        "nurses",
        "office",
        "pharmacy",
        "practice",
        "prescriptions",
        "reception",
        "receptionist",
        "referrals",
        "secretary",
        "secretaries",
        "shared",
        "staff",
        "support",
        "surgery",
        "team",
        "admins",
        "postmaster",
        "webmaster",
    }
)

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
#: Shorter local parts ("al@") are too common inside ordinary words to refuse on.
MIN_LOCAL_PART_IN_PASSWORD = 3

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_WORD_SPLIT = re.compile(r"[.\-_+0-9]+")
_NAME_WORD = re.compile(r"[^\W\d_]", re.UNICODE)  # at least one letter


def generic_mailbox_names(setting: str | Iterable[str] | None = None) -> frozenset[str]:
    """The configured list (a comma-separated setting) or the built-in one."""
    if setting is None or setting == "":
        return DEFAULT_GENERIC_MAILBOX_NAMES
    words = setting.split(",") if isinstance(setting, str) else setting
    return frozenset(w.strip().lower() for w in words if w.strip())


def email_problem(email: str, generic_names: frozenset[str] | None = None) -> str | None:
    """Why ``email`` cannot be a username, or ``None``."""
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        return "Enter an email address in the correct format, like firstname.lastname@nhs.net"
    names = generic_names if generic_names is not None else DEFAULT_GENERIC_MAILBOX_NAMES
    local = email.split("@", 1)[0].split("+", 1)[0]
    words = [w for w in _WORD_SPLIT.split(local) if w]
    if local in names or any(word in names for word in words) or not words:
        return (
            "Enter your own email address, not a shared or team mailbox such as "
            f"{local}@: each person needs an account in their own name"
        )
    return None


def full_name_problem(full_name: str, generic_names: frozenset[str] | None = None) -> str | None:
    """Why ``full_name`` does not identify a person, or ``None``."""
    words = full_name.split()
    names = generic_names if generic_names is not None else DEFAULT_GENERIC_MAILBOX_NAMES
    if len(words) < 2 or not all(_NAME_WORD.search(w) for w in words[:2]):
        return "Enter your first name and last name"
    if all(w.lower().strip(".,") in names for w in words):
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
