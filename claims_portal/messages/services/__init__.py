"""The message centre: what is waiting for the person (tasks) and what happened to claims
that concern them (messages). Read-only apart from the reading position (flush only).

Everything else waiting for the person (bulk uploads, offers, access requests) is gathered
with the tasks in ``waiting``.

**Tasks** are claims waiting for a step the person can take acting for their current
organisation, as SQL (so the header's count is one ``COUNT``):

- provider approver: *Awaiting provider approval* claims of the practice;
- tier 1, tier 2, finance: *Awaiting commissioner review*, *payment approval*, *finance
  approval* claims of providers under the organisation;
- practice users who make claims: *Declined* and *Returned* claims of the practice, to fix
  and submit again, or withdraw.

Claims separation of duties stops the person approving (they created or submitted it, or
gave another commissioner approval on it) are left out: someone else must act on them.

**Messages** are offer news (``mail.services.notices``: an offer made, withdrawn, cancelled
or reissued; for the commissioner, rejected or asked for again) and claim outcomes -
returned, declined, approved for payment, paid - from claim history (``ClaimEvent``),
newest first: for provider users, their organisation's claims; for
commissioners, claims they took a step on (after that step: kept as rows in
``claim_message`` by a trigger on ``claim_event``, see ``messages.models.ClaimMessage``).
Someone's own steps are not messages to them. Events up to the person's reading position
are read.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import has_capability
from claims_portal.claims.models import Claim, ClaimAction, ClaimEvent, ClaimStatus
from claims_portal.claims.services.lifecycle import COMMISSIONER_APPROVALS
from claims_portal.claims.services.listing import (
    ROW_COLUMNS,
    ClaimRow,
    commissioner_claims,
    count_at_most,
    period_label,
    row_from,
)
from claims_portal.db import DbSession, utcnow
from claims_portal.formatting import COUNTED_UP_TO
from claims_portal.mail.models import Notice
from claims_portal.messages.models import ClaimMessage, MessageReadPosition
from claims_portal.organisations.models import Organisation, OrganisationKind
from claims_portal.schemes.models import Scheme

S = ClaimStatus
A = ClaimAction
PAGE_SIZE = 25
#: Most tasks the page lists (the oldest first); the header counts them all.
TASKS_SHOWN = 200

#: Waiting status -> (who acts, the approval they give; None for fixing a claim).
TASK_STATUSES: dict[ClaimStatus, tuple[Capability, ClaimAction | None]] = {
    S.AWAITING_PROVIDER_APPROVAL: (Capability.APPROVE_CLAIM_PROVIDER, A.PROVIDER_APPROVE),
    S.AWAITING_COMMISSIONER_REVIEW: (Capability.APPROVE_CLAIM_TIER_1, A.TIER_1_APPROVE),
    S.AWAITING_PAYMENT_APPROVAL: (Capability.APPROVE_CLAIM_TIER_2, A.TIER_2_APPROVE),
    S.AWAITING_FINANCE_APPROVAL: (Capability.APPROVE_CLAIM_FINANCE, A.FINANCE_APPROVE),
    S.DECLINED: (Capability.CREATE_CLAIM, None),
    S.RETURNED_BY_PROVIDER: (Capability.CREATE_CLAIM, None),
}
#: What each task asks of the person.
TASK_LABELS: dict[ClaimStatus, str] = {
    S.AWAITING_PROVIDER_APPROVAL: "Approve or return",
    S.AWAITING_COMMISSIONER_REVIEW: "Review (tier 1)",
    S.AWAITING_PAYMENT_APPROVAL: "Approve for payment (tier 2)",
    S.AWAITING_FINANCE_APPROVAL: "Finance approval",
    S.DECLINED: "Change and submit again, or withdraw",
    S.RETURNED_BY_PROVIDER: "Change and submit again, or withdraw",
}
OUTCOME_STATUSES = (S.RETURNED_BY_PROVIDER, S.DECLINED, S.APPROVED_FOR_PAYMENT, S.PAID)


def _task_condition(user: User, organisation: Organisation) -> Any:
    """SQL for "this claim waits for ``user``" (None when nothing can)."""
    held = tuple(
        status
        for status, (capability, _) in TASK_STATUSES.items()
        if has_capability(user, capability, organisation)
    )
    return _condition_for(user.id, organisation.id, organisation.kind, held)


@functools.lru_cache(maxsize=1024)
def _condition_for(
    user_id: int, organisation_id: int, kind: OrganisationKind, held: tuple[ClaimStatus, ...]
) -> Any:
    """The condition for these statuses (cached: immutable, and dearer to build than run)."""
    conditions = []
    for status in held:
        _, approval = TASK_STATUSES[status]
        condition: Any = Claim.status == status
        if approval is not None:
            earlier = sorted(COMMISSIONER_APPROVALS - {approval})
            condition = and_(
                condition,
                Claim.created_by_id != user_id,
                or_(Claim.submitted_by_id.is_(None), Claim.submitted_by_id != user_id),
            )
            if approval in COMMISSIONER_APPROVALS and earlier:
                # NOT IN the person's own approvals: PostgreSQL reads those once (an index
                # scan of ix_claim_event_actor_action_claim) and checks each claim against
                # them, instead of a merge against every event of every claim.
                condition = and_(
                    condition,
                    Claim.id.not_in(
                        select(ClaimEvent.claim_id).where(
                            ClaimEvent.actor_id == user_id, ClaimEvent.action.in_(earlier)
                        )
                    ),
                )
        conditions.append(condition)
    if not conditions:
        return None
    where: Any
    if kind.is_commissioner:
        where = commissioner_claims(organisation_id, kind)
    else:
        where = Claim.provider_id == organisation_id
    return and_(where, or_(*conditions))


def may_have_tasks(user: User, organisation: Organisation | None) -> bool:
    """Cheap (no query): whether the person can have tasks at all acting for
    ``organisation`` - the header shows "Messages" to everyone who sees claims."""
    if organisation is None:
        return False
    return has_capability(user, Capability.VIEW_PROVIDER_CLAIMS, organisation) or has_capability(
        user, Capability.VIEW_COMMISSIONER_CLAIMS, organisation
    )


def task_count(session: DbSession, user: User, organisation: Organisation) -> int:
    """How many claims wait for ``user``, counted up to ``COUNTED_UP_TO + 1`` (one query,
    none if nothing can)."""
    condition = _task_condition(user, organisation)
    if condition is None:
        return 0
    return count_at_most(session, _task_selects(condition)[1], COUNTED_UP_TO + 1)


@dataclass(frozen=True)
class Task:
    claim: ClaimRow
    label: str


def tasks_and_count(
    session: DbSession, user: User, organisation: Organisation, *, limit: int = TASKS_SHOWN
) -> tuple[list[Task], int]:
    """The first ``limit`` claims waiting for ``user`` (the longest waiting first) and how
    many there are (up to ``COUNTED_UP_TO + 1``): the count is a second query only when
    there are more than ``limit`` (the first page of tasks is read in index order,
    ``ix_claim_status_changed``)."""
    condition = _task_condition(user, organisation)
    if condition is None:
        return [], 0
    rows_select, count_select = _task_selects(condition)
    rows = [row_from(row) for row in session.execute(rows_select.limit(limit))]
    found = [Task(row, TASK_LABELS[row.status]) for row in rows]
    if len(found) < limit:
        return found, len(found)
    return found, max(limit, count_at_most(session, count_select, COUNTED_UP_TO + 1))


@functools.lru_cache(maxsize=1024)
def _task_selects(condition: Any) -> tuple[Any, Any]:
    rows = (
        select(*ROW_COLUMNS)
        .join(Organisation, Organisation.id == Claim.provider_id)
        .join(Scheme, Scheme.id == Claim.scheme_id)
        .where(condition)
        .order_by(Claim.status_changed_at, Claim.id)
    )
    return rows, select(Claim.id).where(condition)


def tasks(
    session: DbSession, user: User, organisation: Organisation, *, limit: int = TASKS_SHOWN
) -> list[Task]:
    """Claims waiting for ``user``, oldest change first (those waited longest); no count."""
    condition = _task_condition(user, organisation)
    if condition is None:
        return []
    rows = session.execute(_task_selects(condition)[0].limit(limit))
    return [Task(row, TASK_LABELS[row.status]) for row in map(row_from, rows)]


# --- Messages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    event_id: int
    claim_id: int
    to_status: ClaimStatus
    action: ClaimAction
    reason: str | None
    occurred_at: Any
    actor_name: str | None
    provider_name: str
    scheme_name: str
    period_start: Any
    period_end: Any
    unread: bool

    @property
    def reference(self) -> str:
        return f"CLM-{self.claim_id:06d}"

    @property
    def period_label(self) -> str:
        return period_label(self.period_start, self.period_end)

    @property
    def summary(self) -> str:
        what = {
            S.RETURNED_BY_PROVIDER: "was returned by the provider approver",
            S.DECLINED: "was declined",
            S.APPROVED_FOR_PAYMENT: "was approved for payment",
            S.PAID: "was paid",
        }[self.to_status]
        return f"{self.reference} {what}"


def _message_columns(actor: Any) -> tuple[Any, ...]:
    return (
        ClaimEvent.id,
        ClaimEvent.claim_id,
        ClaimEvent.to_status,
        ClaimEvent.action,
        ClaimEvent.reason,
        ClaimEvent.occurred_at,
        actor.full_name,
        Organisation.name,
        Scheme.name,
        Claim.period_start,
        Claim.period_end,
    )


def _messages_select(user: User, organisation: Organisation) -> tuple[Any, str | None]:
    """The person's claim messages and whose they are: ``"provider"`` (the organisation's
    outcomes from the history, unordered), ``"commissioner"`` (the ids of the person's rows
    in ``claim_message``, :func:`_inbox_ids`), or None (no claim messages)."""
    side = _side(user, organisation)
    if side == "provider":
        actor = aliased(User)
        statement = (
            select(*_message_columns(actor))
            .join(Claim, Claim.id == ClaimEvent.claim_id)
            .join(Organisation, Organisation.id == Claim.provider_id)
            .join(Scheme, Scheme.id == Claim.scheme_id)
            .outerjoin(actor, actor.id == ClaimEvent.actor_id)
            .where(*_provider_outcomes(user.id, organisation.id))
        )
        return statement, side
    if side == "commissioner":
        return _inbox_ids(user.id, organisation.id, organisation.kind), side
    return None, None


def _side(user: User, organisation: Organisation | None) -> str | None:
    """Whose claim messages the person gets here: ``"provider"``, ``"commissioner"`` or
    None."""
    if organisation is None:
        return None
    if has_capability(user, Capability.VIEW_PROVIDER_CLAIMS, organisation):
        return "provider"
    if has_capability(user, Capability.VIEW_COMMISSIONER_CLAIMS, organisation):
        return "commissioner"
    return None


def _provider_outcomes(user_id: int, organisation_id: int) -> tuple[Any, ...]:
    """A provider's messages (over ``ClaimEvent`` joined to ``Claim``): its claims'
    outcomes, but the person's own."""
    return (
        ClaimEvent.to_status.in_(OUTCOME_STATUSES),
        or_(ClaimEvent.actor_id.is_(None), ClaimEvent.actor_id != user_id),
        Claim.provider_id == organisation_id,
    )


