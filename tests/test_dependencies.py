"""The packages installed are the ones pinned: every direct requirement and everything it pulls
in has its version in constraints.txt (a server's cost per event or per connection moved with an
unpinned python-engineio or greenlet, and figures could not be compared from one day to the
next)."""

import re
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s;#]+)")


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(filename: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / filename).read_text(encoding="utf-8").splitlines():
        match = PIN.match(line.strip())
        if match:
            pins[_name(match.group(1))] = match.group(2)
    return pins


def _pulled_in(names) -> set[str]:
    """The installed distributions `names` need, transitively (extras not followed)."""
    seen, todo = set(), [_name(n) for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for requirement in metadata.requires(name) or []:
            if "extra ==" in requirement:
                continue
            if ";" in requirement and not _marker_holds(requirement.split(";", 1)[1]):
                continue
            todo.append(_name(re.match(r"[A-Za-z0-9._-]+", requirement).group(0)))
    return seen


def _marker_holds(marker: str) -> bool:
    from packaging.markers import Marker

    return Marker(marker).evaluate({"extra": ""})


def test_each_requirement_is_pinned_as_in_the_constraints():
    constraints = _pins("constraints.txt")
    for filename in ("requirements.txt", "requirements-dev.txt"):
        for name, version in _pins(filename).items():
            assert constraints.get(name) == version, f"{filename}: {name}=={version}"


def test_everything_the_requirements_pull_in_is_pinned_at_the_installed_version():
    constraints = _pins("constraints.txt")
    direct = [*_pins("requirements.txt"), *_pins("requirements-dev.txt")]
    loose = {name: metadata.version(name) for name in sorted(_pulled_in(direct))
             if constraints.get(name) != metadata.version(name)}
    assert loose == {}
