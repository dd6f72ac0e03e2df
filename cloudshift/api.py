"""The one entry point: `scan`, `fix`, `baseline`, `report`, the language server and the tests call these.

A `Workspace` is an engine (rules and settings) over a project (the modules names are resolved
in). Every front end asks it the same question, one file at a time (`check`) or for many files
at once (`check_paths`), so they cannot disagree about what is found or what a fix does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from cloudshift.config import Settings
from cloudshift.engine.cache import ResultCache
from cloudshift.engine.discovery import discover
from cloudshift.engine.pipeline import Engine
from cloudshift.engine.project import Project, imported_names, module_name
from cloudshift.engine.runner import Checked, check_files
from cloudshift.engine.source import SourceError, read_source
from cloudshift.model import FileResult, Finding, Safety

ImportKey = tuple[bool, frozenset[str]]  # (imports an SDK module, the modules its import lines may name)

__all__ = ["Checked", "Engine", "FileResult", "Finding", "Project", "Safety", "Settings", "Workspace", "check_paths"]


class Workspace:
    """An engine and the project it resolves names in, kept warm between questions (the editor's case).

    It answers as `check_paths` over the same files would: the same modules, the same candidate
    files (those that import an SDK module, and the files importing them) searched for callers
    and subclasses, and nothing reported in a file no SDK object can reach.
    """

    def __init__(
        self,
        settings: Settings,
        files: Iterable[Path] = (),
        roots: Iterable[Path] = (),
        *,
        texts: Mapping[Path, str] | None = None,
        engine: Engine | None = None,
    ) -> None:
        self.project = Project(dict(texts or {}), paths=files, roots=roots)
        self.engine = (engine or Engine.create(settings)).with_project(self.project)
        self._imports: dict[Path, tuple[str, ImportKey]] = {}  # path -> (text, what its import lines say)
        self._candidates: set[Path] | None = None  # None: to be worked out again

    @classmethod
    def load(cls, engine: Engine, root: Path) -> Workspace:
        """Every Python file `cloudshift scan ROOT` would analyse, read now and kept in memory."""
        texts = {}
        for path in discover([root], engine.settings):
            try:
                texts[path] = read_source(path, engine.settings.max_file_size).text
            except SourceError:
                continue  # unreadable or over max-file-size: a scan reports it and analyses it no further
        return cls(engine.settings, roots=[root], texts=texts, engine=engine)

    @property
    def settings(self) -> Settings:
        return self.engine.settings

    def holds(self, path: Path) -> bool:
        """Whether `path` is one of the project's files (a scan of the workspace would analyse it)."""
        return path.resolve() in self.project.texts

    def update(self, path: Path, text: str) -> bool:
        """Use `text` for `path` (an unsaved buffer, or a file changed on disk) from now on; False if it was already."""
        resolved = path.resolve()
        before = self.project.texts.get(resolved)
        if before == text:
            return False
        if self._candidates is not None and (
            before is None
            or self._import_key(resolved, text) != self._known_import_key(resolved)
            or self.engine.prefilter.calls_sdk_method(text) != self.engine.prefilter.calls_sdk_method(before)
        ):
            self._candidates = None  # a new file, new import lines or SDK method calls: candidates may change
        self.project.set_text(resolved, text)
        return True

    def forget(self, path: Path) -> bool:
        """Go back to what is on disk for `path` (its buffer was closed, or the file changed); False if it was."""
        try:
            return self.update(path, read_source(path, self.settings.max_file_size).text)
        except SourceError:
            if not self.holds(path):
                return False
            self._candidates = None
            self.project.drop_text(path)
            return True

    def candidates(self) -> set[Path]:
        """The files that can hold a finding, as a run decides: SDK importers and the files importing them."""
        if self._candidates is None:
            self._candidates = self.project.settle_candidates(
                lambda path: self._known_import_key(path)[0],
                lambda path: self.engine.prefilter.calls_sdk_method(self.project.text(path) or ""),
            )
        return self._candidates

    def imports(self, path: Path) -> set[Path]:
        """The project files `path` imports (directly), from its import lines."""
        names = self._known_import_key(path.resolve())[1]
        return {self.project.paths[name] for name in names if name in self.project.paths}

    def check(
        self,
        path: Path,
        text: str,
        *,
        shown: str | None = None,
        fix: Safety | None = None,
        only: Callable[[Finding], bool] | None = None,
        engine: Engine | None = None,
    ) -> FileResult:
        """Findings for one file's text, resolved across the workspace; with `fix`, the fixed text too.

        `engine` checks with other rules and settings (a nested configuration's) over the same project.
        """
        self.update(path, text)
        candidates = self.candidates()
        shown = shown or str(path)
        if path.resolve() not in candidates:
            return FileResult(shown, source=text, fixed_source=text if fix else None)
        checking = self.engine if engine is None else engine.with_project(self.project)
        return checking.check_source(shown, text, fix=fix, only=only)

    def _known_import_key(self, path: Path) -> ImportKey:
        text = self.project.text(path) or ""
        known = self._imports.get(path)
        if known is None or known[0] != text:
            known = self._imports[path] = (text, self._import_key(path, text))
        return known[1]

    def _import_key(self, path: Path, text: str) -> ImportKey:
        """What decides whether a file is a candidate and which it makes candidates: its import lines."""
        name = module_name(path, self.project.roots)
        return self.engine.prefilter.reaches_sdk(text), imported_names(path, name, text)


def check_paths(
    engine: Engine,
    files: Iterable[Path],
    *,
    fix: Safety | None = None,
    jobs: int | None = None,
    cache: ResultCache | None = None,
    roots: Iterable[Path] = (),
    progress: Callable[[FileResult], None] | None = None,
) -> Iterator[Checked]:
    """Every file's result, analysed as one project (in parallel when there are many)."""
    return check_files(engine, files, fix=fix, jobs=jobs, cache=cache, roots=roots, progress=progress)
