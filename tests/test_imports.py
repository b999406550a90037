"""The package's imports, read from the source with `ast`, lazy imports inside functions included: no
import cycle, and the compile path never reaches the step runtime (`maestro.steps`) or the training
stack (torch, pandas, numpy). tests/robustness/test_imports.py checks what a real run imports; this
one checks every module and every branch, including those no test runs."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import maestro

PACKAGE = Path(maestro.__file__).resolve().parent
# The compile path: `maestro compile`, `--check`, `diff`, `promote`, `validate` and what they call.
COMPILE_PATH = ("maestro.compile", "maestro.incremental", "maestro.cache", "maestro.tree", "maestro.gitops",
                "maestro.loading", "maestro.language", "maestro.project", "maestro.overlay", "maestro.ir",
                "maestro.lower", "maestro.names", "maestro.contract", "maestro.targets", "maestro.render",
                "maestro.validation", "maestro.diff", "maestro.diff_format", "maestro.promote",
                "maestro.commands.compile", "maestro.commands.diff", "maestro.commands.promote",
                "maestro.commands.validate", "maestro.api", "maestro.scaffold", "maestro.commands.init")
FORBIDDEN_MODULES = ("maestro.steps",)
FORBIDDEN_LIBRARIES = ("torch", "pandas", "numpy")


@dataclass
class Module:
    path: Path
    package: bool                                               # an __init__.py
    imports: dict[str, int] = field(default_factory=dict)       # module of the package -> first line
    libraries: dict[str, int] = field(default_factory=dict)     # top-level name outside it -> first line


def read_package(root: Path, name: str) -> dict[str, Module]:
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = [name, *path.relative_to(root).with_suffix("").parts]
        package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if package else parts)] = Module(path, package)
    for module_name, module in modules.items():
        for node in ast.walk(ast.parse(module.path.read_text(), str(module.path))):
            for target, line in _targets(module_name, module, node, modules, name):
                found = module.imports if target in modules else module.libraries
                found.setdefault(target if target in modules else target.split(".")[0], line)
    return modules


def _targets(module_name: str, module: Module, node: ast.AST, modules: dict, top: str):
    """The modules one import statement runs: the submodule when `from x import y` names one, else x."""
    if isinstance(node, ast.Import):
        return [(alias.name, node.lineno) for alias in node.names if alias.name.split(".")[0] != top
                or alias.name in modules]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = _absolute(module_name, module, node)
    return [(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base, node.lineno) for alias in node.names]


def _absolute(module_name: str, module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module_name.split(".") if module.package else module_name.split(".")[:-1]
    base = package[:len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def cycles(modules: dict[str, Module]) -> list[list[str]]:
    """Each import cycle (a strongly connected component of more than one module), as one closed path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in modules[v].imports:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(_closed_path(sorted(component), modules))

    for v in sorted(modules):
        if v not in index:
            visit(v)
    return found


def _closed_path(component: list[str], modules: dict[str, Module]) -> list[str]:
    """A path from the component's first module back to it, through the component only."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    pending = [start]
    while pending:
        current = pending.pop(0)
        for nxt in sorted(modules[current].imports):
            if nxt == start:
                return paths[current] + [start]
            if nxt in members and nxt not in paths:
                paths[nxt] = paths[current] + [nxt]
                pending.append(nxt)
    return component


def reach(modules: dict[str, Module], roots: list[str]) -> dict[str, list[str]]:
    """Every module and library importing `roots` runs, with the chain of imports that gets there.
    Importing a.b.c runs a/__init__.py and a/b/__init__.py too."""
    chains = {root: [root] for root in roots}
    pending = list(roots)
    while pending:
        current = pending.pop(0)
        module = modules[current]
        parents = [".".join(current.split(".")[:i]) for i in range(1, current.count(".") + 1)]
        for nxt in [*parents, *module.imports, *module.libraries]:
            if nxt not in chains:
                chains[nxt] = chains[current] + [nxt]
                if nxt in modules:
                    pending.append(nxt)
    return chains


def _where(modules: dict[str, Module], chain: list[str]) -> str:
    steps = []
    for a, b in zip(chain, chain[1:]):
        module = modules[a]
        line = module.imports.get(b) or module.libraries.get(b)
        steps.append(f"{module.path.relative_to(PACKAGE.parent)}:{line} imports {b}" if line
                     else f"{b} is the package of {a}")
    return "\n  ".join(steps)


@pytest.fixture(scope="module")
def package() -> dict[str, Module]:
    return read_package(PACKAGE, "maestro")


def test_no_import_cycle(package) -> None:
    found = cycles(package)
    assert not found, "import cycles (lazy imports included):\n" + "\n".join(
        " -> ".join(cycle) + "\n  " + _where(package, cycle) for cycle in found)


def test_the_compile_path_reaches_no_step_runtime_and_no_training_stack(package) -> None:
    roots = sorted(m for m in package if any(m == p or m.startswith(p + ".") for p in COMPILE_PATH))
    assert "maestro.gitops.journal" in roots and "maestro.validation.engine" in roots
    chains = reach(package, roots)
    bad = sorted(m for m in chains if m in FORBIDDEN_LIBRARIES
                 or any(m == f or m.startswith(f + ".") for f in FORBIDDEN_MODULES))
    assert not bad, "the compile path reaches:\n" + "\n".join(f"{m}:\n  {_where(package, chains[m])}" for m in bad)


def test_the_walk_sees_imports_inside_functions(package) -> None:
    """The checks above could pass by seeing nothing: the training step imports torch inside a function,
    and a package written here with a cycle through a lazy import is reported."""
    assert "torch" in reach(package, ["maestro.steps.train"])


def test_a_cycle_through_a_lazy_import_is_found(tmp_path: Path) -> None:
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "a.py").write_text("from .b import thing\n")
    (tmp_path / "b.py").write_text("def thing():\n    from . import a\n")
    (tmp_path / "c.py").write_text("import pkg.a\n")
    assert cycles(read_package(tmp_path, "pkg")) == [["pkg.a", "pkg.b", "pkg.a"]]
