"""Organisations, PCN memberships and practice approval modes: the rules (flush only)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import PermissionDenied, ensure_capability
from claims_portal.audit.services import record_event
from claims_portal.db import DbSession
from claims_portal.decisions import NOTHING_CHANGED, by_event, last_event, lock
from claims_portal.organisations.models import (
    ApprovalMode,
    NetworkMembership,
    Organisation,
    OrganisationKind,
)
from claims_portal.rules import RuleError


class OrganisationError(RuleError):
    """A rule about organisations was broken; the message is for the user."""


class OrganisationConflict(OrganisationError):
    """The setting changed while the person was looking at it (someone else saved first).
    The message says to what, by whom and when, and that nothing was changed."""

    status_code = 409


#: ODS code formats by kind (Organisation Data Service conventions).
ODS_CODE_FORMATS: dict[OrganisationKind, tuple[re.Pattern[str], str]] = {
    OrganisationKind.NATIONAL_COMMISSIONER: (re.compile(r"^[A-Z][0-9]{2}$"), "like X24"),
    OrganisationKind.ICB: (re.compile(r"^Q[A-Z0-9]{2}$"), "Q and 2 letters or digits, like QHM"),
    OrganisationKind.ICB_SUB_LOCATION: (
        # Codes issued since October 2020 alternate five letters and digits (W2U3Z).
        re.compile(r"^([0-9]{2}[A-Z]|[A-Z][0-9][A-Z][0-9][A-Z])$"),
        "2 digits and a letter, like 00L, or 5 letters and digits, like W2U3Z",
    ),
    OrganisationKind.PCN: (re.compile(r"^U[0-9]{5}$"), "U and 5 digits, like U12345"),
    OrganisationKind.GP_PRACTICE: (
        re.compile(r"^[A-Z][0-9]{5}$"),
        "a letter and 5 digits, like A81001",
    ),
    OrganisationKind.FEDERATION: (
        re.compile(r"^[A-Z0-9]{3,6}$"),
        "3 to 6 letters or digits, like NL5",
    ),
    OrganisationKind.REGION: (re.compile(r"^Y[0-9]{2}$"), "Y and 2 digits, like Y56"),
}

#: Which kinds of organisation may be the parent of each kind.
ALLOWED_PARENTS: dict[OrganisationKind, frozenset[OrganisationKind | None]] = {
    OrganisationKind.NATIONAL_COMMISSIONER: frozenset({None}),
    OrganisationKind.REGION: frozenset({OrganisationKind.NATIONAL_COMMISSIONER, None}),
    OrganisationKind.ICB: frozenset(
        {OrganisationKind.NATIONAL_COMMISSIONER, OrganisationKind.REGION}
    ),
    OrganisationKind.ICB_SUB_LOCATION: frozenset({OrganisationKind.ICB}),
    OrganisationKind.PCN: frozenset({OrganisationKind.ICB, OrganisationKind.ICB_SUB_LOCATION}),
    OrganisationKind.GP_PRACTICE: frozenset(
        {OrganisationKind.ICB, OrganisationKind.ICB_SUB_LOCATION}
    ),
    OrganisationKind.FEDERATION: frozenset(
        {OrganisationKind.ICB, OrganisationKind.ICB_SUB_LOCATION}
    ),
}


def validate_ods_code(kind: OrganisationKind, ods_code: str) -> str:
    """The code in upper case. Raises :class:`OrganisationError` if its format is wrong."""
    code = ods_code.strip().upper()
    pattern, example = ODS_CODE_FORMATS[kind]
    if not pattern.match(code):
        raise OrganisationError(
            f"Enter a valid ODS code for a {kind.lower()}: {example} (you entered {ods_code!r})"
        )
    return code


def create_organisation(
    session: DbSession,
    *,
    kind: OrganisationKind,
    ods_code: str,
    name: str,
    parent: Organisation | None,
    active_from: dt.date,
    active_to: dt.date | None = None,
    approval_mode: ApprovalMode | None = None,
    actor: User | None = None,
) -> Organisation:
    """Register an organisation. Raises :class:`OrganisationError`."""
    code = validate_ods_code(kind, ods_code)
    name = " ".join(name.split())
    if not name:
        raise OrganisationError("Enter the organisation's name")
    parent_kind = parent.kind if parent is not None else None
    if parent_kind not in ALLOWED_PARENTS[kind]:
        allowed = ", ".join(sorted(str(k).lower() for k in ALLOWED_PARENTS[kind] if k)) or "none"
        raise OrganisationError(f"A {kind.lower()} must sit under: {allowed}")
    if active_to is not None and active_to < active_from:
        raise OrganisationError("The end date must be the same as or after the start date")
    if kind is OrganisationKind.GP_PRACTICE:
        approval_mode = approval_mode or ApprovalMode.ONE_STEP
    elif approval_mode is not None:
        raise OrganisationError("Only GP practices have an approval mode")
    if session.scalar(select(Organisation.id).where(Organisation.ods_code == code)):
        raise OrganisationError(f"An organisation with the ODS code {code} already exists")
    organisation = Organisation(
        kind=kind,
        ods_code=code,
        name=name,
        parent=parent,
        active_from=active_from,
        active_to=active_to,
        approval_mode=approval_mode,
    )
    session.add(organisation)
    session.flush()
    record_event(
        session,
        action="organisation.created",
        object_type="organisation",
        object_id=organisation.id,
        actor=actor,
        organisation=organisation,
        after={
            "kind": kind.name,
            "ods_code": code,
            "name": name,
            "parent": parent.ods_code if parent else None,
            "active_from": active_from,
            "active_to": active_to,
            "approval_mode": approval_mode.name if approval_mode else None,
        },
    )
    return organisation


def _overlaps(
    start: dt.date, end: dt.date | None, other_start: dt.date, other_end: dt.date | None
) -> bool:
    return (other_end is None or other_end >= start) and (end is None or end >= other_start)


def add_network_membership(
    session: DbSession,
    *,
    practice: Organisation,
    network: Organisation,
    start_date: dt.date,
    end_date: dt.date | None = None,
    actor: User | None = None,
) -> NetworkMembership:
    """Record that ``practice`` belongs to ``network`` from ``start_date`` to ``end_date``.

    A practice belongs to at most one PCN on any day: an overlapping period is refused with
    :class:`OrganisationError`.
    """
    if practice.kind is not OrganisationKind.GP_PRACTICE:
        raise OrganisationError("Only a GP practice can be a member of a primary care network")
    if network.kind is not OrganisationKind.PCN:
        raise OrganisationError("A practice can only be a member of a primary care network")
    if end_date is not None and end_date < start_date:
        raise OrganisationError("The end date must be the same as or after the start date")
    # Lock the practice row so two overlapping periods cannot be added at once.
    session.execute(select(Organisation.id).where(Organisation.id == practice.id).with_for_update())
    existing = session.scalars(
        select(NetworkMembership).where(NetworkMembership.practice_id == practice.id)
    ).all()
    for other in existing:
        if _overlaps(start_date, end_date, other.start_date, other.end_date):
            until = other.end_date.isoformat() if other.end_date else "with no end date"
            raise OrganisationError(
                f"{practice.name} is already a member of {other.network.name} from "
                f"{other.start_date.isoformat()} {'to ' if other.end_date else ''}{until}; "
                "end that membership before this one starts"
            )
    membership = NetworkMembership(
        practice_id=practice.id, network_id=network.id, start_date=start_date, end_date=end_date
    )
    session.add(membership)
    session.flush()
    record_event(
        session,
        action="network_membership.added",
        object_type="network_membership",
        object_id=membership.id,
        actor=actor,
        organisation=practice,
        after={
            "practice": practice.ods_code,
            "network": network.ods_code,
            "start_date": start_date,
            "end_date": end_date,
        },
    )
    return membership


def change_approval_mode(
    session: DbSession,
    *,
    practice: Organisation,
    mode: ApprovalMode,
    actor: User,
    reason: str | None = None,
    expected: ApprovalMode | None = None,
) -> bool:
    """Switch a practice between one-step and two-step approval.

    Only an administrator of the practice's own ICB may (raises :class:`PermissionDenied`).
    ``expected`` is the mode the person saw on the page: the practice's row is locked and
    read afresh, and if its mode is no longer ``expected`` (another administrator saved
    first) :class:`OrganisationConflict` says what it is now, who set it and when, and
    nothing is recorded. Returns False when the practice already had ``mode``.
    """
    if practice.kind is not OrganisationKind.GP_PRACTICE:
        raise OrganisationError("Only GP practices have an approval mode")
    ensure_can_change_approval_mode(actor, practice)
    lock(session, Organisation, practice.id)
    if expected is not None and practice.approval_mode is not expected:
        event = last_event(
            session, "organisation", practice.id, ["organisation.approval_mode_changed"]
        )
        now = practice.approval_mode.lower() if practice.approval_mode else "not set"
        raise OrganisationConflict(
            f"The approval mode of {practice.name} was changed to {now}{by_event(event)} "
            f"while you were looking at it. {NOTHING_CHANGED}"
        )
    if practice.approval_mode is mode:
        return False
    before = practice.approval_mode
    practice.approval_mode = mode
    session.flush()
    record_event(
        session,
        action="organisation.approval_mode_changed",
        object_type="organisation",
        object_id=practice.id,
        actor=actor,
        organisation=practice,
        before={"approval_mode": before.name if before else None},
        after={"approval_mode": mode.name},
        reason=reason,
    )
    return True


def ensure_can_change_approval_mode(actor: User, practice: Organisation) -> None:
    """Raise :class:`PermissionDenied` unless ``actor`` administers the practice's ICB."""
    ensure_capability(actor, Capability.CHANGE_APPROVAL_MODE, practice)


