"""The engine's shape: no module imports one that imports it back, and each layer imports only those below.

Every import counts, wherever it stands: at the top, inside a function (deferred for start-up time), or under
`TYPE_CHECKING`.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mdtracker"

# From the bottom up: a module may import modules of its own layer or of the layers below, never above.
LAYERS = [
    {"__init__", "codec", "errors", "files", "dates", "recognize", "mojibake", "counts", "config", "discovery"},
    {"layout", "regions", "model", "parse"},
    {"days", "reviews", "tracks", "plans", "scores", "interviews", "forecast", "analyze"},
    {"sandbox", "view", "render"},
    {"vault", "git_history"},
    {"transform", "cache"},
    {"workers", "stage"},
    {"pipeline"},
    {"engine"},
    {"report", "lint", "watch", "dashboard", "init", "lsp", "cli", "__main__"},
]
LAYER = {name: n for n, names in enumerate(LAYERS) for name in names}


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        found[".".join(parts) or "__init__"] = path
    return found


def imports(path: Path, name: str) -> set[str]:
    """The mdtracker modules a module imports (their top-level names in the package)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative, inside a subpackage
                base = ".".join(["mdtracker", *name.split(".")[:-node.level + 1 or None], base]).rstrip(".")
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            parts = target.split(".")
            if parts[0] == "mdtracker" and len(parts) > 1 and parts[1] != "__version__":
                found.add(parts[1])
    top = name.split(".")[0]
    return found - {top}


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for name, path in modules().items():
        edges.setdefault(name.split(".")[0], set()).update(imports(path, name))
    return edges


def test_every_module_has_a_layer():
    assert sorted(set(graph()) - set(LAYER)) == []


def test_no_module_imports_one_that_imports_it_back():
    edges = graph()
    cycles = []

    def walk(node: str, trail: list[str]) -> None:
        for nxt in sorted(edges.get(node, ())):
            if nxt in trail:
                cycles.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in done:
                walk(nxt, trail + [nxt])
        done.add(node)

    done: set[str] = set()
    for start in sorted(edges):
        walk(start, [start])
    assert cycles == []


def test_lower_layers_never_import_higher_ones():
    upward = sorted(f"{a} -> {b}" for a, targets in graph().items() for b in targets
                    if LAYER.get(b, -1) > LAYER.get(a, 99))
    assert upward == []
