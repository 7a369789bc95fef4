"""One copy of each shared helper: nobody writes a second one beside it.

The enum and money column types live in ``claims_portal/db.py``, the signed-in person in
``claims_portal/access/current.py``, dates and money as people read them in
``claims_portal/formatting.py``; tests share helpers through helper modules, not conftests.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "claims_portal"


def _offenders(folder: Path, pattern: str, *, suffix: str = ".py", allowed=()) -> list[str]:
    found = []
    for path in sorted(folder.rglob(f"*{suffix}")):
        relative = path.relative_to(ROOT).as_posix()
        if relative in allowed:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if not line.lstrip().startswith("#") and re.search(pattern, line):
                found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_models_use_the_shared_enum_and_money_column_types():
    # Backticked mentions (``Numeric(12, 2)`` in docstrings) are words, not columns.
    assert not _offenders(PACKAGE, r"(?<![`\w.])(Enum|Numeric)\(", allowed={"claims_portal/db.py"})


def test_the_signed_in_person_is_read_through_access_current():
    assert not _offenders(
        PACKAGE,
        r"cast\(User, current_user\)|_get_current_object\(\)",
        allowed={"claims_portal/access/current.py"},
    )


def test_templates_format_dates_and_money_with_the_shared_filters():
    # Machine formats (``%Y-%m`` for month inputs) are not for people and stay; the claim
    # list's narrow "Submitted" column is the one place a short month (``1 Dec 2026``) is shown.
    pattern = r"strftime\([\"'](?!%Y-%m[\"']|%b %Y[\"'])|\"\{:,\.2f\}\"\.format"
    assert not _offenders(PACKAGE, pattern, suffix=".html")


def test_no_test_imports_from_a_conftest():
    assert not _offenders(ROOT / "tests", r"^\s*(from|import) tests(\.\w+)*\.conftest\b")
