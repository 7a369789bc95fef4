"""The payments pages, one module each (thin: each calls ``payments.services``):

- ``settings``: the ICB's payments settings;
- ``runs``: payment runs and files, a run started by hand (finance);
- ``finance``: a rejected payment sent again or held, payments recorded by hand, recoveries;
- ``statements``: a practice's payments page and monthly statements (PDF, XLSX);
- ``reports``: the payments and accruals reports, national totals.
"""

from claims_portal.payments import cli as _cli  # noqa: F401 - registers ``claims-portal payments``
from claims_portal.payments import jobs  # noqa: F401 (registers the run's jobs)
from claims_portal.payments.views import (
    finance,  # noqa: F401
    reports,  # noqa: F401
    runs,  # noqa: F401
    settings,  # noqa: F401
    statements,  # noqa: F401
)
