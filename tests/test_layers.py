"""The package's imports point one way: interfaces over pipeline over store over basics.

Parsed from the source (nothing is imported), so a new reach upward or a cycle fails here
before it confuses a reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import REPO

#: Lower layers never import higher ones; packages on one layer do not import each other.
LAYERS: dict[str, int] = {
    "rag": 0,  # rag/__init__.py: the version only
    "rag.config": 0,
    "rag.errors": 0,
    "rag.text": 0,
    "embeddings": 0,
    "rag.store": 1,
    "rag.ingest": 2,
    "rag.retrieve": 2,
    "rag.answer": 3,
    "rag.evaluation": 4,
    "rag.ui": 5,
    "rag.cli": 6,
    "rag.__main__": 7,
}
#: Packages that may import only the basics (layer 0) and themselves.
BASICS_ONLY = ("rag.answer.language",)


def _modules() -> dict[str, Path]:
    found = {}
    for root in ("rag", "embeddings"):
        for path in sorted((REPO / root).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _group(module: str) -> str:
    return max((g for g in LAYERS if module == g or module.startswith(g + ".")), key=len)


def _imports(module: str, path: Path, *, type_hints: bool = False) -> list[tuple[str, int, bool, str]]:
    """(imported module, line, inside a function?, source line) for each project import; the
    imports under `if TYPE_CHECKING:` only with `type_hints`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = path.read_text(encoding="utf-8").splitlines()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    type_checking: set[int] = set()
    for node in ast.walk(tree):
        if not type_hints and isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_checking.update(id(n) for n in ast.walk(node))
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    nested = {id(n) for f in functions for n in ast.walk(f) if n is not f}
    for node in ast.walk(tree):
        if id(node) in type_checking:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            names = [base]
            names += [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]
        for name in names:
            target = max((m for m in MODULES if name == m or name.startswith(m + ".")), key=len, default=None)
            if target and target != module:
                out.append((target, node.lineno, id(node) in nested, " ".join(lines[node.lineno - 1 : node.end_lineno])))
    return out


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}
#: The same with the imports made only for type hints: a cycle there is still two modules that
#: each need the other to be read.
TYPED_GRAPH = {m: _imports(m, p, type_hints=True) for m, p in MODULES.items()}


def test_every_module_belongs_to_a_layer() -> None:
    assert all(_group(m) for m in MODULES)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module: str) -> None:
    here = _group(module)
    for target, line, _, _ in GRAPH[module]:
        there = _group(target)
        if there == here or target == "rag":
            continue
        assert LAYERS[there] < LAYERS[here], f"{module}:{line} imports {target} ({there} is not below {here})"
        if any(module.startswith(p) for p in BASICS_ONLY):
            assert LAYERS[there] == 0, f"{module}:{line} imports {target}; it may use only the basics"


@pytest.mark.parametrize("graph", [GRAPH, TYPED_GRAPH], ids=["imports", "with type-hint imports"])
def test_no_import_cycles(graph: dict[str, list[tuple[str, int, bool, str]]]) -> None:
    edges = {m: {t for t, *_ in graph[m] if not (m.startswith(t + ".") and MODULES[t].name == "__init__.py")}
             for m in MODULES}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(edges[m]):
            if state.get(t) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(t):] + [t]))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(MODULES):
        if m not in state:
            visit(m)


def test_imports_inside_functions_say_why() -> None:
    """A project import inside a function is only for deferring a heavy module (start-up time),
    and says so on its line; it is never a way to dodge a cycle."""
    silent = [
        f"{m}:{line}: {text.strip()}"
        for m, imports in GRAPH.items()
        for target, line, inside, text in imports
        if inside and "#" not in text
    ]
    assert not silent, "function-level imports without a reason:\n" + "\n".join(silent)


def test_each_package_says_what_it_does_and_must_not_import() -> None:
    for module, path in MODULES.items():
        if path.name == "__init__.py" and module.startswith("rag."):
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
            assert len(doc) > 60, f"{module} has no docstring saying what it does"
