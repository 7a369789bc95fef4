"""The words of every access email: (subject, plain-text body) pairs, built from plain data."""

from __future__ import annotations

import datetime as dt

from claims_portal.formatting import england_time

SIGN_OFF = "\n\nClaims portal\nThis is an automatic email: replies are not read."


def _when(moment: dt.datetime) -> str:
    return england_time(moment)


def access_request_received(name: str, organisation: str, role: str) -> tuple[str, str]:
    return (
        f"We have your request for access to {organisation}",
        f"Dear {name},\n\nYou asked for the role {role} at {organisation}. The people who "
        "approve access for that organisation have been told, and we will email you when "
        "they decide." + SIGN_OFF,
    )


def access_request_to_decide(
    approver: str, requester: str, email: str, organisation: str, role: str, link: str
) -> tuple[str, str]:
    return (
        f"Access request to decide: {requester} for {organisation}",
        f"Dear {approver},\n\n{requester} ({email}) asks for the role {role} at "
        f"{organisation}.\n\nApprove or reject it under Pending actions:\n{link}" + SIGN_OFF,
    )


def access_approved_new_person(
    name: str, organisation: str, role: str, link: str, expires: dt.datetime
) -> tuple[str, str]:
    return (
        f"Your access to {organisation} is approved: set up your account",
        f"Dear {name},\n\nYour request for the role {role} at {organisation} has been "
        "approved.\n\nSet your password to finish setting up your account (your username "
        f"is this email address):\n{link}\n\nThis link works once and expires on "
        f"{_when(expires)}. If it has expired, ask the person who approved you to send a new "
        "one." + SIGN_OFF,
    )


def access_approved(name: str, organisation: str, role: str, link: str) -> tuple[str, str]:
    return (
        f"Your access to {organisation} is approved",
        f"Dear {name},\n\nYour request for the role {role} at {organisation} has been "
        f"approved. Sign in to use it:\n{link}" + SIGN_OFF,
    )


def access_rejected(name: str, organisation: str, role: str, reason: str) -> tuple[str, str]:
    return (
        f"Your request for access to {organisation} was not approved",
        f"Dear {name},\n\nYour request for the role {role} at {organisation} was not "
        f"approved.\n\nThe reason given:\n{reason}\n\nIf you think this is wrong, speak to "
        "the person who approves access for your organisation." + SIGN_OFF,
    )


def invitation(
    name: str, inviter: str, organisation: str, role: str, link: str, expires: dt.datetime
) -> tuple[str, str]:
    return (
        f"You have been invited to the claims portal for {organisation}",
        f"Dear {name},\n\n{inviter} has given you the role {role} at {organisation}.\n\n"
        f"Set your password to set up your account (your username is this email address):\n"
        f"{link}\n\nThis link works once and expires on {_when(expires)}." + SIGN_OFF,
    )


def access_given(
    name: str, inviter: str, organisation: str, role: str, link: str
) -> tuple[str, str]:
    return (
        f"You now have access to {organisation}",
        f"Dear {name},\n\n{inviter} has given you the role {role} at {organisation}. "
        f"Sign in to use it:\n{link}" + SIGN_OFF,
    )


def access_removed(name: str, organisation: str, role: str) -> tuple[str, str]:
    return (
        f"Your access to {organisation} has ended",
        f"Dear {name},\n\nAn administrator has removed your role {role} at {organisation}. "
        "If you think this is wrong, speak to your ICB's administrator." + SIGN_OFF,
    )


def password_reset(name: str, link: str, expires: dt.datetime) -> tuple[str, str]:
    return (
        "Reset your claims portal password",
        f"Dear {name},\n\nSomeone, probably you, asked to reset the password of your claims "
        f"portal account. Choose a new password here:\n{link}\n\nThis link works once and "
        f"expires on {_when(expires)}. If you did not ask for this, you can ignore this "
        "email: your password has not changed." + SIGN_OFF,
    )


def password_changed(name: str, link: str, *, this_session_kept: bool = False) -> tuple[str, str]:
    sessions = "every other signed-in session" if this_session_kept else "every signed-in session"
    ended = f"{sessions} was ended"
    return (
        "Your claims portal password has changed",
        f"Dear {name},\n\nThe password of your claims portal account has just been changed, "
        f"and {ended}.\n\nIf this was not you, reset your password now and tell your "
        f"administrator:\n{link}" + SIGN_OFF,
    )
