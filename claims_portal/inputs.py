"""Numbers read from requests, bounded to what the database can hold.

A PostgreSQL ``integer`` holds at most 2,147,483,647: a larger number bound to a query makes
the database refuse the whole statement (a 500 where the person should get a 404 or a form
error). Ids and whole numbers from a URL, a query string or a form are read here: only ASCII
digits count (``int()`` also reads ``"١٢"``, and ``str.isdigit()`` is true for ``"²"``, which
``int()`` refuses), never more than the column holds, and never a 5,000-digit string handed
to ``int()`` (Python refuses those above 4,300 digits with a ``ValueError``).
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.routing import IntegerConverter, Map

#: The largest value of a PostgreSQL ``integer`` (every id and whole-number column here).
MAX_INT = 2**31 - 1
MAX_ID = MAX_INT

_DIGITS = re.compile(r"[0-9]{1,10}")


def parse_id(value: Any) -> int | None:
    """The id ``value`` names (ASCII digits, from 1 to :data:`MAX_ID`), else None.

    Never raises: a value no row can have is simply no id (the caller answers 404, or
    ignores it).
    """
    text = value.strip() if isinstance(value, str) else str(value if value is not None else "")
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def parse_whole(value: Any, *, maximum: int = MAX_INT) -> int | None:
    """A whole number from 0 to ``maximum`` written in ASCII digits (leading zeros
    allowed), else None. Never raises, whatever the length of ``value``."""
    text = value.strip() if isinstance(value, str) else str(value if value is not None else "")
    if not text or not text.isascii() or not text.isdigit():
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > len(str(maximum)):
        return None
    number = int(significant)
    return number if number <= maximum else None


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: ASCII digits naming an id from 1 to :data:`MAX_ID`.

    Registered as the app's ``int`` converter (``create_app``), so a path with a larger
    number (or 0) matches no route and is a 404, instead of a database error.
    """

    regex = r"[0-9]{1,10}"

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = 1,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
