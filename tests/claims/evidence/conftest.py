"""Fixtures for the evidence tests: real documents, and S3 served by moto over real HTTP."""

from tests.claims.evidence.helpers import (  # noqa: F401 - the fixtures of these tests
    aws_credentials,
    moto_endpoint,
    real_files,
    s3_client,
    s3_config,
    s3_store,
    zip_bomb,
)
