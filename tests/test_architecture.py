"""The package's shape, checked on its source with `ast`: no import cycles, layers respected.

Layers, lowest first: the values that flow (model, config) < the rule language (rules) < the
pipeline (engine) < the CI gate and report formats (gate) < what front ends share (api, golden,
ruledocs, console, profiles) < the front ends themselves (lsp, cli). A module may import from its own
component, from another component of its layer (the cycle checks keep those one-way) or from a
lower layer, never from a higher one, and never a `_private` name of another module. Every
import counts, including those inside functions and `if TYPE_CHECKING:` blocks: a lazy import
still couples the two modules.

import-linter could state the layers too; plain `ast` needs no extra dependency and also
checks private names, which import-linter does not.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cloudshift"

# component -> layer; a component is a subpackage or a top-level module of cloudshift
LAYERS = {
    "model": 0,
    "config": 0,
    "rules": 1,
    "engine": 2,
    "gate": 3,
    "api": 4,
    "golden": 4,
    "ruledocs": 4,
    "console": 4,
    "profiles": 4,
    "lsp": 5,
    "cli": 5,
    "__main__": 6,
}


@dataclass(frozen=True)
class Import:
    """`importer` imports `module` (and `name` from it, for `from module import name`) at `line`."""

    importer: str
    module: str
    name: str | None
    line: int


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path) -> list[Import]:
    """Every import of a module of the package `root` in one file, relative imports resolved."""
    importer = module_name(path, root)
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(importer, alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if (root.parent / submodule.replace(".", "/")).with_suffix(".py").is_file() or (
                    root.parent / submodule.replace(".", "/") / "__init__.py"
                ).is_file():
                    found.append(Import(importer, submodule, None, node.lineno))
                else:
                    found.append(Import(importer, base, alias.name, node.lineno))
    found += _private_attributes(tree, importer, found)
    return [item for item in found if item.module.split(".")[0] == root.name]


def _private_attributes(tree: ast.Module, importer: str, found: list[Import]) -> list[Import]:
    """`mod._name` where `mod` is a module this file imported: a private name reached by attribute."""
    modules = {item.module.rpartition(".")[2]: item.module for item in found if item.name is None}
    return [
        Import(importer, modules[node.value.id], node.attr, node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
        if node.attr.startswith("_") and not node.attr.startswith("__")
    ]


def all_imports(root: Path) -> list[Import]:
    return [item for path in sorted(root.rglob("*.py")) for item in imports_of(path, root)]


def component(module: str) -> str:
    """`cloudshift.engine.plan` -> `engine`; `cloudshift.cli` -> `cli`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each sorted."""
    graph: dict[str, list[str]] = {}
    for source, target in sorted(edges):
        graph.setdefault(source, []).append(target)
        graph.setdefault(target, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            members = []
            while True:
                member = stack.pop()
                members.append(member)
                if member == node:
                    break
            if len(members) > 1:
                found.append(sorted(members))

    for node in graph:
        if node not in index:
            visit(node)
    return sorted(found)


def module_cycles(imports: list[Import]) -> list[list[str]]:
    return cycles({(i.importer, i.module) for i in imports if i.importer != i.module})


def component_cycles(imports: list[Import]) -> list[list[str]]:
    edges = {(component(i.importer), component(i.module)) for i in imports}
    return cycles({(a, b) for a, b in edges if a != b})


def layer_violations(imports: list[Import], layers: dict[str, int]) -> list[str]:
    """Imports of a higher layer, and modules whose component has no layer yet."""
    problems = []
    for item in imports:
        source, target = component(item.importer), component(item.module)
        unknown = [name for name in (source, target) if name not in layers]
        if unknown:
            problems.append(f"{item.importer}: component {unknown[0]!r} has no layer in LAYERS")
        elif source != target and layers[target] > layers[source]:
            problems.append(f"{item.importer}:{item.line} imports {item.module} ({target} is above {source})")
    return sorted(set(problems))


def private_imports(imports: list[Import]) -> list[str]:
    return [
        f"{i.importer}:{i.line} imports {i.name} from {i.module}"
        for i in imports
        if i.name is not None and i.name.startswith("_") and not i.name.startswith("__") and i.module != i.importer
    ]


# --- the package -------------------------------------------------------------------------


def test_the_package_has_no_import_cycles_between_modules() -> None:
    assert module_cycles(all_imports(PACKAGE)) == []


def test_the_package_has_no_import_cycles_between_components() -> None:
    assert component_cycles(all_imports(PACKAGE)) == []


def test_every_import_goes_down_the_layers() -> None:
    """model/config < rules < engine < gate < front ends: the engine never imports gate, lsp or cli."""
    assert layer_violations(all_imports(PACKAGE), LAYERS) == []


def test_no_module_imports_a_private_name_of_another() -> None:
    assert private_imports(all_imports(PACKAGE)) == []


def test_the_checks_see_the_package() -> None:
    """Guards against a checker that passes because it found nothing to check."""
    imports = all_imports(PACKAGE)
    assert ("cloudshift.engine.analyse", "cloudshift.engine.plan", "Planner") in {
        (i.importer, i.module, i.name) for i in imports
    }
    assert {component(i.importer) for i in imports} >= {"engine", "gate", "rules", "lsp", "cli", "golden"}


# --- the checker, on packages made to break the rules ------------------------------------


def write_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


def test_a_cycle_through_a_lazy_import_is_found(tmp_path: Path) -> None:
    package = write_package(
        tmp_path,
        {
            "__init__.py": "",
            "engine/__init__.py": "",
            "engine/project.py": "from pkg.engine.resolve import Resolver\n",
            "engine/resolve.py": "def f():\n    from . import project\n",
        },
    )
    assert module_cycles(all_imports(package)) == [["pkg.engine.project", "pkg.engine.resolve"]]


def test_a_component_cycle_is_found_even_without_a_module_cycle(tmp_path: Path) -> None:
    package = write_package(
        tmp_path,
        {
            "__init__.py": "",
            "rules/__init__.py": "",
            "rules/a.py": "from pkg.engine.b import x\n",
            "engine/__init__.py": "",
            "engine/b.py": "x = 1\n",
            "engine/c.py": "from pkg.rules.d import y\n",
            "rules/d.py": "y = 2\n",
        },
    )
    imports = all_imports(package)
    assert module_cycles(imports) == []
    assert component_cycles(imports) == [["engine", "rules"]]


def test_an_upward_import_and_an_unknown_component_are_reported(tmp_path: Path) -> None:
    package = write_package(
        tmp_path,
        {
            "__init__.py": "",
            "engine/__init__.py": "",
            "engine/run.py": "from pkg.gate import report\nimport pkg.newthing\n",
            "gate/__init__.py": "",
            "gate/report.py": "",
            "newthing.py": "",
        },
    )
    assert layer_violations(all_imports(package), LAYERS) == [
        "pkg.engine.run: component 'newthing' has no layer in LAYERS",
        "pkg.engine.run:1 imports pkg.gate.report (gate is above engine)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "from pkg.engine.plan import _dict_entries\n",
            ["pkg.engine.rewrite:1 imports _dict_entries from pkg.engine.plan"],
        ),
        (
            "from .plan import _dict_entries as entries\n",
            ["pkg.engine.rewrite:1 imports _dict_entries from pkg.engine.plan"],
        ),
        (
            "from pkg.engine import plan\n\nplan._dict_entries()\n",
            ["pkg.engine.rewrite:3 imports _dict_entries from pkg.engine.plan"],
        ),
        ("from pkg.engine.plan import dict_entries, __version__\n", []),
    ],
)
def test_private_names_imported_from_another_module(tmp_path: Path, text: str, expected: list[str]) -> None:
    package = write_package(
        tmp_path,
        {"__init__.py": "", "engine/__init__.py": "", "engine/plan.py": "", "engine/rewrite.py": text},
    )
    assert private_imports(all_imports(package)) == expected
