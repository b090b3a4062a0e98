"""The floor plan, checked: what may import what (over the AST of every module of virtc).

README's Architecture section explains the layout; these are its house rules:
the large-table machinery in ``virtc/speed/`` is a fenced wing, no import cycle, rules
are plain modules over the facts API, the map encoding lives apart from ``virtc build``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from support.oracles import ROOT

PACKAGE = ROOT / "virtc"
LARGE = {"virtc.table", "virtc.lint.schedule", "virtc.lint.facts", "virtc.source.large",
         "virtc.maps.build_large"}
"""The only modules that may use helper processes or the memory tricks."""
FENCED = {"virtc.speed.parallel", "virtc.speed.memory"}
PLAIN = {"virtc.source.parse", "virtc.lint.runner", "virtc.maps.build"}


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(module: str) -> set[str]:
    """The virtc modules ``module`` imports when it runs (at the top or in a function),
    without ``if TYPE_CHECKING:`` blocks. ``from pkg import sub`` names the submodule."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.dump(child.test):
                for orelse in child.orelse:
                    visit(orelse)
                continue
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                subs = [f"{child.module}.{a.name}" for a in child.names]
                subs = [s for s in subs if s in MODULES]
                found.update(subs if len(subs) == len(child.names) else [child.module, *subs])
            visit(child)

    visit(ast.parse(MODULES[module].read_text(encoding="utf-8")))
    return {m for m in found if m in MODULES} - {module}


GRAPH = {m: imports(m) for m in MODULES}


def test_only_the_large_table_modules_use_helpers_and_memory_tricks() -> None:
    users = {m for m, deps in GRAPH.items() if deps & FENCED and not m.startswith("virtc.speed.")}
    assert users <= LARGE, users - LARGE


def test_the_plain_path_and_the_rules_stay_out_of_the_speed_wing() -> None:
    for module in PLAIN | {m for m in MODULES if m.startswith("virtc.lint.rules.")}:
        assert not GRAPH[module] & FENCED, module


def test_the_speed_wing_knows_nothing_about_virtusertables() -> None:
    allowed = {"virtc", "virtc.errors", "virtc.progress", "virtc.compat"}
    for module in (m for m in MODULES if m.startswith("virtc.speed.")):
        outside = {d for d in GRAPH[module] if not d.startswith("virtc.speed.")} - allowed
        assert not outside, (module, outside)


def test_no_import_cycle() -> None:
    def path_back(start: str) -> list[str] | None:
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for dep in GRAPH[node]:
                if dep == start:
                    return path
                if dep not in seen:
                    seen.add(dep)
                    stack.append((dep, [*path, dep]))
        return None

    cycles = [cycle for m in MODULES if (cycle := path_back(m))]
    assert not cycles, cycles[0]


def test_map_encoding_apart_from_the_build_feature() -> None:
    for module in ("virtc.maps.makemap", "virtc.maps.mapdiff"):
        assert "virtc.maps.records" in GRAPH[module]
        assert "virtc.maps.build" not in GRAPH[module]


def test_rules_folder_holds_only_rules() -> None:
    names = sorted(p.name for p in (PACKAGE / "lint" / "rules").glob("*.py"))
    assert names[0] == "__init__.py"
    assert all(n[:2] == "vt" and n[2:5].isdigit() and n[5] == "_" for n in names[1:]), names


def test_rules_import_each_other_never() -> None:
    for module in (m for m in MODULES if m.startswith("virtc.lint.rules.vt")):
        others = {d for d in GRAPH[module] if d.startswith("virtc.lint.rules.")}
        assert not others, (module, others)


def test_only_the_table_touches_its_cached_indexes() -> None:
    """Nothing but virtc/table.py reads or writes a Table's ``__dict__``."""
    for module, path in MODULES.items():
        if module == "virtc.table":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "__dict__":
                assert isinstance(node.value, ast.Name) and node.value.id == "self", (module, node.lineno)


def test_tests_import_only_support_and_never_patch_sys_path() -> None:
    """A test module imports no other test module (shared code lives in tests/support/)
    and never edits sys.path (pyproject puts tests/ on it for ``support``)."""
    tests = ROOT / "tests"
    test_modules = {p.stem for p in tests.rglob("test_*.py")} | {"conftest"}
    for path in tests.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] not in test_modules, (path, node.module)
            elif isinstance(node, ast.Import):
                assert not {a.name.split(".")[0] for a in node.names} & test_modules, path
            elif isinstance(node, ast.Attribute) and node.attr == "path" and \
                    isinstance(node.value, ast.Name) and node.value.id == "sys":
                raise AssertionError(f"{path}:{node.lineno}: sys.path")
