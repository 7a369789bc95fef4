"""The message centre's tests use the claims tests' scenes and helpers."""

from tests.claims.helpers import (  # noqa: F401 - fixtures shared with the claims tests
    client,
    evidence_dir,
    one_step,
    scene,
)
