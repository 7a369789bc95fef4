"""Small helpers shared by tests."""

from __future__ import annotations

import re
from typing import Any

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(response: Any) -> str:
    """The CSRF token in a rendered form."""
    match = _CSRF.search(response.get_data(as_text=True))
    assert match, "no csrf_token in the page"
    return match.group(1) or match.group(2)
