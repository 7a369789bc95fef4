"""Keeping the store and the database in step: no orphan rows, orphan objects cleaned up.

The rule: **put the object first, then write the database row**. A row therefore never
points at a missing object. If the database work fails, the object is deleted again (a
compensating action); if the process dies between the put and the commit, the object is an
orphan that :func:`sweep_orphans` deletes once it is older than a grace period.

In a request the commit comes after the view (``unit_of_work``), so the claim page puts the
object with :func:`put_evidence` and registers the compensating delete to run if the request
rolls back (``unit_of_work.after_rollback``; ``claims/views/editing.py``). Outside a request
(the demo loader) the commit goes inside the block::

    with stored_evidence(store, evidence, now=clock.now()) as stored:
        ...  # write the row
        session.commit()

To remove evidence: delete the row and commit first, then ``store.delete(key)``
(``unit_of_work.after_commit``); if that delete fails the object is an orphan and the next
sweep removes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from claims_portal.claims.evidence.errors import EvidenceStorageError
from claims_portal.claims.evidence.storage import (
    EvidenceStore,
    StoredObject,
    is_generated_key,
    new_evidence_key,
    quarantine_key,
)
from claims_portal.claims.evidence.validation import InspectedEvidence

log = logging.getLogger(__name__)

T = TypeVar("T")

#: A sensible grace period for sweeps: far longer than any upload request.
DEFAULT_GRACE = timedelta(hours=24)


def put_evidence(
    store: EvidenceStore, evidence: InspectedEvidence, *, now: datetime, quarantine: bool = False
) -> StoredObject:
    """Store an inspected file under a new key, with ``quarantine`` under the quarantine
    folder (:func:`quarantine_key`: an infected file); the caller deletes it again if its row
    is not committed. Raises :class:`EvidenceStorageError` when the put fails."""
    make_key = quarantine_key if quarantine else new_evidence_key
    return store.put(make_key(store.key_prefix, now), evidence.data, evidence.content_type)


@contextmanager
def stored_evidence(
    store: EvidenceStore, evidence: InspectedEvidence, *, now: datetime
) -> Iterator[StoredObject]:
    """Store an inspected file under a new key; delete it again if the block raises.

    Put the database row (and commit) inside the ``with`` block. Raises
    :class:`EvidenceStorageError` when the put fails (nothing is stored, the block does not
    run) and re-raises whatever the block raised, after deleting the object; a failed delete
    is logged and left to :func:`sweep_orphans`, never hiding the original error.
    """
    stored = put_evidence(store, evidence, now=now)
    try:
        yield stored
    except BaseException:
        discard_quietly(store, stored.key)
        raise


def save_evidence_atomically(
    store: EvidenceStore,
    evidence: InspectedEvidence,
    record: Callable[[StoredObject], T],
    *,
    now: datetime,
) -> T:
    """Store the file, then call ``record(stored)`` to write (and commit) its database row.

    Returns what ``record`` returns. If ``record`` raises (a database error, a rule refusing
    the claim change), the object is deleted and the exception propagates: no orphan row, no
    orphan object. Raises :class:`EvidenceStorageError` when the put fails (``record`` is not
    called).
    """
    with stored_evidence(store, evidence, now=now) as stored:
        return record(stored)


def discard_quietly(store: EvidenceStore, key: str) -> bool:
    """Delete an object as a compensating action; True when it is gone.

    Never raises :class:`EvidenceStorageError`: a failure is logged and the object is left
    for :func:`sweep_orphans`.
    """
    try:
        store.delete(key)
    except EvidenceStorageError:
        log.warning("evidence: could not delete %s; the orphan sweep will remove it", key)
        return False
    return True


@dataclass
class SweepReport:
    """What :func:`sweep_orphans` did."""

    deleted: list[str] = field(default_factory=list)
    #: Orphans whose delete failed (tried again at the next sweep).
    failed: list[str] = field(default_factory=list)
    #: Objects with a database row.
    kept: int = 0
    #: Orphans younger than the grace period (perhaps an upload still in progress).
    too_recent: int = 0
    #: Objects whose key the portal did not generate (never touched).
    ignored: int = 0


def sweep_orphans(
    store: EvidenceStore,
    known_keys: Container[str],
    older_than: timedelta,
    now: datetime,
) -> SweepReport:
    """Delete stored objects that no database row refers to and that are older than
    ``older_than`` (the grace period covering uploads between put and commit).

    ``known_keys`` holds every key in the evidence table (a ``set``, or any container doing
    the lookup); read it *before* calling, so an upload committed meanwhile is protected by
    the grace period. Only keys shaped like :func:`new_evidence_key` under the store's prefix
    are considered, so other objects in a shared bucket are never touched. Raises
    ``ValueError`` for a naive ``now`` or a grace period under one minute, and
    :class:`EvidenceStorageError` when the store cannot be listed (failed deletes are
    reported, not raised).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if older_than < timedelta(minutes=1):
        raise ValueError("the grace period must be at least a minute")
    cutoff = now - older_than
    report = SweepReport()
    for listed in store.list_objects():
        if not is_generated_key(listed.key, store.key_prefix):
            report.ignored += 1
        elif listed.key in known_keys:
            report.kept += 1
        elif listed.last_modified > cutoff:
            report.too_recent += 1
        elif discard_quietly(store, listed.key):
            report.deleted.append(listed.key)
        else:
            report.failed.append(listed.key)
    if report.deleted or report.failed:
        log.info(
            "evidence: orphan sweep deleted %d object(s), %d failed",
            len(report.deleted),
            len(report.failed),
        )
    return report
