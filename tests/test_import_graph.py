"""No import cycle in `live/`, between modules or between packages, lazy imports included.

The graph is read from the source (ast): every `import` and `from ... import`, at module level
or inside a function, counts. A package is a folder of `live/` (`live.sessions`...) or a
top-level module (`live.realtime`...); `live/__init__.py` (the lazy `create_app`) is the entry
point, not a layer, and is left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

LIVE = Path(__file__).resolve().parent.parent / "live"


def _module_name(path: Path) -> str:
    parts = path.relative_to(LIVE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in LIVE.rglob("*.py") if "migrations" not in p.parts}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module of `live` an imported name lands in (`live.x.y` or its package), if any."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def module_graph() -> dict[str, set[str]]:
    """module -> the modules of `live` it imports (anywhere in its body)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                # `from live.sessions import service` imports the module live.sessions.service.
                targets = [f"{base}.{alias.name}" for alias in node.names] or [base]
            for target in targets:
                found = _resolve(target, modules) if target.startswith("live") else None
                if found and found != name and found != "live":
                    graph[name].add(found)
    graph.pop("live", None)
    return graph


def package_of(module: str) -> str:
    """`live.sessions.service` -> `live.sessions`; `live.realtime` -> `live.realtime`."""
    return ".".join(module.split(".")[:2])


def package_graph() -> dict[str, set[str]]:
    """package -> the packages it imports."""
    graph: dict[str, set[str]] = {}
    for module, targets in module_graph().items():
        graph.setdefault(package_of(module), set()).update(
            package_of(t) for t in targets if package_of(t) != package_of(module))
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_lazy_imports():
    """The reader itself: an import inside a function is an edge (else the test proves nothing)."""
    graph = module_graph()
    assert "live.sessions.service" in graph["live.sessions.events"]  # `from live.sessions import service`
    assert "live.boards.http" in graph["live.app"]  # imported inside `_register_features`


def test_no_cycle_between_modules():
    assert cycles(module_graph()) == []


def test_no_cycle_between_packages():
    assert cycles(package_graph()) == []


def test_realtime_is_infrastructure_only():
    """Rooms, the handler pipeline and emits: it imports no feature, sessions included."""
    features = {"live.sessions", "live.polls", "live.wordclouds", "live.boards", "live.archive",
                "live.admin", "live.web", "live.app"}
    assert package_graph()["live.realtime"] & features == set()


def test_cycles_are_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


DOORS = sorted(p for p in LIVE.rglob("*.py") if p.name in ("http.py", "events.py"))
PUSHES = {"push_state", "mark_dirty", "mark_presence", "schedule", "tell_authors", "emit_to_participant"}


def test_doors_do_not_decide_pushes():
    """Form routes and socket handlers hand effects to `effects.apply`; none pushes by itself."""
    offenders = []
    for path in DOORS:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in PUSHES:
                offenders.append(f"{path.relative_to(LIVE)}:{node.lineno} {node.attr}")
    assert offenders == []