def _inbox_ids(user_id: int, organisation_id: int, kind: OrganisationKind | None) -> Any:
    """The ids of a commissioner's claim messages in scope, newest first: the rows the
    trigger wrote for each outcome after the person's own step (not theirs), read along
    ``claim_message``'s primary key. The scope is a scalar subquery on purpose: PostgreSQL
    checks each of the person's rows by the claim's primary key (as far as a ``LIMIT``
    needs), instead of hashing every claim of a large ICB."""
    in_scope = (
        select(commissioner_claims(organisation_id, kind))
        .where(Claim.id == ClaimMessage.claim_id)
        .correlate(ClaimMessage)
        .scalar_subquery()
    )
    return (
        select(ClaimMessage.claim_event_id.label("id"))
        .where(ClaimMessage.user_id == user_id, in_scope)
        .order_by(ClaimMessage.claim_event_id.desc())
    )


def _inbox_rows(ids: Any) -> Any:
    """The messages of ``ids`` (a subquery of event ids), newest first."""
    actor = aliased(User)
    return (
        select(*_message_columns(actor))
        .select_from(ids)
        .join(ClaimEvent, ClaimEvent.id == ids.c.id)
        .join(Claim, Claim.id == ClaimEvent.claim_id)
        .join(Organisation, Organisation.id == Claim.provider_id)
        .join(Scheme, Scheme.id == Claim.scheme_id)
        .outerjoin(actor, actor.id == ClaimEvent.actor_id)
        .order_by(ids.c.id.desc())
    )


