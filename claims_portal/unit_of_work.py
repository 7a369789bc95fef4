"""One unit of work per request: the request commits once, when it succeeds.

As Indico's request handler does, the application (:class:`PortalFlask`) ends every request
it dispatches, so views and services never commit or roll back by hand:

- the view (or a ``before_request`` hook: a stored page, a redirect) returned a response
  below 400, and did not :func:`refuse`: **commit**, then run the :func:`after_commit`
  callbacks;
- the view raised (a 404, a ``PermissionDenied``, a rule error it did not catch, a failed
  commit), returned a response of 400 or more, or called :func:`refuse` (a rule error it
  shows on its page; the rollback happens there and then): **roll back**, then run the
  :func:`after_rollback` callbacks;
- except that a view which called :func:`keep_on_refusal` commits even when refused: the
  bookkeeping of a refused attempt (a failed sign-in counted towards the lockout, a lock
  taken, its audit event) must outlive the refusal. It is the only way to keep writes of a
  refused request, and is said where it is used.

Services flush only. Emails queued in the transaction are sent after the commit
(``mail.services``; an ``after_request`` hook, which runs after this). Audit events the
request recorded are chained (sealed) right after its commit, in a short transaction of
their own (``audit.services.seal``), so that no request holds the chain's lock while it
works. Evidence files stored before their rows are written are deleted again by an
:func:`after_rollback` callback. The admin is dispatched the same way (Flask-Admin commits
its own writes; the unit of work then finds nothing left to do). CLI commands and demo
loaders are not requests: they commit explicitly. The signed-in person's
``last_seen_at`` (set by the user loader) is part of the request's unit of work: it is kept
when the request commits, and written again by the person's next successful request when not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, g, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from claims_portal.extensions import db
from claims_portal.rules import Problem, RuleError
from claims_portal.templating import PortalEnvironment

log = logging.getLogger(__name__)

_KEY = "unit_of_work"


@dataclass
class _UnitOfWork:
    refused: bool = False
    keep_on_refusal: bool = False
    finished: bool = False
    committed: bool = False
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    after_rollback: list[Callable[[], None]] = field(default_factory=list)


def _current() -> _UnitOfWork:
    work = g.get(_KEY)
    if work is None:
        work = _UnitOfWork()
        setattr(g, _KEY, work)
    return work


def refuse(error: RuleError | None = None) -> list[Problem]:
    """The request is turned down (a rule error the view shows on its page): what it wrote
    is rolled back now, so the page shows things as they are, and nothing is committed
    at the end whatever the response's status. Returns the error's problems, for the page.

    After :func:`keep_on_refusal`, nothing is rolled back and the request commits."""
    work = _current()
    work.refused = True
    if not work.keep_on_refusal:
        _roll_back(work)
    return list(error.problems) if error is not None else []


def keep_on_refusal() -> None:
    """Commit what this request wrote even though it is refused (bookkeeping: a failed
    sign-in's count, a lockout, their audit events); call it before :func:`refuse`. An
    exception still rolls back."""
    _current().keep_on_refusal = True


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the request's transaction has committed (outside a request,
    at once: the caller committed). A failing callback is logged, never raised."""
    if not has_request_context():
        _run([callback])
        return
    _current().after_commit.append(callback)


def after_rollback(callback: Callable[[], None]) -> None:
    """Run ``callback`` if the request's transaction is rolled back (a compensating action,
    such as deleting an evidence object stored before its row). Logged, never raised."""
    if has_request_context():
        _current().after_rollback.append(callback)


def finish(response: Response) -> None:
    """End the unit of work for the response the request answers with: commit, or roll back
    when the request is refused (see the module's docstring). Raises whatever the commit
    raises (after rolling back). Doing it twice does nothing."""
    work = _current()
    if work.finished:
        return
    work.finished = True
    if (work.refused or response.status_code >= 400) and not work.keep_on_refusal:
        _roll_back(work)
        return
    if not _wrote(db.session):  # a read-only request
        _end_read_only()
        work.committed = True
        _run(work.after_commit)
        return
    from claims_portal.audit.services import recorded_event_ids

    recorded = recorded_event_ids(db.session)
    try:
        db.session.commit()
    except BaseException:
        _roll_back(work)
        raise
    work.committed = True
    if recorded:
        _seal(recorded)
    _run(work.after_commit)


def _end_read_only() -> None:
    """End a transaction that wrote nothing with COMMIT, not the pool's ROLLBACK: the two are
    the same to PostgreSQL, but psycopg forgets every prepared statement of the connection on
    a ROLLBACK, so pages that only read would plan every query afresh on every request."""
    if db.session().in_transaction():
        db.session.commit()


def _seal(recorded: list[int]) -> None:
    """Chain the audit events the request committed, in a short transaction of its own.
    Never fails the request: a seal that fails is logged, and the next one (or
    ``claims-portal audit seal``) chains them."""
    from claims_portal.audit.services import seal_and_commit

    try:
        seal_and_commit(db.session, recorded)
    except Exception:
        log.exception("unit of work: could not seal the audit events %s", recorded)


def fail() -> None:
    """The request raised: roll back what it wrote (nothing, once committed)."""
    work = _current()
    work.finished = True
    if not work.committed:
        _roll_back(work)


def _roll_back(work: _UnitOfWork) -> None:
    db.session.rollback()
    callbacks, work.after_rollback = work.after_rollback, []
    _run(callbacks)


def _run(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:
            log.exception("unit of work: a callback failed")


# --- Whether the transaction wrote anything ------------------------------------------------

_WROTE = "unit_of_work_wrote"


def _wrote(session: Any) -> bool:
    """Anything flushed or executed other than a SELECT since the transaction began, or
    changes waiting for the flush (conservative: an unchanged dirty object counts)."""
    return bool(session.info.get(_WROTE) or session.new or session.dirty or session.deleted)


def _after_flush(session: Session, _context: Any) -> None:
    session.info[_WROTE] = True


def _orm_execute(state: ORMExecuteState) -> None:
    if not state.is_select:  # INSERT, UPDATE, DELETE, and any text() statement
        state.session.info[_WROTE] = True


def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WROTE, None)


_listening = False


def _listen() -> None:
    global _listening
    if not _listening:
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _orm_execute)
        event.listen(Session, "after_transaction_end", _transaction_ended)
        _listening = True


class PortalFlask(Flask):
    """Flask, with every dispatched request ending in one unit of work (and templates'
    globals checked in C: ``claims_portal.templating``)."""

    jinja_environment = PortalEnvironment

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _listen()

    def preprocess_request(self) -> Any:
        answer = super().preprocess_request()
        if answer is None:
            return None
        response = self.make_response(answer)  # a stored page, a redirect
        finish(response)
        return response

    def dispatch_request(self) -> Any:
        response = self.make_response(super().dispatch_request())
        finish(response)
        return response

    def handle_user_exception(self, e: Exception) -> Any:
        fail()
        return super().handle_user_exception(e)

    def log_exception(self, exc_info: Any) -> None:
        # errors.py logs an unhandled error once, with its reference (the request id) and
        # without Flask's "Exception on <path>": a path can hold a reset link's token.
        return None
