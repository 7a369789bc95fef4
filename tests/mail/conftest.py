"""The daily email's tests use the claims tests' scenes."""

from tests.claims.helpers import one_step, scene  # noqa: F401 - fixtures shared with claims
from tests.claims.test_bulk_claims import bulk_scene  # noqa: F401 - a fixture shared too
