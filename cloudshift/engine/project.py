"""Resolution across the modules of the scanned project: `from .clients import get_s3`.

Real code keeps its SDK clients in one module (`clients.py`, `utils.get_s3_client()`) and uses
them in others. The index maps each scanned file to its module name; when the resolver meets
a name imported from one of those modules, it resolves that module's top-level binding in the
module itself (parsed once per process, never run). The prefilter widens to match: a file is a
candidate when it imports an SDK, or imports a project module that imports an SDK (one level:
re-exports of re-exports are not followed, which keeps SDK-wrapping libraries fast to scan).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import libcst as cst

from cloudshift.engine.source import SourceError, read_source

if TYPE_CHECKING:
    from cloudshift.engine.resolve import Resolver, Value


def module_name(path: Path) -> str:
    """`pkg/sub/mod.py` -> `pkg.sub.mod`, going up while folders are packages (`__init__.py`)."""
    package = _package_of(path.parent)
    if path.name == "__init__.py":
        return package
    return f"{package}.{path.stem}" if package else path.stem


@cache
def _package_of(folder: Path) -> str:
    if not (folder / "__init__.py").is_file():
        return ""
    above = _package_of(folder.parent)
    return f"{above}.{folder.name}" if above else folder.name


@dataclass(frozen=True)
class ProjectIndex:
    """Module name -> file, for the files of one run, and which modules hold SDK objects."""

    modules: dict[str, Path] = field(default_factory=dict)
    exporters: frozenset[str] = frozenset()  # modules that import an SDK themselves

    @classmethod
    def build(cls, texts: dict[Path, str], is_candidate: Callable[[str], bool]) -> ProjectIndex:
        modules = {module_name(path.resolve()): path.resolve() for path in texts}
        exporters = {module_name(path.resolve()) for path, text in texts.items() if is_candidate(text)}
        return cls(modules, frozenset(exporters - {""}))

    def module_of(self, path: Path) -> str | None:
        resolved = path.resolve()
        name = module_name(resolved)
        return name if self.modules.get(name) == resolved else None

    def imports_exporter(self, text: str, path: Path | None) -> bool:
        """Whether the text imports a module (or a name from a module) that imports an SDK."""
        if not self.exporters or "import" not in text:
            return False
        package = _package_of(path.resolve().parent) if path is not None else ""
        return any(module in self.exporters for module in imported_modules(text, package))

    def split(self, dotted: str) -> tuple[str, list[str]] | None:
        """The longest indexed module that `dotted` starts with, and the names after it."""
        parts = dotted.split(".")
        for end in range(len(parts), 0, -1):
            module = ".".join(parts[:end])
            if module in self.modules:
                return module, parts[end:]
        return None


_FROM_IMPORT = re.compile(r"^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+\(?([\w, \t]+)", re.MULTILINE)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+([\w., \t]+)", re.MULTILINE)


def imported_modules(text: str, package: str) -> set[str]:
    """Every module an import line may name (`from a import b` names `a` and `a.b`), relative ones resolved."""
    found: set[str] = set()
    for dots, named, names in _FROM_IMPORT.findall(text):
        base = named
        if dots:
            parts = package.split(".") if package else []
            if len(dots) - 1 > len(parts):
                continue
            base = ".".join([*parts[: len(parts) - (len(dots) - 1)], *([named] if named else [])])
        found.add(base)
        found.update(
            f"{base}.{name.split()[0]}" if base else name.split()[0] for name in names.split(",") if name.strip()
        )
    for names in _IMPORT.findall(text):
        found.update(name.split()[0] for name in names.split(",") if name.strip())
    return found


class Project:
    """Loads and resolves other modules of the project on demand, once each, in this process."""

    def __init__(self, index: ProjectIndex, make_resolver: Callable[[cst.Module, str], Resolver]) -> None:
        self.index = index
        self._make_resolver = make_resolver
        self._resolvers: dict[str, Resolver | None] = {}
        self.consulted: set[str] = set()  # modules whose names were looked up (the results depend on their text)

    def value(self, dotted: str) -> Value:
        """What `dotted` (a project module's top-level name) is, or None when unknown or not a project name."""
        found = self.index.split(dotted)
        if found is None:
            return None
        module, names = found
        if len(names) != 1 or module not in self.index.exporters:
            return None
        self.consulted.add(module)
        resolver = self._resolver(module)
        return resolver.module_value(names[0]) if resolver is not None else None

    def _resolver(self, module: str) -> Resolver | None:
        if module not in self._resolvers:
            self._resolvers[module] = None  # a cycle of imports ends here instead of recursing
            self._resolvers[module] = self._load(module)
        return self._resolvers[module]

    def _load(self, module: str) -> Resolver | None:
        try:
            parsed = cst.parse_module(read_source(self.index.modules[module]).text)
        except (SourceError, cst.ParserSyntaxError):
            return None
        return self._make_resolver(parsed, module)
