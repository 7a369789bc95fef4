"""Two people deciding the same thing at once, each in a real connection of their own.

For modules with a database of their own (``tests.helpers.migrated_app``), where the scene
is committed for real. A person's work is ``work(session) -> result``; it runs in its own
session and commits, or rolls back and returns the exception it raised.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from claims_portal.extensions import db

Work = Callable[[Session], Any]


def act(app: Any, work: Work, *, before_commit: Callable[[], None] | None = None) -> Any:
    """Run ``work`` in a connection of its own; the result, or the exception it raised."""
    with app.app_context():
        session = Session(db.engine, expire_on_commit=False)
        try:
            result = work(session)
            if before_commit is not None:
                before_commit()
            session.commit()
            return result
        except Exception as error:  # the test looks at what was raised
            session.rollback()
            return error
        finally:
            session.close()


def one_after_the_other(app: Any, first: Work, second: Work) -> tuple[Any, Any, float]:
    """``first`` takes its locks and holds them a moment; ``second`` is sent meanwhile.

    Returns both outcomes and how long ``second`` took (it must have waited for the lock).
    """
    holding = threading.Event()
    results: dict[str, Any] = {}

    def hold() -> None:
        holding.set()
        time.sleep(0.6)  # the second person's request arrives meanwhile and must wait

    def run_first() -> None:
        results["first"] = act(app, first, before_commit=hold)

    def run_second() -> None:
        assert holding.wait(10)
        started = time.monotonic()
        results["second"] = act(app, second)
        results["waited"] = time.monotonic() - started

    _run(run_first, run_second)
    return results["first"], results["second"], results["waited"]


def together(app: Any, *works: Work) -> list[Any]:
    """Release every piece of work at the same moment; their outcomes, in order."""
    barrier = threading.Barrier(len(works))
    results: dict[int, Any] = {}

    def run(index: int, work: Work) -> None:
        barrier.wait(10)
        results[index] = act(app, work)

    _run(*(lambda i=i, w=w: run(i, w) for i, w in enumerate(works)))
    return [results[i] for i in range(len(works))]


def _run(*targets: Callable[[], None]) -> None:
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads), "a decision never finished"


def count(app: Any, model: Any, *where: Any) -> int:
    """How many rows of ``model`` match, read in a fresh connection."""
    with app.app_context(), Session(db.engine) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def audit_count(app: Any, action: str, object_id: object | None = None) -> int:
    from claims_portal.audit.models import AuditEvent

    where = [AuditEvent.action == action]
    if object_id is not None:
        where.append(AuditEvent.object_id == str(object_id))
    return count(app, AuditEvent, *where)


def emails_to(app: Any, recipient: str) -> int:
    from claims_portal.mail.models import EmailMessage

    return count(app, EmailMessage, EmailMessage.recipient == recipient)
