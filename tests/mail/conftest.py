"""The daily email's tests use the claims tests' scenes."""

from tests.claims.helpers import one_step, scene  # noqa: F401 - fixtures shared with claims
