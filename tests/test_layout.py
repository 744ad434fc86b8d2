"""The package's shape: subpackages by stage, no module over 400 lines, no import cycles at module level,
and ``import dd_live`` pulls in none of the heavy or hardware libraries."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "dd_live"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _top_level_imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The dd_live modules ``name`` imports when it is imported (imports inside functions excluded)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in known else base)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m in known and m != name}


def test_no_module_is_over_400_lines():
    long = {n: len(p.read_text().splitlines()) for n, p in _modules().items()}
    assert {n: k for n, k in long.items() if k > 400} == {}


def test_no_import_cycles_at_module_level():
    mods = _modules()
    graph = {n: _top_level_imports(n, p, set(mods)) for n, p in mods.items()}
    assert graph["dd_live.live.daemon"] >= {"dd_live.live.commands", "dd_live.osc.osc"}  # the parser sees edges
    state: dict[str, int] = {}

    def visit(n: str, trail: list[str]) -> None:
        state[n] = 1
        for m in graph[n]:
            if state.get(m) == 1:
                raise AssertionError("import cycle: " + " -> ".join(trail[trail.index(m):] + [m]))
            if m not in state:
                visit(m, trail + [m])
        state[n] = 2

    for n in graph:
        if n not in state:
            visit(n, [n])


def test_import_dd_live_imports_no_heavy_or_hardware_library():
    code = ("import sys, dd_live, dd_live.cli; "
            "print([m for m in ('torch', 'rtmidi', 'sounddevice', 'mido', 'soundfile') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _all_imports(name: str, path: Path) -> list[tuple[str, int]]:
    """Every dd_live module or name ``name`` imports, inside functions too: (dotted target, line)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            out += [(f"{base}.{a.name}", node.lineno) for a in node.names]
        elif isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
    return [(t, line) for t, line in out if t.startswith("dd_live.")]


def _wing(dotted: str) -> str | None:
    """The subpackage (wing) a dotted dd_live name belongs to; None for the top-level modules."""
    part = dotted.split(".")[1]
    return part if (PACKAGE / part).is_dir() else None


def test_no_cycle_between_wings_counting_imports_inside_functions():
    edges: dict[str, set[str]] = {}
    where: dict[tuple[str, str], str] = {}
    for name, path in _modules().items():
        wing = _wing(name) if name.count(".") else None
        for target, line in _all_imports(name, path):
            other = _wing(target)
            if wing and other and other != wing:
                edges.setdefault(wing, set()).add(other)
                where.setdefault((wing, other), f"{path.relative_to(PACKAGE.parent)}:{line}")
    assert edges.get("live", set()) >= {"osc", "ports", "session"}      # the walk sees the edges

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            for nxt in edges.get(todo.pop(), ()):
                if nxt == goal:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    cycles = [(a, b, where[(a, b)]) for a in edges for b in edges[a] if reaches(b, a)]
    assert cycles == [], cycles


def test_no_private_name_is_imported_across_wings():
    found = []
    for name, path in _modules().items():
        wing = _wing(name) if name.count(".") else None
        for target, line in _all_imports(name, path):
            last = target.rsplit(".", 1)[1]
            if last.startswith("_") and not last.startswith("__") and _wing(target) != wing:
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line} {target}")
    assert found == []


def test_no_wing_holds_more_than_a_fifth_of_the_packages_lines():
    lines: dict[str, int] = {}
    for name, path in _modules().items():
        key = (_wing(name) if name.count(".") else None) or "(top)"
        lines[key] = lines.get(key, 0) + len(path.read_text().splitlines())
    total = sum(lines.values())
    assert {k: round(v / total, 3) for k, v in lines.items() if v > 0.2 * total} == {}


def test_the_product_imports_neither_the_test_harness_nor_the_benchmarks():
    """dd_live/testing is for tests and benchmarks, dd_live/bench for ``dd-live bench`` (the CLI's one way in)."""
    found = []
    for name, path in _modules().items():
        wing = _wing(name) if name.count(".") else None
        for target, line in _all_imports(name, path):
            other = _wing(target)
            if other == "testing" and wing not in ("testing", "bench") or \
                    other == "bench" and wing != "bench" and name != "dd_live.cli":
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line} {target}")
    assert found == []
    assert any(_wing(t) == "bench" for t, _ in _all_imports("dd_live.cli", PACKAGE / "cli.py"))   # it sees them
