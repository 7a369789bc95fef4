"""How payment files travel (payments/transport.py): a drop folder on disk and S3 through
moto's real server over HTTP, each held to the same behaviour."""

# The fixtures are imported (tests/payments has no conftest of its own), so their names
# are parameters here too:
# ruff: noqa: F811

from __future__ import annotations

import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claims_portal.config import ConfigurationError, load_config
from claims_portal.payments.files import payment_file_chunks
from claims_portal.payments.transport import (
    AreaTransport,
    DropFolder,
    S3Transport,
    Transport,
    TransportError,
    transport_for,
)
from tests.claims.evidence.helpers import (  # noqa: F401 - moto's server, shared with evidence
    BUCKET,
    REGION,
    aws_credentials,
    moto_endpoint,
    s3_client,
)
from tests.payments.transport_helpers import (  # noqa: F401 - the fixtures
    a_file,
    a_row,
    kind,
    transport,
)


def test_the_settings_choose_the_kind(transport: AreaTransport, kind: str) -> None:
    assert transport.name == kind
    assert isinstance(transport, DropFolder if kind == "folder" else S3Transport)
    assert isinstance(transport, Transport)


def test_a_sent_file_arrives_whole(transport: AreaTransport) -> None:
    data = a_file()
    transport.send("pay-QHM-20261201-1.csv", iter(data.splitlines(keepends=True)))
    assert transport.sent() == ["pay-QHM-20261201-1.csv"]
    assert transport.get("outgoing", "pay-QHM-20261201-1.csv") == data


def test_sending_a_name_again_replaces_it(transport: AreaTransport) -> None:
    transport.send("pay-1.csv", [b"first\r\n"])
    transport.send("pay-1.csv", [a_file()])
    transport.send("pay-1.csv", [a_file()])
    assert transport.sent() == ["pay-1.csv"]
    assert transport.get("outgoing", "pay-1.csv") == a_file()


def test_a_send_that_fails_halfway_leaves_nothing(transport: AreaTransport) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"payment_reference,practice_ods_code\r\n"
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError, match="went away"):
        transport.send("pay-2.csv", chunks())
    assert transport.sent() == []


def test_responses_oldest_first_read_then_done(transport: AreaTransport) -> None:
    transport.put("incoming", "zz-first.csv", [b"one\r\n"])
    time.sleep(1.1)  # S3 keeps the time of an object to the second
    transport.put("incoming", "aa-second.csv", [b"two\r\n"])
    assert transport.responses() == ["zz-first.csv", "aa-second.csv"]
    assert transport.read("aa-second.csv") == b"two\r\n"
    transport.done("zz-first.csv")
    transport.done("zz-first.csv")  # already moved: fine
    assert transport.responses() == ["aa-second.csv"]
    assert transport.names("processed") == ["zz-first.csv"]
    assert transport.get("processed", "zz-first.csv") == b"one\r\n"


def test_done_with_a_response_that_never_came_is_an_error(transport: AreaTransport) -> None:
    with pytest.raises(TransportError, match="neither in incoming/ nor processed/"):
        transport.done("ack-none.csv")


def test_reading_a_missing_response_says_which(transport: AreaTransport) -> None:
    with pytest.raises(TransportError, match=r"incoming/ack-none\.csv is not in"):
        transport.read("ack-none.csv")


@pytest.mark.parametrize("name", ["../escape.csv", ".hidden.csv", "a/b.csv", "", "a b.csv"])
def test_names_are_plain_file_names(transport: AreaTransport, name: str) -> None:
    with pytest.raises(TransportError, match="is not a file name"):
        transport.send(name, [b"x"])


def test_a_big_file_is_streamed(transport: AreaTransport) -> None:
    rows = (a_row(f"PAY-{n:06d}", "12.34") for n in range(1, 20_001))
    transport.send("pay-big.csv", payment_file_chunks(rows))
    data = transport.get("outgoing", "pay-big.csv")
    assert data.count(b"\r\n") == 20_002
    assert data.endswith(b"\r\n")
    assert b"TRAILER,20000,246800.00," in data


class _Discarding:
    """Stands in for boto3's client in the memory test only: reads the upload and drops
    it, so that the measure is of the transport alone (moto, in this process, keeps it)."""

    def __init__(self) -> None:
        self.received = 0

    def upload_fileobj(self, fileobj: Any, bucket: str, key: str, **_: Any) -> None:
        while chunk := fileobj.read(64 * 1024):
            self.received += len(chunk)


@pytest.mark.parametrize("kind", ["folder", "s3"])
def test_fifty_thousand_rows_are_sent_in_flat_memory(kind: str, tmp_path: Path) -> None:
    lines = list(payment_file_chunks(a_row(f"PAY-{n:06d}", "12.34") for n in range(1, 50_001)))
    size = sum(map(len, lines))
    client = _Discarding()
    sender = DropFolder(tmp_path) if kind == "folder" else S3Transport(BUCKET, client=client)
    tracemalloc.start()
    try:
        sender.send("pay-big.csv", iter(lines))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 6_000_000
    assert peak < 2 * 1024 * 1024  # under a third of the file
    if kind == "folder":
        assert (tmp_path / "outgoing" / "pay-big.csv").stat().st_size == size
    else:
        assert client.received == size


