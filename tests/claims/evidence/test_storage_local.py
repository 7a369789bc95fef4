"""The local evidence store (``uploads/``), keys, and choosing a store from configuration."""

from __future__ import annotations

import io
import os
import stat
from datetime import UTC, datetime, timedelta, timezone

import pytest

from claims_portal.claims.evidence import (
    EvidenceNotFound,
    EvidenceStorageError,
    EvidenceStore,
    LocalEvidenceStore,
    S3EvidenceStore,
    new_evidence_key,
    store_from_config,
)
from claims_portal.claims.evidence.storage import is_generated_key, normalise_prefix
from claims_portal.config import ConfigurationError

NOW = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
PDF = "application/pdf"


@pytest.fixture
def store(tmp_path) -> LocalEvidenceStore:
    return LocalEvidenceStore(tmp_path / "uploads")


def test_the_local_store_keeps_the_interface(store):
    assert isinstance(store, EvidenceStore)


def test_put_open_exists_delete(store):
    key = new_evidence_key(store.key_prefix, NOW)

    stored = store.put(key, b"%PDF-1.7 evidence", PDF)

    assert (stored.key, stored.size, stored.content_type) == (key, 17, PDF)
    assert store.exists(key)
    with store.open(key) as stream:
        assert stream.read() == b"%PDF-1.7 evidence"
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)  # deleting twice is fine


def test_put_accepts_a_stream(store):
    key = new_evidence_key("", NOW)
    stored = store.put(key, io.BytesIO(b"x" * 200_000), PDF)
    assert stored.size == 200_000
    with store.open(key) as stream:
        assert len(stream.read()) == 200_000


def test_folders_are_0750_and_files_0640(store):
    old_umask = os.umask(0o000)  # even with a permissive umask
    try:
        key = new_evidence_key("", NOW)
        store.put(key, b"data", PDF)
    finally:
        os.umask(old_umask)
    path = store.root / key
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o750
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o750


def test_a_failed_write_leaves_nothing_behind(store):
    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            raise OSError("the upload connection dropped")

    key = new_evidence_key("", NOW)
    with pytest.raises(EvidenceStorageError) as caught:
        store.put(key, Broken(), PDF)
    assert str(caught.value) == "The evidence store is not available at the moment. Try again later"
    assert not store.exists(key)
    assert not [p for p in store.root.rglob("*") if p.is_file()]


def test_a_replaced_object_is_never_seen_half_written(store):
    key = new_evidence_key("", NOW)
    store.put(key, b"first version", PDF)
    with store.open(key) as reader:
        store.put(key, b"second version, longer", PDF)
        assert reader.read() == b"first version"  # the old file, whole: os.replace
    with store.open(key) as reader:
        assert reader.read() == b"second version, longer"


def test_a_missing_object_is_not_found(store):
    with pytest.raises(EvidenceNotFound) as caught:
        store.open(new_evidence_key("", NOW))
    assert str(caught.value) == "This evidence file could not be found"


@pytest.mark.parametrize(
    "key",
    ["../etc/passwd", "/etc/passwd", "2026/../../x", "2026//x", "", ".hidden", "a\\b", "a b", "a/"],
)
def test_unsafe_keys_are_refused(store, key):
    for action in (
        lambda: store.put(key, b"x", PDF),
        lambda: store.open(key),
        lambda: store.delete(key),
        lambda: store.exists(key),
    ):
        with pytest.raises(EvidenceStorageError):
            action()


def test_a_symlink_cannot_lead_outside_the_root(store, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"not evidence")
    store.root.mkdir()
    (store.root / "2026").symlink_to(outside)
    with pytest.raises(EvidenceStorageError):
        store.open("2026/secret")
    with pytest.raises(EvidenceStorageError):
        store.put("2026/new", b"x", PDF)
    assert not (outside / "new").exists()