def with_descendants(session: DbSession, root_ids: Iterable[int]) -> list[int]:
    """``root_ids`` and every organisation under them, one query per level of the tree."""
    ids = list(dict.fromkeys(root_ids))
    seen = set(ids)
    frontier = list(ids)
    while frontier:
        children = session.scalars(
            select(Organisation.id).where(Organisation.parent_id.in_(frontier))
        ).all()
        frontier = [c for c in children if c not in seen]
        seen.update(frontier)
        ids.extend(frontier)
    return ids


def practices_of(session: DbSession, commissioner: Organisation) -> list[Organisation]:
    """Practices under a commissioner (its own and its sub-locations'), by name."""
    child_ids = [commissioner.id]
    child_ids += session.scalars(
        select(Organisation.id).where(Organisation.parent_id == commissioner.id)
    ).all()
    return list(
        session.scalars(
            select(Organisation)
            .where(
                Organisation.kind == OrganisationKind.GP_PRACTICE,
                Organisation.parent_id.in_(child_ids),
            )
            .order_by(Organisation.name)
        )
    )


@dataclass(frozen=True)
class CommissionerPath:
    """The commissioners above a provider: its ICB and its sub-location (None where the
    provider is not under one)."""

    icb_id: int | None
    sub_location_id: int | None


def commissioners_of(provider: Organisation) -> CommissionerPath:
    """Walk up from ``provider`` (parents are loaded with it) to its sub-location and ICB."""
    icb_id = sub_location_id = None
    node = provider.parent
    for _ in range(_MAX_DEPTH):
        if node is None:
            break
        if node.kind is OrganisationKind.ICB_SUB_LOCATION and sub_location_id is None:
            sub_location_id = node.id
        elif node.kind is OrganisationKind.ICB and icb_id is None:
            icb_id = node.id
        node = node.parent
    return CommissionerPath(icb_id, sub_location_id)


#: Deeper than any real tree (national -> ICB -> sub-location -> PCN -> practice).
_MAX_DEPTH = 8


__all__ = [
    "CommissionerPath",
    "OrganisationConflict",
    "OrganisationError",
    "PermissionDenied",
    "add_network_membership",
    "change_approval_mode",
    "commissioners_of",
    "create_organisation",
    "ensure_can_change_approval_mode",
    "practices_of",
    "validate_ods_code",
    "with_descendants",
]
