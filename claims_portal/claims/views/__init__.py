"""Claim pages. Importing this package attaches the routes to ``claims.bp``.

- ``lists``: the simple claim lists and starting a claim;
- ``editing``: filling in a claim (units, answers, evidence) and downloading evidence;
- ``claim``: the claim page and the steps taken from it;
- ``settings``: the ICB's finance threshold.
"""

from claims_portal.claims.views import claim, editing, lists, settings

__all__ = ["claim", "editing", "lists", "settings"]
