"""Claim pages. Importing this package attaches the routes to ``claims.bp``.

- ``starting``: starting a claim;
- ``listing``: the claim list (filters, sorting, paging) and its CSV and XLSX exports;
- ``bulk``: bulk approval from the list, and bulk claims from a spreadsheet;
- ``editing``: filling in a claim (units, answers, evidence; removing a file asks first) and
  downloading evidence;
- ``submitting``: *Check your answers*, the declaration, the confirmation page;
- ``claim``: the claim page and the steps taken from it;
- ``settings``: the ICB's finance threshold.
"""

from claims_portal.claims import cli as _cli  # noqa: F401 - registers ``claims-portal claims``
from claims_portal.claims.views import (
    bulk,
    claim,
    editing,
    listing,
    settings,
    starting,
    submitting,
)

__all__ = ["bulk", "claim", "editing", "listing", "settings", "starting", "submitting"]
