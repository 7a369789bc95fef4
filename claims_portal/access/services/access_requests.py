"""Access requests: asking for a role in an organisation, routing, approval and rejection.

Routing (who decides):

- a two-step practice's requests go to its provider approvers (``APPROVE_PRACTICE_ACCESS``);
  if the practice has no active approver yet, to the ICB's administrators instead, so that
  the first approver can be let in;
- a one-step practice's, a PCN's, a federation's and every commissioner-side request go to
  the administrators (``ADMINISTER_USERS``) of the ICB above (for a national organisation,
  its own administrators), and to the organisation's own user administrators.

Nobody decides their own request. Every step is audited and both outcomes are emailed.

Deciding and withdrawing lock the request row and re-check that it is still pending, so of
two people acting at once exactly one wins; the other is told who decided it and when, and
nothing of theirs is recorded (:class:`AccessConflict`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, or_, select

from claims_portal.access.links import Links
from claims_portal.access.models import (
    AccessRequest,
    AccessRequestStatus,
    Membership,
    TokenPurpose,
    User,
)
from claims_portal.access.roles import PROVIDER_ROLES, Capability, Role, roles_allowed_for
from claims_portal.access.services import emails
from claims_portal.access.services.accounts import (
    AccessConflict,
    AccessError,
    create_user,
    grant_membership,
    normalise_email,
)
from claims_portal.access.services.permissions import (
    PermissionDenied,
    has_capability,
    holders,
)
from claims_portal.access.services.policy import email_problem, full_name_problem
from claims_portal.access.services.settings import AccessSettings
from claims_portal.access.services.tokens import issue_token
from claims_portal.audit.services import record_event
from claims_portal.clock import today
from claims_portal.db import DbSession, utcnow
from claims_portal.decisions import already, by_whom, lock_name
from claims_portal.mail.kinds import EmailKind
from claims_portal.mail.services import enqueue
from claims_portal.organisations.models import ApprovalMode, Organisation, OrganisationKind
from claims_portal.statemachine import Machine, Step, lock_for, set_status

#: The order roles are offered in.
ROLE_ORDER = list(Role)
PROVIDER_NATIONAL_ROLES = frozenset({Role.ACHIEVEMENT_ENTRY, Role.DECLARATION_MANAGEMENT})
COMMISSIONER_NATIONAL_ROLES = frozenset(
    {Role.COMMISSIONING_MANAGEMENT, Role.APPROVAL_MANAGEMENT, Role.FINANCE_MANAGEMENT}
)


def requestable_roles(organisation: Organisation) -> list[Role]:
    """The roles a person may hold in ``organisation`` as it is set up today.

    A one-step practice has single-level users; a two-step practice has multi-level users and
    approvers; PCNs and federations have no internal approval step, so single-level users.
    """
    allowed = set(roles_allowed_for(organisation.kind))
    # National roles sit on the side that does the work: providers enter and declare
    # achievement; commissioners offer, approve and finance-approve it; anyone may view.
    allowed -= (
        COMMISSIONER_NATIONAL_ROLES if organisation.kind.is_provider else PROVIDER_NATIONAL_ROLES
    )
    if organisation.kind is OrganisationKind.GP_PRACTICE:
        if organisation.approval_mode is ApprovalMode.TWO_STEP:
            allowed -= {Role.PROVIDER_USER_SINGLE}
        else:
            allowed -= {Role.PROVIDER_USER_MULTI, Role.PROVIDER_APPROVER}
    elif organisation.kind.is_provider:
        allowed -= PROVIDER_ROLES - {Role.PROVIDER_USER_SINGLE}
    return [role for role in ROLE_ORDER if role in allowed]


def role_problem(organisation: Organisation, role: Role) -> str | None:
    """Why ``role`` cannot be held in ``organisation``, or ``None``."""
    if role in requestable_roles(organisation):
        return None
    if organisation.kind is OrganisationKind.GP_PRACTICE and role in PROVIDER_ROLES:
        mode = organisation.approval_mode or ApprovalMode.ONE_STEP
        fits = ", ".join(str(r) for r in requestable_roles(organisation) if r in PROVIDER_ROLES)
        return (
            f"{organisation.name} is a {mode.lower()} practice, so the role {role} does not "
            f"apply there. Choose {fits}"
        )
    return f"The role {role} cannot be held in {organisation.kind.with_article}"


def find_organisations(session: DbSession, query: str, *, limit: int = 20) -> list[Organisation]:
    """Active organisations whose ODS code is ``query`` or whose name contains it."""
    text = " ".join(query.split())
    if len(text) < 2:
        return []
    day = today()
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = session.scalars(
        select(Organisation)
        .where(
            or_(
                Organisation.ods_code == text.upper(),
                func.lower(Organisation.name).like(pattern.lower(), escape="\\"),
            ),
            Organisation.active_from <= day,
            or_(Organisation.active_to.is_(None), Organisation.active_to >= day),
        )
        .order_by(Organisation.ods_code != text.upper(), Organisation.name)
        .limit(limit)
    ).all()
    return list(rows)


# --- Routing -------------------------------------------------------------------------------


def deciding_capability(session: DbSession, organisation: Organisation) -> Capability:
    """Which capability decides requests for ``organisation`` today (see the module doc)."""
    if (
        organisation.kind is OrganisationKind.GP_PRACTICE
        and organisation.approval_mode is ApprovalMode.TWO_STEP
        and holders(session, organisation, Capability.APPROVE_PRACTICE_ACCESS)
    ):
        return Capability.APPROVE_PRACTICE_ACCESS
    return Capability.ADMINISTER_USERS


def deciders(session: DbSession, organisation: Organisation) -> list[User]:
    return holders(session, organisation, deciding_capability(session, organisation))


def can_decide(session: DbSession, user: User, request: AccessRequest) -> bool:
    if request.status is not AccessRequestStatus.PENDING:
        return False
    if request.requester_id == user.id or request.email == user.email:
        return False
    return has_capability(
        user, deciding_capability(session, request.organisation), request.organisation
    )


def ensure_can_decide(session: DbSession, user: User, request: AccessRequest) -> None:
    """Raise :class:`PermissionDenied` unless ``user`` decides ``request``."""
    if request.requester_id == user.id or request.email == user.email:
        raise PermissionDenied(f"{user.email} may not decide their own access request")
    capability = deciding_capability(session, request.organisation)
    if not has_capability(user, capability, request.organisation):
        raise PermissionDenied(
            f"{user.email} may not decide access requests for {request.organisation.ods_code}"
        )


def pending_for(session: DbSession, user: User) -> list[AccessRequest]:
    """Pending requests ``user`` may decide, oldest first.

    Only requests for organisations at or under the user's deciding memberships are read;
    :func:`can_decide` then applies the routing rule to each.
    """
    from claims_portal.access.roles import roles_with
    from claims_portal.organisations.services import with_descendants

    deciding = roles_with(Capability.ADMINISTER_USERS) | roles_with(
        Capability.APPROVE_PRACTICE_ACCESS
    )
    roots = [m.organisation_id for m in user.memberships if m.role in deciding]
    if not roots:
        return []
    rows = session.scalars(
        select(AccessRequest)
        .where(
            AccessRequest.status == AccessRequestStatus.PENDING,
            AccessRequest.organisation_id.in_(with_descendants(session, roots)),
        )
        .order_by(AccessRequest.created_at, AccessRequest.id)
    ).all()
    return [r for r in rows if can_decide(session, user, r)]


def may_decide_any(user: User, memberships: Sequence[Membership]) -> bool:
    """Cheap test (no query) for showing "Pending actions": holds a deciding role."""
    from claims_portal.access.roles import roles_with

    roles = roles_with(Capability.ADMINISTER_USERS) | roles_with(Capability.APPROVE_PRACTICE_ACCESS)
    return any(m.role in roles for m in memberships)


# --- Asking --------------------------------------------------------------------------------


def submit_request(
    session: DbSession,
    *,
    organisation: Organisation,
    role: Role,
    links: Links,
    settings: AccessSettings,
    requester: User | None = None,
    email: str | None = None,
    full_name: str | None = None,
    note: str | None = None,
) -> AccessRequest:
    """Ask for ``role`` in ``organisation``, as a signed-in ``requester`` or a new person.

    Raises :class:`AccessError` (for the user) when the organisation, role, email or name is
    not acceptable or the same request is already waiting.
    """
    day = today()
    if not organisation.is_active_on(day):
        raise AccessError(f"{organisation.name} is not open for access requests")
    problem = role_problem(organisation, role)
    if problem:
        raise AccessError(problem, field="role")
    email, full_name = _requester_identity(
        organisation, role, requester, email, full_name, day, settings.generic_mailbox_names
    )
    waiting = session.scalar(
        select(AccessRequest.id).where(
            AccessRequest.email == email,
            AccessRequest.organisation_id == organisation.id,
            AccessRequest.role == role,
            AccessRequest.status == AccessRequestStatus.PENDING,
        )
    )
    if waiting is not None:
        raise AccessError(
            f"A request for the role {role} at {organisation.name} from {email} is already "
            "waiting for a decision"
        )
    request = AccessRequest(
        organisation_id=organisation.id,
        organisation=organisation,
        role=role,
        requester_id=requester.id if requester else None,
        email=email,
        full_name=full_name,
        note=(note or "").strip() or None,
        status=ACCESS_REQUEST.initial,
    )
    session.add(request)
    session.flush()
    record_event(
        session,
        action=ACCESS_REQUEST.action(ACCESS_REQUEST.created),
        object_type="access_request",
        object_id=request.id,
        actor=requester,
        organisation=organisation,
        after={"email": email, "full_name": full_name, "role": role},
    )
    _tell_about_request(session, request, requester, links)
    return request


def _requester_identity(
    organisation: Organisation,
    role: Role,
    requester: User | None,
    email: str | None,
    full_name: str | None,
    day: dt.date,
    generic_names: frozenset[str],
) -> tuple[str, str]:
    """(email, full name) of who asks: the signed-in person's, or typed ones made tidy.

    Raises :class:`AccessError` when the person already holds the role, or the typed email
    or name is not acceptable.
    """
    if requester is not None:
        held = any(
            m.organisation_id == organisation.id and m.role is role and m.is_active_on(day)
            for m in requester.memberships
        )
        if held:
            raise AccessError(f"You already have the role {role} at {organisation.name}")
        return requester.email, requester.full_name
    email = normalise_email(email or "")
    full_name = " ".join((full_name or "").split())
    problem = email_problem(email, generic_names)
    if problem:
        raise AccessError(problem, field="email")
    problem = full_name_problem(full_name, generic_names)
    if problem:
        raise AccessError(problem, field="full_name")
    return email, full_name


def _tell_about_request(
    session: DbSession, request: AccessRequest, requester: User | None, links: Links
) -> None:
    """The requester hears it arrived; everyone who may decide it hears it is waiting."""
    organisation, role = request.organisation, request.role
    subject, body = emails.access_request_received(
        request.full_name, organisation.display_name, role
    )
    enqueue(
        session,
        to=request.email,
        subject=subject,
        body=body,
        kind=EmailKind.ACCESS_REQUEST_RECEIVED,
        user=requester,
    )
    for approver in deciders(session, organisation):
        subject, body = emails.access_request_to_decide(
            approver.full_name,
            request.full_name,
            request.email,
            organisation.display_name,
            role,
            links.pending_actions(),
        )
        enqueue(
            session,
            to=approver.email,
            subject=subject,
            body=body,
            kind=EmailKind.ACCESS_REQUEST_TO_DECIDE,
            user=approver,
        )


#: An access request's life. Approving and rejecting are taken by whoever decides requests
#: for the organisation (:func:`deciding_capability`); withdrawing by the requester.
ACCESS_REQUEST = Machine(
    object_type="access_request",
    title="Access request",
    initial=AccessRequestStatus.PENDING,
    created="submitted",
    creator=None,
    creator_who="anyone, signed in or not",
    final=frozenset(
        {AccessRequestStatus.APPROVED, AccessRequestStatus.REJECTED, AccessRequestStatus.WITHDRAWN}
    ),
    steps=(
        Step(
            "approve",
            frozenset({AccessRequestStatus.PENDING}),
            AccessRequestStatus.APPROVED,
            None,
            "approved",
            who="deciding capability (APPROVE_PRACTICE_ACCESS or ADMINISTER_USERS)",
        ),
        Step(
            "reject",
            frozenset({AccessRequestStatus.PENDING}),
            AccessRequestStatus.REJECTED,
            None,
            "rejected",
            who="deciding capability (APPROVE_PRACTICE_ACCESS or ADMINISTER_USERS)",
        ),
        Step(
            "withdraw",
            frozenset({AccessRequestStatus.PENDING}),
            AccessRequestStatus.WITHDRAWN,
            None,
            "withdrawn",
            who="the requester",
        ),
    ),
)


def withdraw(session: DbSession, request: AccessRequest, *, actor: User) -> None:
    """The requester takes back a pending request (:class:`AccessConflict` if it was
    decided meanwhile)."""
    take_step(session, request, "withdraw", actor=actor)


# --- Deciding ------------------------------------------------------------------------------

MAX_REASON = 1000


def decide(
    session: DbSession,
    request: AccessRequest,
    *,
    actor: User,
    approve: bool,
    reason: str | None,
    links: Links,
    settings: AccessSettings,
) -> AccessRequest:
    """Approve or reject a pending request (rejection needs a reason); emails the outcome.

    Raises :class:`PermissionDenied` if ``actor`` does not decide requests for its
    organisation, :class:`AccessConflict` if it was decided meanwhile (the request row is
    locked and re-read first), :class:`AccessError` if it cannot be approved now.
    """
    name = "approve" if approve else "reject"
    return take_step(
        session, request, name, actor=actor, reason=reason, links=links, settings=settings
    )


def take_step(
    session: DbSession,
    request: AccessRequest,
    name: str,
    *,
    actor: User,
    reason: str | None = None,
    links: Links | None = None,
    settings: AccessSettings | None = None,
) -> AccessRequest:
    """Take the step ``name`` of :data:`ACCESS_REQUEST`, the one way a request's status
    changes: checks who may take it, locks the row and re-checks it is still pending
    (:class:`AccessConflict` says who decided it), applies the step, records the audit event
    and queues the email. Approving needs ``links`` and ``settings`` (it may make an account
    and email a registration link). Flushes; the caller commits."""
    step = ACCESS_REQUEST.step(name)
    if name == "withdraw" and request.requester_id != actor.id:
        raise PermissionDenied(f"{actor.email} may not withdraw request {request.id}")
    request = lock_pending(session, request)
    if name != "withdraw":
        ensure_can_decide(session, actor, request)
    reason = (reason or "").strip() or None
    if reason and len(reason) > MAX_REASON:
        raise AccessError(f"The reason must be {MAX_REASON} characters or fewer", field="reason")
    if name == "reject" and not reason:
        raise AccessError("Enter the reason for rejecting the request", field="reason")
    if name == "approve":
        assert settings is not None, "approving may make an account"
        user: User | None = _admit(session, request, actor, settings)
    else:
        user = None
    before = set_status(request, step.target)
    request.decided_by_id = actor.id
    request.decided_at = utcnow()
    if name != "withdraw":
        request.decision_reason = reason
    session.flush()
    record_event(
        session,
        action=ACCESS_REQUEST.action(step),
        object_type="access_request",
        object_id=request.id,
        actor=actor,
        organisation=request.organisation_id,
        before={"status": before},
        after={
            "status": request.status,
            "email": request.email,
            "role": request.role,
            "membership_id": request.membership_id,
        },
        reason=reason,
    )
    if name == "reject":
        _tell_rejected(session, request, reason or "")
    if user is not None:
        assert links is not None, "approving emails a link"
        assert settings is not None
        _tell_approved(session, request, user, actor, links, settings)
    return request


def _admit(
    session: DbSession, request: AccessRequest, actor: User, settings: AccessSettings
) -> User:
    """Approving: the person's account (made if new) and the membership asked for."""
    problem = role_problem(request.organisation, request.role)
    if problem:
        raise AccessError(
            f"{problem}. Reject this request and ask the person to request a role that fits."
        )
    # Two requests (or an invitation) for one new person approved at once would both create
    # the account: the second waits here and then finds it.
    lock_name(session, f"person:{request.email}")
    user = request.requester or session.scalar(select(User).where(User.email == request.email))
    if user is None:
        user = create_user(
            session,
            email=request.email,
            full_name=request.full_name,
            actor=actor,
            settings=settings,
        )
    if user.is_disabled:
        raise AccessError(
            f"The account of {user.email} is disabled. Ask an administrator to enable it first."
        )
    membership = _grant_or_existing(session, user, request.organisation, request.role, actor)
    request.requester_id = user.id
    request.membership_id = membership.id
    return user


