"""Conventions that keep the code base honest, checked on every run."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest
from flask import Flask

from claims_portal.routes import Kind, requirements, routes_table

PACKAGE = Path(__file__).resolve().parent.parent / "claims_portal"
ROUTES_DOC = PACKAGE.parent / "docs" / "routes.md"
REGENERATE = "CLAIMS_PORTAL_ENV=development .venv/bin/claims-portal routes-doc > docs/routes.md"


def _sample_url(rule) -> str:
    from werkzeug.routing.converters import NumberConverter

    values = {
        arg: 1 if isinstance(rule._converters[arg], NumberConverter) else "x"
        for arg in rule.arguments
    }
    return rule.build(values, append_unknown=False)[1]


def _rules(app: Flask):
    return [r for r in app.url_map.iter_rules() if not r.endpoint.startswith("_")]


def _public(app: Flask) -> set[str]:
    return {e for e, r in requirements(app).items() if r.kind is Kind.PUBLIC}


def test_every_route_declares_what_it_needs(app):
    declared = requirements(app)
    undeclared = sorted(r.endpoint for r in app.url_map.iter_rules() if r.endpoint not in declared)
    assert undeclared == [], (
        "declare each route with @public, @signed_in, @requires(...) or @requires_on(...) "
        "(claims_portal/routes.py): " + ", ".join(undeclared)
    )


def test_docs_routes_md_is_current(app):
    assert ROUTES_DOC.read_text() == routes_table(app), f"regenerate it: {REGENERATE}"


def test_every_endpoint_needs_a_signed_in_user_except_public_ones(app, client):
    checked = 0
    public = _public(app)
    # For machines, not people: without the token, 404 or 401 (tests/test_metrics.py).
    tokens = {e for e, r in requirements(app).items() if r.kind is Kind.TOKEN}
    assert tokens == {"metrics"}
    for rule in _rules(app):
        if rule.endpoint in public:
            continue
        if rule.endpoint in tokens:
            assert client.get(_sample_url(rule)).status_code in {401, 404}
            continue
        url = _sample_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            # POSTs without a CSRF token stop at 400 before reaching the view: also safe.
            assert response.status_code in {302, 400}, f"{method} {url} -> {response.status_code}"
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/sign-in"), f"{method} {url}"
            checked += 1
    assert checked > 5


def test_only_the_expected_endpoints_are_public(app):
    assert _public(app) == {
        "static",
        "admin.static",
        "core.healthz",
        "core.readyz",
        "core.assets",
        "core.accessibility",
        "core.privacy",
        "core.cookies",
        "access.sign_in",
        "access.sign_in_code",
        "access.forgotten_password",
        "access.reset_password",
        "access.complete_registration",
        "access.request_access",
        "access.request_access_form",
    }


_KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def test_urls_are_kebab_case(app):
    for rule in _rules(app):
        if rule.endpoint in {"static", "core.assets"} or rule.endpoint.endswith(".static"):
            continue
        for part in rule.rule.strip("/").split("/"):
            if not part or part.startswith("<"):
                continue
            assert _KEBAB.match(part), f"{rule.rule} has a segment that is not kebab-case: {part}"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_calculation_core_imports_only_the_standard_library():
    files = list((PACKAGE / "calculation").rglob("*.py"))
    assert files
    for path in files:
        for name in _imports(path):
            top = name.split(".")[0]
            allowed = top in sys.stdlib_module_names or name.startswith("claims_portal.calculation")
            assert allowed, f"{path.name} imports {name}"


def test_only_the_admin_package_imports_flask_admin():
    for path in PACKAGE.rglob("*.py"):
        if "admin" in path.relative_to(PACKAGE).parts[:1]:
            continue
        assert not any(n.split(".")[0] == "flask_admin" for n in _imports(path)), path


@pytest.mark.parametrize("path", sorted((PACKAGE.parent / "migrations" / "versions").glob("*.py")))
def test_migration_revision_ids_equal_file_names(path):
    source = path.read_text()
    match = re.search(r'^revision = "([^"]+)"', source, re.MULTILINE)
    assert match, f"{path.name} has no revision id"
    assert match.group(1) == path.stem
    assert re.match(r"^\d{4}_[a-z0-9_]+$", path.stem), "readable ids: 0002_schemes"


#: Calls that read the wall clock; only claims_portal/clock.py may make them, so that the
#: suite's ``--today`` (and a reader of the code) finds every use of time in one place.
_CLOCK_READS = re.compile(
    r"\b(?:datetime\.now|datetime\.utcnow|date\.today|datetime\.today|time\.time|time\.time_ns)"
    r"\s*\("
)


def test_only_the_clock_module_reads_the_clock():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative == "clock.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if _CLOCK_READS.search(line.split("#", 1)[0]):
                offenders.append(f"claims_portal/{relative}:{number}: {line.strip()}")
    assert offenders == [], "read the time through claims_portal.clock:\n" + "\n".join(offenders)


def test_the_clock_reads_england_dates_across_the_clock_changes():
    import datetime as dt

    import time_machine

    from claims_portal import clock

    # 23:30 UTC on 31 March is already 1 April in England (BST); 23:30 UTC on
    # 31 October is still 31 October (GMT again).
    with time_machine.travel(dt.datetime(2027, 3, 31, 23, 30, tzinfo=dt.UTC), tick=False):
        assert clock.today() == dt.date(2027, 4, 1)
        assert clock.now().tzinfo is dt.UTC
    with time_machine.travel(dt.datetime(2027, 10, 31, 23, 30, tzinfo=dt.UTC), tick=False):
        assert clock.today() == dt.date(2027, 10, 31)


#: Names through which code reads the running app (its configuration, its extensions).
_APP_READERS = {"current_app", "has_app_context"}
#: Service modules allowed to read the app, each with the reason. Keep it empty: pass the
#: domain's settings (``claims_portal.service_settings``) or the value itself instead.
SERVICES_READING_THE_APP: dict[str, str] = {}


def test_services_never_read_the_app():
    """Configured values reach the rules as arguments (``settings=...``), so a rule reads the
    same in a view, a command, a test or a worker without an app."""
    offenders = []
    for path in sorted(PACKAGE.glob("*/services/**/*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative in SERVICES_READING_THE_APP:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and node.module == "flask":
                read = _APP_READERS & {alias.name for alias in node.names}
            elif isinstance(node, ast.Name | ast.Attribute):
                name = node.id if isinstance(node, ast.Name) else node.attr
                read = _APP_READERS & {name}
            else:
                continue
            if read:
                offenders.append(f"claims_portal/{relative}:{node.lineno}: {', '.join(read)}")
    assert offenders == [], "services take settings as arguments:\n" + "\n".join(offenders)


#: The size limits (docs/architecture.md): a file past about 600 lines becomes a package, a
#: function past about 80 lines is split into named steps.
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80
#: Functions allowed past the limit, each with the reason. Keep it empty if you can.
LONG_FUNCTIONS_ALLOWED: dict[str, str] = {}


def test_files_and_functions_stay_short():
    too_long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        source = path.read_text()
        lines = source.count("\n")
        if lines > MAX_FILE_LINES:
            too_long.append(f"claims_portal/{relative}: {lines} lines (split it into a package)")
        for node in ast.walk(ast.parse(source, filename=str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            allowed = f"{relative}:{node.name}" in LONG_FUNCTIONS_ALLOWED
            if length > MAX_FUNCTION_LINES and not allowed:
                too_long.append(f"claims_portal/{relative}:{node.lineno} {node.name}: {length}")
    assert too_long == [], "over the size limits (lines):\n" + "\n".join(too_long)
