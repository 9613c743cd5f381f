"""The layering rules of the architecture, checked on the source."""

import ast
import re
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
SKIP_PARTS = {".venv", ".git", "node_modules", ".pytest_cache", "__pycache__"}
SOURCES = sorted(
    p for p in ROOT.rglob("*")
    if p.is_file() and p.suffix in (".py", ".cfg", ".toml", ".txt", ".sh", ".ini", ".md")
    and not SKIP_PARTS & set(p.parts)
) + [ROOT / "Makefile", ROOT / ".ci" / "run"]
# The workplace's sibling folder, named without writing it out here.
SIBLING = re.compile("sha" + r"red\W{1,12}(data|design|hooks)")


def test_nothing_reads_outside_the_clone():
    """A bare clone runs everything: no file of the project reaches a sibling folder."""
    offenders = [
        str(path.relative_to(ROOT)) for path in SOURCES
        if SIBLING.search(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert offenders == []


def _top_names(folder: Path) -> dict[str, set[str]]:
    return {str(p.relative_to(ROOT)): _imports(p) for p in sorted(folder.rglob("*.py"))}


def test_benchmarks_stay_out_of_the_app_and_the_tests():
    """The app never imports the benchmarks or the tests; the tests never import the benchmarks."""
    offenders = [path for path, names in _top_names(LIVE).items() if names & {"bench", "tests"}]
    offenders += [path for path, names in _top_names(ROOT / "tests").items() if "bench" in names]
    assert offenders == []
    assert not list(LIVE.glob("bench*.py"))


FUNCTION_LINES = 60


def test_no_function_of_the_app_is_longer_than_60_lines():
    """Long functions hide several decisions: split them (ruff also caps complexity at 15)."""
    long = []
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > FUNCTION_LINES:
                    long.append(f"{path.relative_to(LIVE)}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []


TESTS = ROOT / "tests"
# Ways of starting a browser other than tests/support.py's `chromium()`.
OWN_BROWSER = re.compile(r"sync_playwright|async_playwright|\.launch\(|executable_path"
                         r"|importorskip\(\s*[\"']playwright|CHROMIUM_ARGS|chromium_or_skip")


def test_browser_tests_start_chromium_only_through_the_support_helper():
    """One Chromium set-up: the system's browser, the no-network flags, and a missing browser
    failing (not skipping) under PALABRE_REQUIRE_BROWSER=1, all in `support.chromium()`."""
    offenders = [f"{path.name}:{n}" for path in sorted(TESTS.rglob("*.py")) if path.name != "support.py"
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if OWN_BROWSER.search(line) and path.name != "test_layers.py"]
    assert offenders == []
    users = [path.name for path in sorted(TESTS.glob("test_*.py"))
             if re.search(r"\bchromium\(\)", path.read_text(encoding="utf-8"))]
    assert {"test_archive_browser.py", "test_boards_browser.py", "test_boards_workshop.py",
            "test_page_weight.py", "test_security_browser.py"} <= set(users)


TABLES = {"_form_routes"}  # one row per form of the app: a table, not steps


def test_no_function_of_the_tests_is_longer_than_60_lines():
    """A long test hides what it checks: one function per step, named after what it shows."""
    long = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name not in TABLES:
                lines = node.end_lineno - node.lineno + 1
                if lines > FUNCTION_LINES:
                    long.append(f"{path.relative_to(TESTS)}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []
