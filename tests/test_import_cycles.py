"""No import cycles between modules anywhere in the application (grimp, the graph under
import-linter). import-linter's contracts (pyproject.toml) keep the layers inside each domain and
forbid cycles between a domain's own modules; this test covers every module at once.

Domains do depend on each other in both directions at package level (access's models name an
organisation, organisations' services check access's permissions), but never module to module
in a ring: each import chain ends in models, ``db``, ``clock`` or the calculation core.
"""

from __future__ import annotations

import grimp

#: Imports made inside a function, after every module has loaded: the app factory registers the
#: CLI, whose entry point builds the app.
DEFERRED = {frozenset({"claims_portal", "claims_portal.cli"})}


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iteratively)."""
    adjacency = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(adjacency):
        if root in index:
            continue
        work = [(root, iter(adjacency[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(adjacency[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_no_module_imports_itself_through_others():
    graph = grimp.build_graph("claims_portal", exclude_type_checking_imports=True)
    cycles = [c for c in _cycles(graph) if frozenset(c) not in DEFERRED]
    assert cycles == [], "import cycles between modules:\n" + "\n".join(map(str, cycles))


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(module)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.a")
    graph.add_import(importer="pkg.b", imported="pkg.c")
    assert _cycles(graph) == [["pkg.a", "pkg.b"]]
