"""The shape of the code: the import graph of `sim/` has no cycle.

Edges are every `import` in a module of `sim/`, at module level or inside a function (a
function-level import still ties the two modules together), except imports under
`if TYPE_CHECKING:`, which never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "sim"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imported_modules(tree: ast.AST, modules: set[str], this: str) -> set[str]:
    """Modules of `modules` that `tree` imports outside `if TYPE_CHECKING:` blocks."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                package = this.split(".")[: len(this.split(".")) - node.level + 1]
                base = ".".join([*package[:-1], base] if base else package[:-1])
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.add(child if child in modules else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {m for m in found if m in modules and m != this}


def import_graph() -> nx.DiGraph:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(files)
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for target in imported_modules(tree, set(files), name):
            graph.add_edge(name, target)
    return graph


def test_the_graph_is_read_from_the_code() -> None:
    graph = import_graph()
    assert graph.has_edge("sim.outputs", "sim.flows")
    assert graph.has_edge("sim.maps", "sim.flows")          # a function-level import
    assert not graph.has_edge("sim.maps", "sim.outputs")
    assert graph.number_of_edges() > 50


def test_no_import_cycle_in_sim() -> None:
    cycles = list(nx.simple_cycles(import_graph()))
    assert not cycles, "import cycles: " + "; ".join(" -> ".join([*c, c[0]]) for c in cycles)


def test_plans_are_edited_only_through_revise() -> None:
    """dataclasses.replace makes a Plan without validation: only sim.network.revise may."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "dataclasses" and any(
                    a.name == "replace" for a in node.names) and path.name != "network.py":
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, offenders


def test_no_dispatch_on_kind_strings_outside_the_registry() -> None:
    """What differs between kinds of component is a method of their spec or runtime class,
    found through sim.components: no module compares a spec's `kind` or `schedule` with a
    string."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "components.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                named = any(isinstance(s, ast.Attribute) and s.attr in ("kind", "schedule")
                            for s in sides)
                literal = any(isinstance(s, ast.Constant) and isinstance(s.value, str)
                              for s in sides)
                if named and literal:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders
