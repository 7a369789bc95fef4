"""The audit tests use the evidence tests' S3 (moto over real HTTP on 127.0.0.1) for anchors."""

from tests.claims.evidence.helpers import aws_credentials, moto_endpoint, s3_client

__all__ = ["aws_credentials", "moto_endpoint", "s3_client"]
