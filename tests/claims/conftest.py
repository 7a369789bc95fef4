"""Fixtures for the claims tests (a scene per test, evidence in the test's own folder) and the
evidence tests' S3 and real files, all from helper modules."""

from tests.claims.evidence.clamav import clamd  # noqa: F401 - a real ClamAV daemon
from tests.claims.evidence.helpers import (  # noqa: F401 - fixtures shared with claim tests
    aws_credentials,
    moto_endpoint,
    real_files,
    s3_client,
    s3_config,
    zip_bomb,
)
from tests.claims.helpers import client, evidence_dir, one_step, scene  # noqa: F401
