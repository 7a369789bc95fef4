"""The payment files and calendar import only the standard library, the calendar package,
the calculation core's money rule and the clock's time zone (docs/payments.md)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "claims_portal" / "payments"
PURE = ("_cells.py", "files.py", "responses.py", "working_days.py")
ALLOWED = {
    "holidays",
    "claims_portal.calculation.money",
    "claims_portal.clock",
    "claims_portal.payments",
    "claims_portal.payments._cells",
}


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("name", PURE)
def test_pure_modules_import_little(name: str) -> None:
    outside = {
        module
        for module in imported(PACKAGE / name)
        if module.split(".")[0] not in sys.stdlib_module_names and module not in ALLOWED
    }
    assert outside == set()
