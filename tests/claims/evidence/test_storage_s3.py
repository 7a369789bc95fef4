"""The S3 evidence store against moto's server on 127.0.0.1, over real HTTP."""

from __future__ import annotations

import io
import socket
import time
from datetime import UTC, datetime

import pytest

from claims_portal.claims.evidence import (
    EvidenceNotFound,
    EvidenceStorageError,
    EvidenceStore,
    S3EvidenceStore,
    new_evidence_key,
    store_from_config,
)
from tests.claims.evidence.helpers import BUCKET, REGION

NOW = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
PDF = "application/pdf"
UNAVAILABLE = "The evidence store is not available at the moment. Try again later"


def test_the_s3_store_keeps_the_interface(s3_store):
    assert isinstance(s3_store, S3EvidenceStore)
    assert isinstance(s3_store, EvidenceStore)
    assert s3_store.key_prefix == "evidence/"


def test_put_open_exists_delete(s3_store, s3_client):
    key = new_evidence_key(s3_store.key_prefix, NOW)

    stored = s3_store.put(key, b"%PDF-1.7 evidence", PDF)

    assert (stored.key, stored.size, stored.content_type) == (key, 17, PDF)
    assert key.startswith("evidence/2026/11/")
    assert s3_store.exists(key)
    with s3_store.open(key) as stream:
        assert stream.read(5) == b"%PDF-"
        assert stream.read() == b"1.7 evidence"
    s3_store.delete(key)
    assert not s3_store.exists(key)
    s3_store.delete(key)  # deleting a missing key is fine
    assert "Contents" not in s3_client.list_objects_v2(Bucket=BUCKET)


def test_objects_are_encrypted_typed_and_served_as_attachments(s3_store, s3_client):
    key = new_evidence_key(s3_store.key_prefix, NOW)
    s3_store.put(key, io.BytesIO(b"data"), PDF)

    head = s3_client.head_object(Bucket=BUCKET, Key=key)

    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["ContentType"] == PDF
    assert head["ContentDisposition"] == "attachment"


@pytest.mark.parametrize(("setting", "expected"), [("AES256", "AES256"), ("", None)])
def test_the_encryption_setting_is_sent_or_omitted(s3_client, s3_config, setting, expected):
    store = store_from_config({**s3_config, "EVIDENCE_S3_SSE": setting})
    try:
        key = new_evidence_key(store.key_prefix, NOW)
        store.put(key, b"data", PDF)
        head = s3_client.head_object(Bucket=BUCKET, Key=key)
        assert head.get("ServerSideEncryption") == expected
    finally:
        store.close()


def test_a_large_object_streams_back_whole(s3_store):
    key = new_evidence_key(s3_store.key_prefix, NOW)
    payload = bytes(range(256)) * 20_000  # 5 MB
    s3_store.put(key, payload, PDF)
    received = bytearray()
    with s3_store.open(key) as stream:
        while chunk := stream.read(65536):
            received += chunk
    assert bytes(received) == payload


def test_list_objects_pages_through_the_prefix(s3_store, s3_client):
    keys = {new_evidence_key(s3_store.key_prefix, NOW) for _ in range(5)}
    for key in keys:
        s3_store.put(key, b"abc", PDF)
    s3_client.put_object(Bucket=BUCKET, Key="elsewhere/file", Body=b"x")
    # The client is the process's shared one (s3_clients.py): the handler goes again after.
    events = s3_store.client.meta.events
    events.register("before-parameter-build.s3.ListObjectsV2", _small_pages)
    try:
        listed = list(s3_store.list_objects())
        everything = {item.key for item in s3_store.list_objects(prefix="")}
    finally:
        events.unregister("before-parameter-build.s3.ListObjectsV2", _small_pages)

    assert {item.key for item in listed} == keys
    assert all(item.size == 3 and item.last_modified.tzinfo is UTC for item in listed)
    assert everything == keys | {"elsewhere/file"}


def _small_pages(params, **kwargs):
    params["MaxKeys"] = 2  # force several pages


def test_a_missing_object_is_not_found(s3_store):
    with pytest.raises(EvidenceNotFound):
        s3_store.open(new_evidence_key(s3_store.key_prefix, NOW))


def test_a_missing_bucket_is_a_storage_error(s3_client, s3_config):
    store = store_from_config({**s3_config, "EVIDENCE_S3_BUCKET": "no-such-bucket"})
    try:
        key = new_evidence_key(store.key_prefix, NOW)
        for action in (
            lambda: store.put(key, b"x", PDF),
            lambda: store.open(key),
            lambda: list(store.list_objects()),
        ):
            with pytest.raises(EvidenceStorageError) as caught:
                action()
            assert str(caught.value) == UNAVAILABLE
            assert not isinstance(caught.value, EvidenceNotFound)
    finally:
        store.close()


def test_unsafe_keys_are_refused_before_any_request(s3_store):
    for key in ("../x", "/abs", "a//b"):
        with pytest.raises(EvidenceStorageError):
            s3_store.put(key, b"x", PDF)


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_store_that_is_down_fails_fast_with_a_plain_message(aws_credentials, closed_port):
    store = S3EvidenceStore(
        BUCKET,
        region=REGION,
        endpoint_url=f"http://127.0.0.1:{closed_port}",
        connect_timeout=1,
        read_timeout=1,
        max_attempts=1,
    )
    key = new_evidence_key(store.key_prefix, NOW)
    try:
        started = time.monotonic()
        for action in (
            lambda: store.put(key, b"x", PDF),
            lambda: store.open(key),
            lambda: store.exists(key),
            lambda: store.delete(key),
            lambda: list(store.list_objects()),
        ):
            with pytest.raises(EvidenceStorageError) as caught:
                action()
            assert str(caught.value) == UNAVAILABLE
        assert time.monotonic() - started < 5
    finally:
        store.close()


def test_a_read_that_fails_midway_is_a_storage_error(s3_store):
    from botocore.exceptions import ReadTimeoutError

    key = new_evidence_key(s3_store.key_prefix, NOW)
    s3_store.put(key, b"abc" * 1000, PDF)
    stream = s3_store.open(key)
    try:
        raw = stream.raw  # type: ignore[attr-defined]
        body = raw._body

        def broken_read(*args, **kwargs):
            raise ReadTimeoutError(endpoint_url="http://127.0.0.1")

        body.read = broken_read
        with pytest.raises(EvidenceStorageError):
            stream.read()
    finally:
        stream.close()


def test_every_store_of_a_process_shares_one_client(s3_client, s3_config):
    """Making a boto3 client took about 200 ms: each request's store reuses the process's."""
    options = {"connect_timeout": 2, "read_timeout": 5, "max_attempts": 1}
    first = store_from_config(s3_config, **options)
    second = store_from_config(s3_config, **options)
    assert first.client is second.client
    first.close()  # a request's store closing leaves the shared client open for the next
    key = new_evidence_key(second.key_prefix, NOW)
    second.put(key, b"%PDF-1.7", PDF)
    assert store_from_config(s3_config, **options).exists(key)
    # Other connection settings (the audit anchors' region, say) get a client of their own.
    elsewhere = store_from_config({**s3_config, "EVIDENCE_S3_REGION": "eu-west-1"}, **options)
    assert elsewhere.client is not first.client


def test_a_client_given_to_a_store_is_closed_with_it(s3_client):
    class Client:
        closed = False

        def close(self):
            self.closed = True

    given = Client()
    S3EvidenceStore(BUCKET, client=given).close()
    assert given.closed
