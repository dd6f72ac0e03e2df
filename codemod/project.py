"""Resolution across the modules of the scanned project: `from .clients import get_s3`.

Real code keeps its SDK clients in one module (`clients.py`, `utils.get_s3_client()`) and uses
them in others. The index maps each scanned file to its module name; when the resolver meets
a name imported from one of those modules, it resolves that module's top-level binding in the
module itself (parsed once per process, never run). The prefilter widens to match: a file is a
candidate when it imports an SDK, or imports a project module that is a candidate itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

import libcst as cst

from codemod.source import SourceError, read_source

if TYPE_CHECKING:
    from codemod.resolve import Resolver, Value

MAX_EXPORT_ROUNDS = 4  # re-export chains longer than this are not followed


def module_name(path: Path) -> str:
    """`pkg/sub/mod.py` -> `pkg.sub.mod`, going up while folders are packages (`__init__.py`)."""
    parts = [] if path.name == "__init__.py" else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts)


@dataclass(frozen=True)
class ProjectIndex:
    """Module name -> file, for the files of one run, and which modules hold SDK objects."""

    modules: dict[str, Path] = field(default_factory=dict)
    exporters: frozenset[str] = frozenset()  # modules whose names may resolve to SDK objects

    @classmethod
    def build(cls, texts: dict[Path, str], is_candidate: Callable[[str], bool]) -> "ProjectIndex":
        modules = {module_name(path.resolve()): path.resolve() for path in texts}
        named = {module: texts[path] for path in texts if (module := module_name(path.resolve()))}
        exporters = {module for module, text in named.items() if is_candidate(text)}
        for _ in range(MAX_EXPORT_ROUNDS):
            pattern = _import_pattern(exporters)
            grown = exporters | {m for m, text in named.items() if pattern is not None and pattern.search(text)}
            if grown == exporters:
                break
            exporters = grown
        return cls(modules, frozenset(exporters))

    def module_of(self, path: Path) -> str | None:
        resolved = path.resolve()
        name = module_name(resolved)
        return name if self.modules.get(name) == resolved else None

    def imports_exporter(self, text: str) -> bool:
        pattern = _import_pattern(self.exporters)
        return pattern is not None and pattern.search(text) is not None

    def split(self, dotted: str) -> tuple[str, list[str]] | None:
        """The longest indexed module that `dotted` starts with, and the names after it."""
        parts = dotted.split(".")
        for end in range(len(parts), 0, -1):
            module = ".".join(parts[:end])
            if module in self.modules:
                return module, parts[end:]
        return None


def _import_pattern(modules: Iterable[str]) -> re.Pattern[str] | None:
    """Import statements naming one of `modules` by its last part (relative imports included)."""
    names = sorted({module.rsplit(".", 1)[-1] for module in modules})
    if not names:
        return None
    alternatives = "|".join(map(re.escape, names))
    return re.compile(rf"^[ \t]*(?:from[ \t]+[\w.]*\b(?:{alternatives})\b|from[ \t]+\.+[ \t]+import[ \t]+[\w ,(]*"
                      rf"\b(?:{alternatives})\b|import[ \t]+[\w., \t]*\b(?:{alternatives})\b)", re.MULTILINE)


class Project:
    """Loads and resolves other modules of the project on demand, once each, in this process."""

    def __init__(self, index: ProjectIndex, make_resolver: Callable[[cst.Module, str], "Resolver"]) -> None:
        self.index = index
        self._make_resolver = make_resolver
        self._resolvers: dict[str, Resolver | None] = {}
        self.lookups = 0  # how many names were resolved in other modules (a result that used any is not cached)

    def value(self, dotted: str) -> "Value":
        """What `dotted` (a project module's top-level name) is, or None when unknown or not a project name."""
        found = self.index.split(dotted)
        if found is None:
            return None
        self.lookups += 1
        module, names = found
        if len(names) != 1 or module not in self.index.exporters:
            return None
        resolver = self._resolver(module)
        return resolver.module_value(names[0]) if resolver is not None else None

    def _resolver(self, module: str) -> "Resolver | None":
        if module not in self._resolvers:
            self._resolvers[module] = None  # a cycle of imports ends here instead of recursing
            self._resolvers[module] = self._load(module)
        return self._resolvers[module]

    def _load(self, module: str) -> "Resolver | None":
        try:
            parsed = cst.parse_module(read_source(self.index.modules[module]).text)
        except (SourceError, cst.ParserSyntaxError):
            return None
        return self._make_resolver(parsed, module)
