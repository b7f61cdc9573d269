"""The package is built in floors: a module imports only from its own floor or below, and no modules import each
other in a cycle. Every import of an m1reason or strategies module counts, at module level or inside a function
(a lazy import still couples the two modules); only imports under ``if TYPE_CHECKING:`` do not. An import of a
package counts as an import of its ``__init__``; the implicit "a parent package's __init__ runs first" is not an
edge (every module would otherwise depend on its package's re-exports).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("m1reason", "strategies")

# The floors, by module name prefix (the longest matching prefix wins), with why each sits where it does.
FLOORS = {
    # 0: values every layer shares, and the error tree; they import nothing above them
    "m1reason.errors": 0,
    "m1reason._version": 0,
    "m1reason.types": 0,  # SamplingParams, requests, results, events, Confidence
    "m1reason.checks": 0,  # argument checks shared by every entry point (a budget, a problem)
    "m1reason.stats": 0,  # 95% intervals over problems
    "m1reason.records": 0,  # a bounded log read by marks (step costs, the driver's turns)
    "m1reason._curriculum": 0,
    "m1reason.scope": 0,  # what a model was trained to answer: a value object over the curriculum
    "m1reason.confidence_map": 0,  # what a vote share means: a value object read from a model folder
    "m1reason.vote_curve": 0,  # what a vote of k samples is worth: a value object read from a model folder
    # 1: plain PyTorch and the kernels it calls, and the tokenizer (it resolves checkpoint folders as the model does)
    "m1reason.kernels": 1,
    "m1reason.model": 1,
    "m1reason.tokenizer": 1,
    # 2: the engine (cache, scheduler, model runner, graphs, sampling): token ids and slots, no requests or text
    "m1reason.engine": 2,
    # 3: the throughput model; it measures the model on the engine's paged cache
    "m1reason.throughput": 3,
    # 4: generators (requests, text, events over an engine or HF), and answer checking, which needs neither
    "m1reason.generator": 4,
    "m1reason.answers": 4,
    # 5: test-time strategies over any Generator
    "strategies": 5,
    # 6: what a user calls: solve(), the server, the defaults (the embedded model and its settings), training
    "m1reason.solving": 6,
    "m1reason.serving": 6,
    "m1reason.defaults": 6,
    # 7: programs: the REPL, evaluation runs and their plots, distributed runs of them, training (it evaluates)
    "m1reason.train": 7,
    "m1reason.evaluation": 7,
    "m1reason.eval_plot": 7,
    "m1reason.repl": 7,
    "m1reason.distributed": 7,
    # 8: the package's front door re-exports the public API of every floor
    "m1reason": 8,
    # 9: the command line, a user of that public API
    "m1reason.__main__": 9,
}

# Known violations, each with its issue, to be removed: not an allowed design. Empty now; keep it so.
ALLOWED: set[tuple[str, str]] = set()


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _target(name: str) -> str | None:
    """The module an imported name lands in: itself if a module, else the nearest enclosing module."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports(module: str) -> set[str]:
    """The m1reason/strategies modules ``module`` imports (``from a import b`` counts a.b when b is a module)."""
    path, is_package = MODULES[module]
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parent = package.split(".")[:len(package.split(".")) - (child.level - 1)]
                    base = ".".join([*parent, *([child.module] if child.module else [])])
                names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in child.names]
            else:
                visit(child)
                continue
            for name in names:
                if name.split(".")[0] in PACKAGES and (target := _target(name)) and target != module:
                    found.add(target)

    visit(ast.parse(path.read_text(), filename=str(path)))
    return found


def floor(module: str) -> int:
    prefixes = [p for p in FLOORS if module == p or module.startswith(p + ".")]
    assert prefixes, f"{module} has no floor: add it to FLOORS in {__file__}"
    return FLOORS[max(prefixes, key=len)]


GRAPH = {module: imports(module) for module in MODULES}


def test_every_module_has_a_floor():
    for module in MODULES:
        floor(module)


def test_no_module_imports_from_a_floor_above_it():
    upward = sorted(f"{a} (floor {floor(a)}) imports {b} (floor {floor(b)})"
                    for a, targets in GRAPH.items() for b in targets
                    if floor(b) > floor(a) and (a, b) not in ALLOWED)
    assert not upward, "imports from a higher floor:\n  " + "\n  ".join(upward)


def test_no_import_cycles():
    edges = {a: {b for b in targets if (a, b) not in ALLOWED} for a, targets in GRAPH.items()}
    cycles, done, path = [], set(), []

    def walk(module: str) -> None:  # depth-first; a back edge to a module on the path closes a cycle
        path.append(module)
        for target in sorted(edges[module]):
            if target in path:
                cycles.append(" -> ".join([*path[path.index(target):], target]))
            elif target not in done:
                walk(target)
        path.pop()
        done.add(module)

    for module in sorted(edges):
        if module not in done:
            walk(module)
    assert not cycles, "import cycles:\n  " + "\n  ".join(cycles)


def test_the_allow_list_holds_only_edges_that_still_exist():
    stale = sorted(f"{a} -> {b}" for a, b in ALLOWED if b not in GRAPH.get(a, ()))
    assert not stale, "allowed edges that are gone (remove them from ALLOWED):\n  " + "\n  ".join(stale)
