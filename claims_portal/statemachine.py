"""One pattern for every object with a status: a table of steps, one locked way to take one.

Each object with a status (claims, offers, schemes, access requests, invitations) declares a
:class:`Machine`: its initial status and a table of :class:`Step`\\ s, each naming the
statuses it starts from, the one it leads to, the capability it needs and the past-tense
verb its audit event is named with (``scheme_offer.accepted``). The domain's one transition
function then:

1. locks the row and reads it afresh (:func:`lock_for`; ``decisions.lock``), so of two
   people acting at once the second waits for the first's commit;
2. re-checks that the step is allowed from the status the row now has (the status the person
   saw may have moved on), else raises the domain's conflict error saying who got there
   first;
3. sets the status with :func:`set_status`, the only code that assigns a status (a
   convention test fails any other ``.status =``), and records the audit event and emails
   in that same function.

The tables are data: ``docs/architecture.md`` shows them side by side and
``tests/test_state_machines.py`` checks each (every status reachable from the initial one,
every step leading where the table says). The claims lifecycle
(``claims/services/lifecycle.py``) keeps its own richer table (routed steps, reasons,
separation of duties) and uses :func:`set_status` too.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from claims_portal.access.roles import Capability
from claims_portal.db import DbSession, utcnow
from claims_portal.decisions import lock

S = TypeVar("S", bound=enum.Enum)
T = TypeVar("T")


@dataclass(frozen=True)
class Step(Generic[S]):
    """One allowed step of an object's life."""

    #: What callers ask for: ``accept``.
    name: str
    sources: frozenset[S]
    target: S
    #: Held in the object's organisation; None when no capability applies (the requester
    #: taking back their own request, the holder of an emailed link).
    capability: Capability | None
    #: Past tense, the audit action's verb: ``accepted`` -> ``scheme_offer.accepted``.
    done: str
    #: Why the step is refused from another status: "Only a pending offer can be accepted".
    refusal: str = ""
    #: Who takes it, when that is not one capability ("the requester").
    who: str = ""
    #: The audit action when it is not ``<object_type>.<done>``; None: not audited itself.
    audit: str | None = ""


@dataclass(frozen=True)
class Machine(Generic[S]):
    """An object's statuses and the steps between them."""

    #: The audit object type (``scheme_offer``); also names the audit actions.
    object_type: str
    #: What the object is called in the docs ("Offer").
    title: str
    initial: S
    #: The audit verb of creating the object in its initial status (``offered``).
    created: str
    #: Who creates it (the capability; None: see ``creator_who``), shown in the docs.
    creator: Capability | None
    steps: tuple[Step[S], ...]
    #: Statuses the object ends in (no step leaves them); for the docs and tests.
    final: frozenset[S] = field(default_factory=frozenset)
    #: Who creates it, when that is not one capability ("anyone").
    creator_who: str = ""

    def step(self, name: str) -> Step[S]:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"{self.object_type} has no step {name!r}")

    def allows(self, status: S, name: str) -> bool:
        """Whether the step ``name`` may be taken from ``status``."""
        return status in self.step(name).sources

    def steps_from(self, status: S) -> list[Step[S]]:
        return [step for step in self.steps if status in step.sources]

    def action(self, step: Step[S] | str) -> str:
        """The audit action of a step (or of ``created``): ``scheme_offer.accepted``."""
        if isinstance(step, str):
            return f"{self.object_type}.{step}"
        return step.audit or f"{self.object_type}.{step.done}"

    def actions(self) -> list[str]:
        """Every audit action this machine records, creation first."""
        steps = [self.action(s) for s in self.steps if s.audit is not None]
        return [self.action(self.created), *steps]

    def reachable(self) -> set[S]:
        """Statuses reachable from the initial one by the steps of the table."""
        seen = {self.initial}
        frontier = [self.initial]
        while frontier:
            status = frontier.pop()
            for step in self.steps_from(status):
                if step.target not in seen:
                    seen.add(step.target)
                    frontier.append(step.target)
        return seen

    def done_for(self, action: str) -> str:
        """``scheme_offer.requested_again`` -> ``requested again`` (for messages)."""
        return action.removeprefix(f"{self.object_type}.").replace("_", " ")


def lock_for(session: DbSession, model: type[T], row_id: int) -> T | None:
    """The row, locked until the transaction ends and read afresh (``decisions.lock``)."""
    return lock(session, model, row_id)


def set_status(row: Any, status: enum.Enum) -> Any:
    """Put ``row`` in ``status`` (and stamp ``status_changed_at`` where the model has one);
    returns the status it had. The only assignment of a status in the application: call it
    from a domain's transition function, after the lock and the re-check."""
    before = row.status
    row.status = status
    if hasattr(row, "status_changed_at"):
        row.status_changed_at = utcnow()
    return before


def table_rows(machine: Machine[Any]) -> Iterable[tuple[str, str, str, str, str]]:
    """(step, from, to, capability, audit action) rows for the docs, creation first."""
    creator = machine.creator.name if machine.creator is not None else machine.creator_who
    yield ("create", "-", str(machine.initial.value), creator, machine.action(machine.created))
    for step in machine.steps:
        sources = ", ".join(sorted(str(s.value) for s in step.sources))
        capability = step.capability.name if step.capability is not None else step.who or "-"
        action = machine.action(step) if step.audit is not None else "-"
        yield (step.name, sources, str(step.target.value), capability, action)
