"""National quality services' pages (one module each)."""

from claims_portal.national import jobs as _jobs  # noqa: F401 (registers the extract job)
from claims_portal.national import models as _models  # noqa: F401  (the tables, for the app)
from claims_portal.national.views import entry as _entry  # noqa: F401  (manual entry)
from claims_portal.national.views import extracts as _extracts  # noqa: F401 (extract loads)
from claims_portal.national.views import offers as _offers  # noqa: F401  (offers of services)
from claims_portal.national.views import summary as _summary  # noqa: F401 (achievement summary)
