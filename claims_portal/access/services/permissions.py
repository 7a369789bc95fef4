"""Permission checks by named capability, for services; views declare theirs (``routes.py``).

A commissioner role held in an ICB reaches the ICB's sub-locations and every provider under
them; a provider role reaches only its own organisation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import cast

from flask import g
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from claims_portal.access.models import Membership, User
from claims_portal.access.roles import ROLE_CAPABILITIES, Capability
from claims_portal.clock import today as clock_today
from claims_portal.db import DbSession
from claims_portal.organisations.models import Organisation, OrganisationKind


class PermissionDenied(Exception):
    """The actor lacks a capability for an organisation (shown as 403)."""


def ancestors_and_self(organisation: Organisation) -> list[Organisation]:
    chain: list[Organisation] = []
    node: Organisation | None = organisation
    while node is not None and node not in chain:
        chain.append(node)
        node = node.parent
    return chain


def icb_of(organisation: Organisation) -> Organisation | None:
    """The ICB that commissions ``organisation`` (itself if it is one)."""
    for node in ancestors_and_self(organisation):
        if node.kind is OrganisationKind.ICB:
            return node
    return None


def _membership_reaches(membership: Membership, organisation: Organisation) -> bool:
    if membership.organisation_id == organisation.id:
        return True
    if membership.role.is_commissioner_role or membership.organisation.kind.is_commissioner:
        return any(
            node.id == membership.organisation_id for node in ancestors_and_self(organisation)
        )
    return False


def has_capability(
    user: User,
    capability: Capability,
    organisation: Organisation,
    *,
    today: dt.date | None = None,
    memberships: Iterable[Membership] | None = None,
) -> bool:
    """Whether ``user`` may exercise ``capability`` on ``organisation`` today."""
    if user.is_disabled:
        return False
    day = today or clock_today()
    roles = ROLE_CAPABILITIES[capability]
    for membership in memberships if memberships is not None else user.memberships:
        if (
            membership.role in roles
            and membership.is_active_on(day)
            and _membership_reaches(membership, organisation)
        ):
            return True
    return False


def holders(session: DbSession, organisation: Organisation, capability: Capability) -> list[User]:
    """People who may exercise ``capability`` on ``organisation`` today (enabled accounts),
    by id.

    One query for the candidates (memberships in the organisation or above it with a role
    that grants the capability) and one for their memberships, then the same rule as
    :func:`has_capability` on each.
    """
    return holders_in(session, [organisation], capability)[organisation.id]


def holders_in(
    session: DbSession, organisations: Iterable[Organisation], capability: Capability
) -> dict[int, list[User]]:
    """:func:`holders` for many organisations at once (organisation id -> people), in the
    same two queries: the candidates of every organisation's chain, then the rule on each."""
    chains = {o.id: (o, ancestors_and_self(o)) for o in organisations}
    if not chains:
        return {}
    chain_ids = {node.id for _, chain in chains.values() for node in chain}
    candidates = (
        select(Membership.user_id)
        .where(
            Membership.organisation_id.in_(sorted(chain_ids)),
            Membership.role.in_(ROLE_CAPABILITIES[capability]),
            Membership.revoked_at.is_(None),
        )
        .scalar_subquery()
    )
    users = session.scalars(
        select(User)
        .where(User.id.in_(candidates), User.is_disabled.is_(False))
        .options(selectinload(User.memberships))
        .order_by(User.id)
    ).all()
    day = clock_today()
    # Each organisation's chain is checked only against the people with a membership in it
    # (6,500 practices by 6,500 people is 6,500 checks, not 42 million).
    roles = ROLE_CAPABILITIES[capability]
    members: dict[int, set[int]] = {}
    for position, user in enumerate(users):
        for membership in user.memberships:
            if membership.role in roles and membership.organisation_id in chain_ids:
                members.setdefault(membership.organisation_id, set()).add(position)
    found: dict[int, list[User]] = {}
    for organisation_id, (org, chain) in chains.items():
        positions = sorted(set().union(*(members.get(node.id, set()) for node in chain)))
        found[organisation_id] = [
            users[i] for i in positions if has_capability(users[i], capability, org, today=day)
        ]
    return found


def ensure_capability(
    user: User, capability: Capability, organisation: Organisation, *, today: dt.date | None = None
) -> None:
    """Raise :class:`PermissionDenied` unless :func:`has_capability`."""
    if not has_capability(user, capability, organisation, today=today):
        raise PermissionDenied(f"{user.email} may not {capability} for {organisation.ods_code}")


def current_organisation() -> Organisation | None:
    """The organisation the signed-in user is acting for (chosen with the switcher)."""
    return cast(Organisation | None, g.get("current_organisation"))
