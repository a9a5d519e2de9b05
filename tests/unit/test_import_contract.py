"""The import contract, read from the source (every import, at the top of a module or inside a function):

- the engine's rooms import downwards only: core < embed < storage < ingest, search < answer < news (briefs
  and follows) < the facade (retrieval/service.py with its parts read_models.py, corpus.py, briefing.py
  and following.py);
  ingest and search do not import each other;
- storage never imports answer or search;
- nothing in the engine imports the faces (`bot/`) or the evaluation (`evaluation/`);
- the faces import only the facade, types, errors, config and dates of the engine (and the evaluation, for
  `newsdesk eval`);
- no module imports itself back through others when the code runs (no circle; imports for annotations
  only, under `if TYPE_CHECKING:`, are no arrow)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RANK = {"core": 0, "embed": 1, "storage": 2, "ingest": 3, "search": 3, "answer": 4, "news": 5, "facade": 6}
FACADE = {"retrieval.service", "retrieval.read_models", "retrieval.corpus", "retrieval.briefing", "retrieval.following"}
FACES_MAY_IMPORT = {
    "retrieval.service",
    "retrieval.core.types",
    "retrieval.core.errors",
    "retrieval.core.config",
    "retrieval.core.dates",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules(*packages: str) -> dict[str, Path]:
    return {_module_name(p): p for package in packages for p in sorted((ROOT / package).rglob("*.py"))}


KNOWN = _modules("retrieval", "bot", "evaluation")


def _type_only(tree: ast.Module) -> set[int]:
    """The ids of the import nodes under `if TYPE_CHECKING:` (for annotations: no arrow when the code runs)."""
    guarded = [n for n in ast.walk(tree) if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test)]
    return {id(node) for block in guarded for stmt in block.body for node in ast.walk(stmt)}


def _imports(path: Path, at_run_time: bool = False) -> Iterator[tuple[int, str]]:
    """(line, module) for every import of a project module; `from package import module` names the module.
    `at_run_time`: leave out the imports made for type annotations only."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    skip = _type_only(tree) if at_run_time else set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}" if f"{base}.{alias.name}" in KNOWN else base


def _project_imports(path: Path, at_run_time: bool = False) -> list[tuple[int, str]]:
    found = _imports(path, at_run_time)
    return sorted({(line, name) for line, name in found if name.split(".")[0] in {"retrieval", "bot", "evaluation"}})


def _room(module: str) -> str | None:
    if module in FACADE:
        return "facade"
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "retrieval" and parts[1] in RANK else None


def test_the_rooms_import_downwards_only() -> None:
    wrong = []
    for module, path in _modules("retrieval").items():
        room = _room(module)
        if room is None:
            continue
        for line, target in _project_imports(path):
            other = _room(target)
            if other is None or other == room:
                continue
            if RANK[other] >= RANK[room]:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {room} imports {target} ({other})")
    assert not wrong, "imports against the flow:\n" + "\n".join(wrong)


def test_every_engine_module_is_in_a_room() -> None:
    packages = {"retrieval", *(f"retrieval.{room}" for room in RANK)}
    homeless = [m for m in _modules("retrieval") if m not in packages and _room(m) is None]
    assert not homeless, f"modules outside the rooms: {homeless}"


def test_storage_never_imports_answer_or_search() -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line}: {target}"
        for module, path in _modules("retrieval/storage").items()
        for line, target in _project_imports(path)
        if target.startswith(("retrieval.answer", "retrieval.search"))
    ]
    assert not wrong, wrong


def test_the_engine_never_imports_the_faces_or_the_evaluation() -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line}: {target}"
        for path in _modules("retrieval").values()
        for line, target in _project_imports(path)
        if target.split(".")[0] in {"bot", "evaluation"}
    ]
    assert not wrong, wrong


def test_the_faces_import_only_the_facade_types_errors_config_and_dates() -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line}: {target}"
        for path in _modules("bot").values()
        for line, target in _project_imports(path)
        if target.startswith("retrieval") and target not in FACES_MAY_IMPORT
    ]
    assert not wrong, "faces reaching past the facade:\n" + "\n".join(wrong)


def test_no_module_imports_itself_back() -> None:
    graph = {
        module: {t for _, t in _project_imports(path, at_run_time=True) if t in KNOWN and t != module}
        for module, path in KNOWN.items()
    }
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the path, 2 = done

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append([*trail[trail.index(target) :], target] if target in trail else [module, target])
            elif target not in state:
                visit(target, [*trail, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


MODULE_LINES, FUNCTION_LINES, CLASS_METHODS = 500, 60, 20


def test_the_engines_rooms_stay_small_enough_to_read() -> None:
    """No module of the engine over 500 lines, no function over 60, no class with more than 20 methods."""
    too_big = []
    for name, path in _modules("retrieval").items():
        source = path.read_text(encoding="utf-8")
        if source.count("\n") > MODULE_LINES:
            too_big.append(f"{name}: {source.count(chr(10))} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > FUNCTION_LINES:
                    too_big.append(f"{name}.{node.name}: {length} lines")
            elif isinstance(node, ast.ClassDef):
                methods = [n for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
                if len(methods) > CLASS_METHODS:
                    too_big.append(f"{name}.{node.name}: {len(methods)} methods")
    assert not too_big, too_big


def test_every_package_is_installed() -> None:
    """`pip install .` (the Dockerfile, a user's install) ships only the packages pyproject.toml lists."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("retrieval", "bot", "evaluation")
        for p in (ROOT / top).rglob("__init__.py")
    }
    assert found <= listed, sorted(found - listed)
