"""Contract: the calculation core is pure standard library, clock-free and float-free."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import claims_portal.calculation

PACKAGE = Path(claims_portal.calculation.__file__).parent
SOURCES = sorted(PACKAGE.rglob("*.py"))
CLOCK_CALLS = {"now", "today", "utcnow", "time", "monotonic", "perf_counter"}


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_sources_found() -> None:
    assert {p.name for p in SOURCES} >= {"__init__.py", "money.py", "qof.py", "local.py"}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_imports_only_the_standard_library(path: Path) -> None:
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level > 0 or (node.module or "").startswith("claims_portal.calculation"):
                continue
            names = [node.module or ""]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names, f"{path.name} imports {name}"
            assert top not in {"time", "random"}, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_binary_floats_or_clock(path: Path) -> None:
    module = tree(path)
    allowed_float_names: set[int] = set()
    for node in ast.walk(module):
        # The only use of ``float`` allowed is rejecting one: isinstance(value, float).
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "isinstance"
            and isinstance(node.args[1], ast.Name)
            and node.args[1].id == "float"
        ):
            allowed_float_names.add(id(node.args[1]))
    for node in ast.walk(module):
        if isinstance(node, ast.Constant):
            assert not isinstance(node.value, float), f"{path.name}:{node.lineno} float literal"
        if isinstance(node, ast.Name) and node.id == "float":
            assert id(node) in allowed_float_names, f"{path.name}:{node.lineno} uses float"
        if isinstance(node, ast.Attribute) and node.attr in CLOCK_CALLS:
            pytest.fail(f"{path.name}:{node.lineno} reads the clock ({node.attr})")


def test_package_imports_without_flask_or_sqlalchemy() -> None:
    # Load claims_portal.calculation without running claims_portal/__init__.py (which builds
    # the Flask app) and check nothing outside the standard library was imported.
    script = f"""
import sys, types
parent = types.ModuleType("claims_portal")
parent.__path__ = [{str(PACKAGE.parent)!r}]
sys.modules["claims_portal"] = parent
before = set(sys.modules)
import claims_portal.calculation
new = {{name.split(".")[0] for name in set(sys.modules) - before}}
outside = sorted(n for n in new - {{"claims_portal"}} if n not in sys.stdlib_module_names)
print(",".join(outside))
"""
    result = subprocess.run(  # noqa: S603 (fixed interpreter and script)
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_public_api_is_documented() -> None:
    api = claims_portal.calculation
    assert api.__doc__ is not None
    for name in api.__all__:
        assert name in api.__doc__ or name.endswith("Error"), f"{name} missing from docstring"
        item = getattr(api, name)
        if callable(item) and not isinstance(item, type(api)):
            assert item.__doc__, f"{name} has no docstring"
