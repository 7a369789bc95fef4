"""Store first, then the row: failures leave no orphan row and orphan objects are swept."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from claims_portal.claims.evidence import (
    EvidenceStorageError,
    LocalEvidenceStore,
    StoredObject,
    inspect_evidence,
    new_evidence_key,
    save_evidence_atomically,
    stored_evidence,
    sweep_orphans,
)

NOW = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)


class DatabaseDown(Exception):
    """Stands in for a database error (psycopg.OperationalError and the like)."""


class FakeEvidenceTable:
    """What the claims code will do with the database: add a row, commit (or fail)."""

    def __init__(self, *, fail: bool = False) -> None:
        self.rows: dict[str, dict[str, object]] = {}
        self.fail = fail

    def record(self, stored: StoredObject) -> str:
        if self.fail:
            raise DatabaseDown("could not commit")
        self.rows[stored.key] = {"size": stored.size, "content_type": stored.content_type}
        return stored.key


@pytest.fixture
def store(tmp_path) -> LocalEvidenceStore:
    return LocalEvidenceStore(tmp_path / "uploads", key_prefix="evidence/")


@pytest.fixture
def evidence(real_files):
    return inspect_evidence(real_files["scan.pdf"], "March claim.pdf")


def stored_keys(store) -> set[str]:
    return {item.key for item in store.list_objects()}


def test_a_successful_save_stores_the_object_and_the_row(store, evidence):
    table = FakeEvidenceTable()

    key = save_evidence_atomically(store, evidence, table.record, now=NOW)

    assert stored_keys(store) == {key} == set(table.rows)
    assert key.startswith("evidence/2026/11/")
    assert "March" not in key
    assert table.rows[key] == {"size": evidence.size, "content_type": "application/pdf"}
    with store.open(key) as stream:
        assert stream.read() == evidence.data


def test_a_database_failure_deletes_the_object_and_propagates(store, evidence):
    table = FakeEvidenceTable(fail=True)

    with pytest.raises(DatabaseDown):
        save_evidence_atomically(store, evidence, table.record, now=NOW)

    assert table.rows == {}
    assert stored_keys(store) == set()


def test_the_context_manager_form_compensates_too(store, evidence):
    seen: list[str] = []

    def attach_then_fail_to_commit() -> None:
        with stored_evidence(store, evidence, now=NOW) as stored:
            seen.append(stored.key)
            assert store.exists(stored.key)
            raise DatabaseDown("commit failed")

    with pytest.raises(DatabaseDown):
        attach_then_fail_to_commit()
    assert len(seen) == 1
    assert stored_keys(store) == set()


def test_a_storage_failure_never_reaches_the_database(tmp_path, evidence):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    store = LocalEvidenceStore(blocked)
    table = FakeEvidenceTable()

    with pytest.raises(EvidenceStorageError):
        save_evidence_atomically(store, evidence, table.record, now=NOW)

    assert table.rows == {}


class FlakyDeleteStore(LocalEvidenceStore):
    def delete(self, key: str) -> None:
        raise EvidenceStorageError("The evidence store is not available at the moment")


def test_a_failed_compensating_delete_keeps_the_original_error(tmp_path, evidence, caplog):
    store = FlakyDeleteStore(tmp_path / "uploads")

    with pytest.raises(DatabaseDown):
        save_evidence_atomically(store, evidence, FakeEvidenceTable(fail=True).record, now=NOW)

    orphans = stored_keys(store)
    assert len(orphans) == 1  # left for the sweep
    assert "orphan sweep will remove it" in caplog.text
    # ... which removes it once the grace period has passed.
    report = sweep_orphans(
        LocalEvidenceStore(tmp_path / "uploads"),
        set(),
        older_than=timedelta(hours=1),
        now=datetime.now(UTC) + timedelta(hours=2),
    )
    assert report.deleted == sorted(orphans)


# --- The sweep ---------------------------------------------------------------------------


def age(store: LocalEvidenceStore, key: str, by: timedelta) -> None:
    stamp = (NOW - by).timestamp()
    os.utime(store.root.joinpath(*key.split("/")), (stamp, stamp))


def test_the_sweep_deletes_old_orphans_only(store):
    known = new_evidence_key(store.key_prefix, NOW)
    old_orphan = new_evidence_key(store.key_prefix, NOW)
    new_orphan = new_evidence_key(store.key_prefix, NOW)
    for key in (known, old_orphan, new_orphan):
        store.put(key, b"x", "application/pdf")
    age(store, known, timedelta(days=30))
    age(store, old_orphan, timedelta(days=2))
    age(store, new_orphan, timedelta(minutes=5))
    store.put("evidence/handmade-note.txt", b"not ours", "text/plain")

    report = sweep_orphans(store, {known}, older_than=timedelta(hours=24), now=NOW)

    assert report.deleted == [old_orphan]
    assert (report.kept, report.too_recent, report.ignored, report.failed) == (1, 1, 1, [])
    assert stored_keys(store) == {known, new_orphan, "evidence/handmade-note.txt"}


def test_the_sweep_reports_deletes_that_fail(tmp_path):
    store = FlakyDeleteStore(tmp_path / "uploads")
    key = new_evidence_key(store.key_prefix, NOW)
    store.put(key, b"x", "application/pdf")
    age(store, key, timedelta(days=2))

    report = sweep_orphans(store, set(), older_than=timedelta(hours=1), now=NOW)

    assert report.failed == [key]
    assert report.deleted == []


def test_the_sweep_accepts_any_container_of_known_keys(store):
    key = new_evidence_key(store.key_prefix, NOW)
    store.put(key, b"x", "application/pdf")
    age(store, key, timedelta(days=2))

    class KeysInTheDatabase:
        def __contains__(self, candidate: object) -> bool:
            return candidate == key

    assert sweep_orphans(store, KeysInTheDatabase(), timedelta(hours=1), NOW).kept == 1


def test_the_sweep_refuses_a_naive_clock_or_a_tiny_grace_period(store):
    with pytest.raises(ValueError, match="timezone-aware"):
        sweep_orphans(store, set(), timedelta(hours=1), datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="at least a minute"):
        sweep_orphans(store, set(), timedelta(seconds=5), NOW)


def test_the_sweep_works_on_s3(s3_store, s3_client):
    known = new_evidence_key(s3_store.key_prefix, NOW)
    orphan = new_evidence_key(s3_store.key_prefix, NOW)
    for key in (known, orphan):
        s3_store.put(key, b"x", "application/pdf")

    # moto stamps objects with the real clock: sweep "tomorrow".
    report = sweep_orphans(
        s3_store, {known}, older_than=timedelta(hours=1), now=datetime.now(UTC) + timedelta(days=1)
    )

    assert report.deleted == [orphan]
    assert s3_store.exists(known)
    assert not s3_store.exists(orphan)


def test_a_failed_database_write_on_s3_leaves_no_object(s3_store, s3_client, evidence):
    with pytest.raises(DatabaseDown):
        save_evidence_atomically(s3_store, evidence, FakeEvidenceTable(fail=True).record, now=NOW)
    assert "Contents" not in s3_client.list_objects_v2(Bucket="claims-evidence-test")