def _tell_rejected(session: DbSession, request: AccessRequest, reason: str) -> None:
    subject, body = emails.access_rejected(
        request.full_name, request.organisation.display_name, request.role, reason
    )
    enqueue(
        session, to=request.email, subject=subject, body=body, kind=EmailKind.ACCESS_REQUEST_DECIDED
    )


def _tell_approved(
    session: DbSession,
    request: AccessRequest,
    user: User,
    actor: User,
    links: Links,
    settings: AccessSettings,
) -> None:
    organisation = request.organisation
    if user.password_hash is None:
        token, row = issue_token(
            session, user, TokenPurpose.REGISTRATION, actor=actor, settings=settings
        )
        subject, body = emails.access_approved_new_person(
            user.full_name,
            organisation.display_name,
            request.role,
            links.registration(token),
            row.expires_at,
        )
        kind = EmailKind.REGISTRATION_LINK
    else:
        subject, body = emails.access_approved(
            user.full_name, organisation.display_name, request.role, links.sign_in()
        )
        kind = EmailKind.ACCESS_REQUEST_DECIDED
    enqueue(session, to=user.email, subject=subject, body=body, kind=kind)


def lock_pending(session: DbSession, request: AccessRequest) -> AccessRequest:
    """The request, locked and read afresh; :class:`AccessConflict` unless still pending."""
    locked = lock_for(session, AccessRequest, request.id)
    if locked is None:
        raise AccessConflict("This request no longer exists. Nothing was changed.")
    if locked.status is not AccessRequestStatus.PENDING:
        raise AccessConflict(decided_message(session, locked))
    return locked


def decided_message(session: DbSession, request: AccessRequest) -> str:
    """ "This request was already approved by Tom Okafor at 14:02. Nothing was changed." """
    decider = session.get(User, request.decided_by_id) if request.decided_by_id else None
    return already("This request", request.status.lower(), by_whom(decider, request.decided_at))


def _grant_or_existing(
    session: DbSession, user: User, organisation: Organisation, role: Role, actor: User
) -> Membership:
    day = today()
    for membership in user.memberships:
        if (
            membership.organisation_id == organisation.id
            and membership.role is role
            and membership.is_active_on(day)
        ):
            return membership
    return grant_membership(
        session, user=user, organisation=organisation, role=role, start_date=day, actor=actor
    )


def requests_of(session: DbSession, user: User) -> list[AccessRequest]:
    """The user's own requests, newest first."""
    return list(
        session.scalars(
            select(AccessRequest)
            .where(or_(AccessRequest.requester_id == user.id, AccessRequest.email == user.email))
            .order_by(AccessRequest.created_at.desc(), AccessRequest.id.desc())
        )
    )