# --- The drop folder's own promises ---------------------------------------------------------


def test_the_folders_are_made(tmp_path: Path) -> None:
    DropFolder(tmp_path / "payments")
    assert sorted(p.name for p in (tmp_path / "payments").iterdir()) == [
        "incoming",
        "outgoing",
        "processed",
    ]


def test_a_reader_never_sees_a_half_written_file(tmp_path: Path) -> None:
    """While a send is under way only its hidden temporary file exists; sent() skips it."""
    folder = DropFolder(tmp_path)
    halfway, go_on = threading.Event(), threading.Event()

    def chunks() -> Iterator[bytes]:
        yield b"header\r\n"
        halfway.set()
        go_on.wait(5)
        yield b"row\r\n"

    sender = threading.Thread(target=folder.send, args=("pay-3.csv", chunks()))
    sender.start()
    try:
        assert halfway.wait(5)
        hidden = [p.name for p in (tmp_path / "outgoing").iterdir()]
        assert len(hidden) == 1
        assert hidden[0].startswith(".pay-3.csv.")
        assert folder.sent() == []
        assert not (tmp_path / "outgoing" / "pay-3.csv").exists()
    finally:
        go_on.set()
        sender.join(5)
    assert folder.sent() == ["pay-3.csv"]
    assert [p.name for p in (tmp_path / "outgoing").iterdir()] == ["pay-3.csv"]


def test_a_folder_that_cannot_be_made_is_named(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(TransportError, match="cannot be made"):
        DropFolder(tmp_path / "file" / "payments")


# --- S3's own promises ----------------------------------------------------------------------


def test_s3_keys_sit_under_the_prefix(s3_client: Any, moto_endpoint: str) -> None:
    s3 = S3Transport(BUCKET, "claims/payments", region=REGION, endpoint_url=moto_endpoint)
    s3.send("pay-4.csv", [a_file()])
    s3.put("incoming", "ack-1.csv", [b"x\r\n"])
    s3.done("ack-1.csv")
    keys = sorted(item["Key"] for item in s3_client.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert keys == ["claims/payments/outgoing/pay-4.csv", "claims/payments/processed/ack-1.csv"]


def test_s3_that_is_down_says_so(aws_credentials: None) -> None:
    s3 = S3Transport(
        BUCKET, endpoint_url="http://127.0.0.1:9", client=None, connect_timeout=1, max_attempts=1
    )
    with pytest.raises(TransportError, match=r"S3 list of s3://claims-evidence-test/payments/"):
        s3.responses()


# --- Settings -------------------------------------------------------------------------------


def test_transport_for_refuses_what_it_cannot_use(tmp_path: Path) -> None:
    with pytest.raises(TransportError, match="must be 'folder' or 's3', not 'ftp'"):
        transport_for({"PAYMENTS_TRANSPORT": "ftp"})
    with pytest.raises(TransportError, match="PAYMENTS_S3_BUCKET must be set"):
        transport_for({"PAYMENTS_TRANSPORT": "s3"})
    with pytest.raises(TransportError, match="PAYMENTS_FOLDER must be set"):
        transport_for({})


def test_the_folder_defaults_to_the_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PAYMENTS_FOLDER", raising=False)
    settings = load_config(str(tmp_path), "test")
    assert settings["PAYMENTS_TRANSPORT"] == "folder"
    assert settings["PAYMENTS_FOLDER"] == str(tmp_path / "payments")
    assert settings["PAYMENTS_S3_PREFIX"] == "payments/"
    monkeypatch.setenv("PAYMENTS_FOLDER", "agency-share")
    assert load_config(str(tmp_path), "test")["PAYMENTS_FOLDER"] == str(tmp_path / "agency-share")
    monkeypatch.setenv("PAYMENTS_FOLDER", "/srv/payments")
    assert load_config(str(tmp_path), "test")["PAYMENTS_FOLDER"] == "/srv/payments"


def test_s3_payments_need_a_bucket_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYMENTS_TRANSPORT", "s3")
    with pytest.raises(ConfigurationError, match="PAYMENTS_S3_BUCKET must be set"):
        load_config(str(tmp_path), "test")
    monkeypatch.setenv("PAYMENTS_TRANSPORT", "pigeon")
    with pytest.raises(ConfigurationError, match="PAYMENTS_TRANSPORT must be one of folder, s3"):
        load_config(str(tmp_path), "test")
    monkeypatch.setenv("PAYMENTS_TRANSPORT", "s3")
    monkeypatch.setenv("PAYMENTS_S3_BUCKET", "claims-portal-payments")
    assert load_config(str(tmp_path), "test")["PAYMENTS_S3_BUCKET"] == "claims-portal-payments"
