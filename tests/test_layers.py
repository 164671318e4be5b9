"""The house rule, read from the code's own imports (ast): a lower layer never imports a higher one, packages of
the same rank stay independent, the UI reaches the engine only through its facade, and no import circle exists."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# rank of each engine package (README "Layout" says the same in prose)
RANKS = {"engine": 0, "engine.core": 0, "engine.schema": 1,
         "engine.ml": 2, "engine.optim": 2, "engine.sim": 2, "engine.report": 2,
         "engine.store": 3, "engine.pipeline": 4, "engine.operators": 5, "engine.service": 6,
         "engine.api": 7, "engine.cli": 8, "engine.server": 8, "engine.__main__": 8}
# same-rank libraries a package may use (rank-2 libraries are independent of each other except these)
SAME_RANK_OK = {("engine.__main__", "engine.cli")}  # `python -m engine` is the CLI
UI_ALLOWED = ("engine.api", "engine.core")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[str, int]]:
    """Every engine/ui module named by an import in the file (module-level or inside functions), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
            found += [(f"{node.module}.{a.name}", node.lineno) for a in node.names]  # `from pkg import module`
    return [(name, line) for name, line in found if name.split(".")[0] in ("engine", "ui")]


def package_of(module: str) -> str | None:
    """The layer package a dotted name belongs to (longest key of RANKS that prefixes it)."""
    best = None
    for pkg in RANKS:
        if module == pkg or module.startswith(pkg + "."):
            if best is None or len(pkg) > len(best):
                best = pkg
    return best


def python_files(*folders: str) -> list[Path]:
    files = []
    for folder in folders:
        base = REPO / folder
        files += [base] if base.suffix == ".py" else sorted(base.rglob("*.py"))
    return [f for f in files if "__pycache__" not in f.parts]


def existing_module(name: str) -> str | None:
    """The dotted name if it is a module or package in the repo (drops `from x import name` of non-modules)."""
    path = REPO / name.replace(".", "/")
    if path.with_suffix(".py").exists() or (path / "__init__.py").exists():
        return name
    return None


def test_every_engine_module_sits_in_a_layer():
    loose = [module_name(f) for f in python_files("engine") if package_of(module_name(f)) == "engine"
             and module_name(f) not in ("engine",)]
    assert loose == [], f"modules outside a layer package: {loose} (put each in core/store/pipeline/service ...)"


def test_lower_layers_never_import_higher_ones():
    wrong = []
    for path in python_files("engine"):
        here = package_of(module_name(path))
        for name, line in imports_of(path):
            there = package_of(name)
            if there is None or existing_module(name) is None or there == here:
                continue
            if RANKS[there] > RANKS[here] or (RANKS[there] == RANKS[here] and (here, there) not in SAME_RANK_OK
                                              and here != "engine"):
                wrong.append(f"{path.relative_to(REPO)}:{line}: {here} (rank {RANKS[here]}) imports {name} "
                             f"({there}, rank {RANKS[there]})")
    assert wrong == [], "layer rule broken:\n" + "\n".join(wrong)


def test_ui_and_pages_use_only_the_facade():
    wrong = []
    for path in python_files("app.py", "pages", "ui"):
        for name, line in imports_of(path):
            if name.startswith("engine.") and not name.startswith(UI_ALLOWED) and existing_module(name):
                wrong.append(f"{path.relative_to(REPO)}:{line}: imports {name} (pages and ui call engine.api)")
    assert wrong == [], "\n".join(wrong)


def test_no_import_cycles():
    graph: dict[str, set[str]] = {}
    for path in python_files("engine"):
        mod = module_name(path)
        graph[mod] = {m for name, _ in imports_of(path) if (m := existing_module(name)) and m != mod
                      and not mod.startswith(m + ".")}  # a module importing its own package's __init__ is no cycle
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if state.get(nxt) is None and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if state.get(node) is None and (found := visit(node)):
            return found
    return None


def test_no_product_module_is_named_like_a_test():
    named = [str(f.relative_to(REPO)) for f in python_files("engine", "ui", "pages")
             if f.name.startswith("test_") or f.name.endswith("_test.py")]
    assert named == [], f"product modules named like tests: {named}"


def test_the_checker_sees_a_planted_violation(tmp_path):
    """The rule test must be able to fail: a core module importing the facade is caught."""
    planted = tmp_path / "x.py"
    planted.write_text("from engine import api\nimport engine.service.runner\n", encoding="utf-8")
    names = [n for n, _ in imports_of(planted)]
    assert "engine.api" in names and "engine.service.runner" in names
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
