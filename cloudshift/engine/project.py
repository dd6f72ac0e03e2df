"""The project a run analyses: its modules by dotted name, their `ast` summaries, which files to look at.

Real code keeps its SDK clients in one module and uses them in others, so every front end (scan,
fix, the LSP) analyses a file as part of its project. Summaries are built on first use and kept
per path and text, so the language server re-summarises only the buffer that changed.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable
from functools import cache, lru_cache
from pathlib import Path
from typing import Generic, TypeVar

from cloudshift.engine.infer import Modules, Program
from cloudshift.engine.source import SourceError, read_source
from cloudshift.engine.summarize import ModuleSummary, summarize
from cloudshift.rules.ruleset import RuleSet


def module_name(path: Path, roots: Iterable[Path] = ()) -> str:
    """`pkg/sub/mod.py` -> `pkg.sub.mod`, going up while folders are packages (`__init__.py`).

    Where that stops at a folder below one of `roots` (a namespace package such as
    `airflow/providers/` with no `__init__.py`), the folders from the root down are part of the
    name too, so `airflow.providers.microsoft.azure.hooks.wasb` is not mistaken for `azure.…`.
    """
    package, top = _package_of(path.parent)
    name = path.stem if path.name != "__init__.py" else ""
    dotted = ".".join(part for part in (package, name) if part)
    for root in roots:
        if top != root and top.is_relative_to(root):
            prefix = ".".join(top.relative_to(root).parts)
            return f"{prefix}.{dotted}" if dotted else prefix
    return dotted


@cache
def _package_of(folder: Path) -> tuple[str, Path]:
    """The dotted package `folder` is, and the first folder above it that is not a package."""
    if not (folder / "__init__.py").is_file():
        return "", folder
    above, top = _package_of(folder.parent)
    return (f"{above}.{folder.name}" if above else folder.name), top


class Project:
    """Module name -> file for the files of one run (or an editor's workspace), with their summaries."""

    def __init__(
        self, texts: dict[Path, str] | None = None, paths: Iterable[Path] = (), roots: Iterable[Path] = ()
    ) -> None:
        self.roots = tuple(root.resolve() for root in roots)
        self.texts: dict[Path, str] = {p.resolve(): t for p, t in (texts or {}).items()}
        self.paths: dict[str, Path] = {}
        self._importers: dict[str, set[str]] | None = None  # imported name -> modules whose import lines name it
        for path in [*self.texts, *(p.resolve() for p in paths)]:
            self.add(path)
        self._summaries: dict[Path, tuple[str, ModuleSummary | None]] = {}
        self._program: Program | None = None  # valid until a text changes
        self.population: set[Path] = set()  # the files searched for callers and subclasses (default: all)
        self._index: dict[str, set[str]] | None = None  # word -> population modules spelling it

    def __getstate__(self) -> dict[str, object]:
        """Worker processes get the texts and names; they summarise for themselves."""
        return {
            "roots": self.roots,
            "texts": self.texts,
            "paths": self.paths,
            "population": self.population,
            "_summaries": {},
            "_program": None,
            "_index": None,
            "_importers": None,
        }

    def add(self, path: Path) -> None:
        name = module_name(path, self.roots)
        if name and name not in self.paths:
            self.paths[name] = path
            self._importers = None  # a new module: rebuilt on first use

    def set_text(self, path: Path, text: str) -> None:
        """Use `text` for `path` from now on (an editor's unsaved buffer)."""
        resolved = path.resolve()
        if self.texts.get(resolved) != text:
            self._change(resolved, text)
        self.add(resolved)

    def drop_text(self, path: Path) -> None:
        """Forget a text given with `set_text`: the file on disk counts again."""
        resolved = path.resolve()
        if resolved in self.texts:
            self._change(resolved, None)

    def settle_candidates(
        self, reaches_sdk: Callable[[Path], bool], calls_sdk_method: Callable[[Path], bool] = lambda path: False
    ) -> set[Path]:
        """The files that can hold a finding: where SDK objects enter (SDK importers), the files importing them,
        and the modules those import that call a method by an SDK method's name (helpers handed SDK objects).

        They are also the population searched for callers and subclasses; scan and the editor both
        decide this here, so they cannot disagree on it.
        """
        candidates = self.dependents(path for path in self.texts if reaches_sdk(path))
        candidates |= {path for path in self.imported_by(candidates) - candidates if calls_sdk_method(path)}
        self.set_population(candidates)
        return candidates

    def set_population(self, paths: set[Path]) -> None:
        """Search only `paths` (resolved) for callers and subclasses from now on, as a run over the same files does."""
        if paths != self.population:
            self.population = paths
            self._program = None
            self._index = None  # rebuilt over the new population on first use

    def _change(self, path: Path, text: str | None) -> None:
        """Replace (or, with None, forget) the text of `path`, keeping the word and import indexes current."""
        before = self._words(path) if self._index is not None else frozenset()
        imported_before = self._imports_of(path) if self._importers is not None else frozenset()
        if text is None:
            del self.texts[path]
        else:
            self.texts[path] = text
        self._program = None
        name = module_name(path, self.roots)
        if self._index is not None and name and (not self.population or path in self.population):
            for word in before:
                self._index.get(word, set()).discard(name)
            self._index_words(name, self._words(path))
        if self._importers is not None and name and self.paths.get(name) == path:
            for imported in imported_before:
                self._importers.get(imported, set()).discard(name)
            for imported in self._imports_of(path):
                self._importers.setdefault(imported, set()).add(name)

    def module_of(self, path: Path) -> str:
        resolved = path.resolve()
        name = module_name(resolved, self.roots)
        return name if self.paths.get(name) == resolved else ""

    def text(self, path: Path) -> str | None:
        if path in self.texts:
            return self.texts[path]
        try:
            return read_source(path).text
        except SourceError:
            return None

    def summary_of(self, path: Path, text: str) -> ModuleSummary | None:
        """The summary of `text` as the module at `path` (None when `ast` cannot parse it)."""
        resolved = path.resolve()
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
        known = self._summaries.get(resolved)
        if known is not None and known[0] == digest:
            return known[1]
        name = module_name(resolved, self.roots)
        try:
            tree = ast.parse(text, str(path), type_comments=False)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            summary = None
        else:
            summary = summarize(tree, name, str(resolved), resolved.name == "__init__.py")
        self._summaries[resolved] = (digest, summary)
        return summary

    def forget_answers(self) -> None:
        """Answer the next question with a resolver that has answered none yet, as a new worker process
        does (summaries are kept): benchmarks/order_independence.py checks that findings never depend on
        what was asked before."""
        self._program = None

    def program(self, ruleset: RuleSet) -> Program:
        """The resolver over the project's current texts (summaries outlive it; its answers do not)."""
        if self._program is None or self._program.ruleset is not ruleset:
            self._program = self._new_program(ruleset)
        return self._program

    def _new_program(self, ruleset: RuleSet) -> Program:
        def load(name: str) -> ModuleSummary | None:
            path = self.paths[name]
            text = self.text(path)
            return self.summary_of(path, text) if text is not None else None

        names = {name: str(path) for name, path in self.paths.items()}
        modules = Modules(names, load, self._population_names(), self.modules_spelling, self.modules_defining)
        return Program(ruleset, modules)

    def _population_names(self) -> list[str]:
        paths = self.population or set(self.paths.values())  # resolved already: no file system calls per edit
        named = ((module_name(path, self.roots), path) for path in paths)
        return sorted(name for name, path in named if name and self.paths.get(name) == path)

    def modules_spelling(self, word: str) -> set[str]:
        """The population's modules whose text contains `word` (an index of words, kept up to date per file)."""
        if self._index is None:
            self._index = {}
            for name in self._population_names():
                self._index_words(name, self._words(self.paths[name]))
        return self._index.get(word, set())

    def modules_defining(self, word: str) -> set[str]:
        """The population's modules whose text defines a function or method called `word`.

        A module this names in error only costs its summary: the summary says which classes define it.
        The pattern starts with a literal (no `\\b`), which lets the regex engine skip to each `def`."""
        definition = re.compile(rf"def[ \t]+{re.escape(word)}[ \t]*\(")
        return {name for name in self.modules_spelling(word) if definition.search(self.text(self.paths[name]) or "")}

    def _words(self, path: Path) -> frozenset[str]:
        return frozenset(_WORD.findall(self.text(path) or ""))

    def _index_words(self, name: str, words: Iterable[str]) -> None:
        assert self._index is not None
        for word in words:
            self._index.setdefault(word, set()).add(name)

    def _importer_index(self) -> dict[str, set[str]]:
        """Which modules' import lines may name each module name (kept current per edited file)."""
        if self._importers is None:
            self._importers = {}
            for name, path in self.paths.items():
                for imported in self._imports_of(path):
                    self._importers.setdefault(imported, set()).add(name)
        return self._importers

    def _imports_of(self, path: Path) -> frozenset[str]:
        """The module names the import lines of the module at `path` may name (none if it is not a module)."""
        name = module_name(path, self.roots)
        text = self.text(path) if name and self.paths.get(name) == path else None
        return imported_names(path, name, text) if text is not None and "import" in text else frozenset()

    def imported_by(self, importers: Iterable[Path]) -> set[Path]:
        """The project files the import lines of `importers` name."""
        return {self.paths[name] for path in importers for name in self._imports_of(path) if name in self.paths}

    def dependents(self, roots: Iterable[Path]) -> set[Path]:
        """The files that import (directly or through each other) a module among `roots`, and the roots.

        Decided on import lines alone, so files that cannot reach an SDK object are never parsed.
        """
        module_files = dict(self.paths)
        reached = {module_name(p.resolve(), self.roots) for p in roots}
        importers = self._importer_index()
        found = set(reached)
        frontier = list(reached)
        while frontier:
            reached_name = frontier.pop()  # imported as itself, or without its leading packages (`io_storages.gcs`)
            for importer in {i for suffix in _suffixes(reached_name) for i in importers.get(suffix, ())}:
                if importer not in found:
                    found.add(importer)
                    frontier.append(importer)
        return {module_files[name] for name in found if name in module_files} | {p.resolve() for p in roots}


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FROM_IMPORT = re.compile(r"^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+\(?([\w, \t]+)", re.MULTILINE)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+([\w., \t]+)", re.MULTILINE)


def imported_modules(text: str, package: str) -> set[str]:
    """Every module an import line may name (`from a import b` names `a` and `a.b`), relative ones resolved.

    Each name is also given with leading packages dropped (down to two parts), so a project whose
    top package is a namespace package (`airflow.providers...` with no `airflow/__init__.py`) links up.
    """
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
    return {suffix for name in found for suffix in _suffixes(name)}


def imported_names(path: Path, name: str, text: str) -> frozenset[str]:
    """What `imported_modules` gives for `text` as the module `name` at `path` (a package's own
    `__init__.py` starts relative imports from itself)."""
    return _imported_by(text, name if path.name == "__init__.py" else name.rpartition(".")[0])


@lru_cache(maxsize=4096)
def _imported_by(text: str, package: str) -> frozenset[str]:
    """`imported_modules`, remembered per text: the language server asks again after each edit of one file."""
    return frozenset(imported_modules(text, package))


def _suffixes(dotted: str) -> list[str]:
    parts = dotted.split(".")
    return [dotted, *(".".join(parts[start:]) for start in range(1, len(parts) - 1))]


Kept = TypeVar("Kept")


class ProgramMemo(Generic[Kept]):
    """What was last worked out for a few texts, kept while the project's `Program` is the one it was
    worked out with: a change to any module's text (or to the files searched) makes a new one, and may
    change what names resolve to.

    The engine keeps the last texts' parse and analysis (the editor's quick fix and fix-all, asked for
    the text its diagnostics were just computed on, do not parse and analyse it again: seconds on a
    2,000-line file), and the last modules that create SDK objects used elsewhere.
    """

    SIZE = 4

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple[str, str], tuple[Program, Kept]] = OrderedDict()

    def __reduce__(self) -> tuple[type[ProgramMemo[Kept]], tuple[()]]:
        """Parsed trees are not worth sending to another process: a copy starts empty."""
        return type(self), ()

    def get(self, path: str, source: str, program: Program) -> Kept | None:
        entry = self._entries.get((path, source))
        if entry is None or entry[0] is not program:
            return None
        self._entries.move_to_end((path, source))
        return entry[1]

    def put(self, path: str, source: str, program: Program, kept: Kept) -> None:
        self._entries[(path, source)] = (program, kept)
        self._entries.move_to_end((path, source))
        while len(self._entries) > self.SIZE:
            self._entries.popitem(last=False)
