"""The evidence tests' helpers: real documents, and S3 served by moto over real HTTP.

The fixtures are used by the claims and audit tests too: each conftest that wants them
imports them from here."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.claims.evidence import samples

BUCKET = "claims-evidence-test"
REGION = "eu-west-2"


@pytest.fixture(scope="session")
def real_files() -> dict[str, bytes]:
    """One real file of every accepted type, keyed by file name."""
    return {
        "report.docx": samples.docx(),
        "figures.xlsx": samples.xlsx(),
        "report.odt": samples.odt(),
        "figures.ods": samples.ods(),
        "scan.pdf": samples.pdf(),
        "libreoffice.doc": samples.fixture("libreoffice.doc"),
        "libreoffice.xls": samples.fixture("libreoffice.xls"),
        "libreoffice.docx": samples.fixture("libreoffice.docx"),
        "libreoffice.xlsx": samples.fixture("libreoffice.xlsx"),
        "libreoffice.odt": samples.fixture("libreoffice.odt"),
        "libreoffice.ods": samples.fixture("libreoffice.ods"),
        "libreoffice.pdf": samples.fixture("libreoffice.pdf"),
    }


@pytest.fixture(scope="session")
def zip_bomb() -> bytes:
    return samples.zip_bomb()


# --- S3 through moto's server on 127.0.0.1 -------------------------------------------------


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real HTTP S3 endpoint (moto) on 127.0.0.1 and a free port, for the whole run."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        # stop() shuts the loop down but leaves the listening socket open (a ResourceWarning,
        # an error here): close it. ``_server`` is moto's werkzeug server.
        server._server.server_close()  # type: ignore[union-attr]


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials (moto does not check signatures); no real profile is read."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def s3_client(moto_endpoint: str, aws_credentials: None) -> Iterator[Any]:
    """A boto3 client on an empty moto (reset before each test) with the bucket created."""
    import boto3

    # Our own moto server on http://127.0.0.1 (S310 warns about file: and custom schemes).
    reset = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")  # noqa: S310
    with urllib.request.urlopen(reset, timeout=5):  # noqa: S310
        pass
    client = boto3.session.Session().client("s3", endpoint_url=moto_endpoint, region_name=REGION)
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def s3_config(moto_endpoint: str) -> dict[str, Any]:
    return {
        "EVIDENCE_STORE": "s3",
        "EVIDENCE_S3_BUCKET": BUCKET,
        "EVIDENCE_S3_PREFIX": "evidence/",
        "EVIDENCE_S3_REGION": REGION,
        "EVIDENCE_S3_ENDPOINT_URL": moto_endpoint,
        "EVIDENCE_S3_SSE": "aws:kms",
    }


@pytest.fixture
def s3_store(s3_client: Any, s3_config: dict[str, Any]) -> Iterator[Any]:
    from claims_portal.claims.evidence import store_from_config

    store = store_from_config(s3_config, connect_timeout=2, read_timeout=5, max_attempts=1)
    try:
        yield store
    finally:
        store.close()
