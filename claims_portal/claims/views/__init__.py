"""Claim pages. Importing this package attaches the routes to ``claims.bp``."""

from claims_portal.claims import models as _models  # noqa: F401
