"""National quality services' pages (one module each)."""

from claims_portal.national import models as _models  # noqa: F401  (the tables, for the app)
from claims_portal.national.views import offers as _offers  # noqa: F401  (offers of services)
