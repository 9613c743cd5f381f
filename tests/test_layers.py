"""The layering rules of the architecture, checked on the source."""

import ast
from pathlib import Path

import pytest

LIVE = Path(__file__).resolve().parent.parent / "live"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


MODULES = sorted(p for p in LIVE.rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(LIVE)))
def test_only_runtime_knows_the_async_library(path):
    if path.name == "runtime.py" and path.parent == LIVE:
        return
    assert not _imports(path) & {"eventlet", "gevent"}


SERVICES = [p for p in MODULES if p.name in ("service.py", "model.py")]


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: str(p.relative_to(LIVE)))
def test_services_and_models_know_neither_flask_nor_sockets(path):
    assert not _imports(path) & {"flask", "flask_socketio", "socketio", "flask_babel"}


ROOT = LIVE.parent
SOURCES = sorted(
    p for p in ROOT.rglob("*")
    if p.is_file() and p.suffix in (".py", ".cfg", ".toml", ".txt", ".sh", ".ini")
    and not ({".venv", ".git", "node_modules", ".pytest_cache"} & set(p.parts))
) + [ROOT / "Makefile", ROOT / ".ci" / "run"]


def test_nothing_reads_outside_the_clone():
    """A bare clone runs everything: no file of the project reaches a sibling folder."""
    offenders = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8", errors="replace")
        if '"shared"' in text or "../shared" in text or "parents[2]" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == [path for path in offenders if path == "tests/test_layers.py"]
