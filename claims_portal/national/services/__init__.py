"""National quality services' rules: the public face of ``claims_portal.national``."""