def _message(values: Any, position: int) -> Message:
    fields: list[Any] = [*values, values[0] > position]
    return Message(*fields)


def read_position(session: DbSession, user: User) -> int:
    return int(
        session.scalar(
            select(MessageReadPosition.last_read_event_id).where(
                MessageReadPosition.user_id == user.id
            )
        )
        or 0
    )


@dataclass(frozen=True)
class MessagePage:
    messages: list[Message]
    #: Messages, or (``more``) how many were counted before counting stopped.
    total: int
    #: Unread messages, or (``unread_more``) how many were counted.
    unread: int
    page: int
    #: Pages, or (``more``) the pages known so far: there are more after them.
    pages: int
    newest_id: int
    #: There are more than ``total`` messages (a commissioner's are counted up to
    #: ``COUNTED_UP_TO`` past the page shown).
    more: bool = False
    #: There are more than ``unread`` unread messages.
    unread_more: bool = False


def messages(
    session: DbSession, user: User, organisation: Organisation, *, page: int = 1
) -> MessagePage:
    """A page of messages (newest first) and how many there are, and are unread: three
    queries (the reading position, the counts, the page's rows).

    A commissioner's are counted up to ``COUNTED_UP_TO`` past the page asked for (as the
    claim lists are): beyond that the page says "more than" and its paging runs to the pages
    counted, with a next page."""
    statement, side = _messages_select(user, organisation)
    if statement is None:
        return MessagePage([], 0, 0, 1, 1, 0)
    position = read_position(session, user)
    more = unread_more = False
    if side == "commissioner":
        horizon = (max(1, page) - 1) * PAGE_SIZE + COUNTED_UP_TO
        limited = statement.limit(horizon + 1).subquery()
        counted = select(
            func.count(), func.count().filter(limited.c.id > position), func.max(limited.c.id)
        )
        total, unread, newest = session.execute(counted).one()
        total, unread = int(total or 0), int(unread or 0)
        more, unread_more = total > horizon, unread > horizon
        total, unread = min(total, horizon), min(unread, horizon)
    else:
        counted = statement.with_only_columns(
            func.count(ClaimEvent.id),
            func.count(ClaimEvent.id).filter(ClaimEvent.id > position),
            func.max(ClaimEvent.id),
        )
        total, unread, newest = session.execute(counted).one()
        total, unread = int(total or 0), int(unread or 0)
    pages = max(1, -(-total // PAGE_SIZE)) + (1 if more and total % PAGE_SIZE == 0 else 0)
    page = max(1, min(page, pages))
    offset = (page - 1) * PAGE_SIZE
    if side == "commissioner":
        rows_select = _inbox_rows(statement.limit(PAGE_SIZE).offset(offset).subquery())
    else:
        rows_select = statement.order_by(ClaimEvent.id.desc()).limit(PAGE_SIZE).offset(offset)
    rows = session.execute(rows_select).all()
    return MessagePage(
        [_message(row, position) for row in rows],
        total,
        unread,
        page,
        pages,
        int(newest or 0),
        more,
        unread_more,
    )


def unread_count(session: DbSession, user: User, organisation: Organisation | None) -> int:
    """The header's "Messages (N)": claim outcomes not yet read, and unread offer news
    (``mail.services.notices``), counted up to ``COUNTED_UP_TO + 1``: one query."""
    side = _side(user, organisation)
    if organisation is None or side is None:
        statement = _unread_select(user.id, None, None, None)
    else:
        statement = _unread_select(user.id, organisation.id, organisation.kind, side)
    return min(int(session.scalar(statement) or 0), COUNTED_UP_TO + 1)


@functools.lru_cache(maxsize=1024)
def _unread_select(
    user_id: int, organisation_id: int | None, kind: OrganisationKind | None, side: str | None
) -> Any:
    """Unread notices plus unread claim outcomes (the events of :func:`_messages_select`
    after the person's reading position), as one scalar ``SELECT`` (cached: dearer to build
    than to run)."""
    notices_unread: Any = (
        select(func.count(Notice.id))
        .where(Notice.user_id == user_id, Notice.read_at.is_(None))
        .scalar_subquery()
    )
    if side is None or organisation_id is None:
        return select(notices_unread)
    position = func.coalesce(
        select(MessageReadPosition.last_read_event_id)
        .where(MessageReadPosition.user_id == user_id)
        .scalar_subquery(),
        0,
    )
    events: Any
    if side == "provider":
        events = (
            select(ClaimEvent.id)
            .join(Claim, Claim.id == ClaimEvent.claim_id)
            .where(ClaimEvent.id > position, *_provider_outcomes(user_id, organisation_id))
        )
    else:
        # The person's rows after the position: a range of claim_message's primary key.
        events = _inbox_ids(user_id, organisation_id, kind).where(
            ClaimMessage.claim_event_id > position
        )
    limited = events.limit(COUNTED_UP_TO + 1).subquery()
    outcomes_unread = select(func.count()).select_from(limited).scalar_subquery()
    return select(notices_unread + outcomes_unread)


def mark_read(session: DbSession, user: User, up_to_event_id: int) -> None:
    """Everything up to ``up_to_event_id`` is read (the position never moves back)."""
    row = session.get(MessageReadPosition, user.id)
    if row is None:
        session.add(
            MessageReadPosition(
                user_id=user.id, last_read_event_id=up_to_event_id, updated_at=utcnow()
            )
        )
    elif up_to_event_id > row.last_read_event_id:
        row.last_read_event_id = up_to_event_id
        row.updated_at = utcnow()
    session.flush()