def test_list_objects_reports_keys_sizes_and_times(store):
    keys = {new_evidence_key("", NOW) for _ in range(3)}
    for key in keys:
        store.put(key, b"abc", PDF)
    old = sorted(keys)[0]
    stamp = (NOW - timedelta(days=3)).timestamp()
    os.utime(store.root / old, (stamp, stamp))

    listed = {item.key: item for item in store.list_objects()}

    assert set(listed) == keys
    assert all(item.size == 3 for item in listed.values())
    assert listed[old].last_modified == NOW - timedelta(days=3)
    assert all(item.last_modified.tzinfo is UTC for item in listed.values())
    assert list(store.list_objects(prefix="1999/")) == []


def test_list_objects_skips_writes_in_progress_and_copes_with_no_folder(store):
    assert list(store.list_objects()) == []  # the folder does not exist yet
    key = new_evidence_key("", NOW)
    store.put(key, b"abc", PDF)
    (store.root / "2026" / "11" / ".upload-abc123").write_bytes(b"partial")
    assert [item.key for item in store.list_objects()] == [key]


# --- Keys ----------------------------------------------------------------------------------


def test_keys_are_generated_never_the_users_name():
    key = new_evidence_key("evidence/", NOW)
    assert key.startswith("evidence/2026/11/")
    assert len(key.rsplit("/", 1)[1]) == 32
    assert is_generated_key(key, "evidence/")
    assert not is_generated_key(key, "other/")
    assert not is_generated_key("evidence/2026/11/report.pdf", "evidence/")
    assert new_evidence_key("evidence/", NOW) != key


def test_keys_use_the_utc_month():
    late_in_london = datetime(2026, 3, 31, 23, 30, tzinfo=timezone(timedelta(hours=-1)))
    assert new_evidence_key("", late_in_london).startswith("2026/04/")
    with pytest.raises(ValueError, match="timezone-aware"):
        new_evidence_key("", datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test


@pytest.mark.parametrize(
    ("given", "normalised"),
    [("", ""), (None, ""), ("evidence", "evidence/"), ("a/b/", "a/b/"), ("  x  ", "x/")],
)
def test_prefixes_are_normalised(given, normalised):
    assert normalise_prefix(given) == normalised


@pytest.mark.parametrize("prefix", ["../x/", "/abs/", "a//b/", "a/../b", "with space/"])
def test_unsafe_prefixes_are_configuration_errors(prefix):
    with pytest.raises(ConfigurationError):
        normalise_prefix(prefix)


# --- Choosing a store ----------------------------------------------------------------------


def test_local_is_the_default(tmp_path):
    store = store_from_config({"EVIDENCE_LOCAL_DIR": str(tmp_path / "u")})
    assert isinstance(store, LocalEvidenceStore)
    assert store.root == tmp_path / "u"
    assert isinstance(store_from_config({"EVIDENCE_STORE": "LOCAL"}), LocalEvidenceStore)


def test_the_app_config_defaults_choose_the_uploads_folder():
    from claims_portal.config import DevelopmentConfig

    store = store_from_config(DevelopmentConfig.from_environment())
    assert isinstance(store, LocalEvidenceStore)
    assert store.root.name == "uploads"


def test_s3_needs_a_bucket():
    with pytest.raises(ConfigurationError, match="EVIDENCE_S3_BUCKET"):
        store_from_config({"EVIDENCE_STORE": "s3"})


def test_s3_encryption_must_be_kms_aes256_or_none():
    with pytest.raises(ConfigurationError, match="EVIDENCE_S3_SSE"):
        store_from_config(
            {"EVIDENCE_STORE": "s3", "EVIDENCE_S3_BUCKET": "b", "EVIDENCE_S3_SSE": "rot13"},
            client=object(),
        )
    for value, expected in (("none", None), ("", None), ("AES256", "AES256"), (None, None)):
        store = store_from_config(
            {"EVIDENCE_STORE": "s3", "EVIDENCE_S3_BUCKET": "b", "EVIDENCE_S3_SSE": value},
            client=object(),
        )
        assert isinstance(store, S3EvidenceStore)
        assert store.sse == expected


def test_an_unknown_store_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="EVIDENCE_STORE"):
        store_from_config({"EVIDENCE_STORE": "ftp"})
