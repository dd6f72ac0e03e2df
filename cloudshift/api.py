"""The one entry point: `scan`, `fix`, `baseline`, `report`, the language server and the tests call these.

A `Workspace` is an engine (rules and settings) over a project (the modules names are resolved
in). Every front end asks it the same question, one file at a time (`check`) or for many files
at once (`check_paths`), so they cannot disagree about what is found or what a fix does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from cloudshift.config import Settings
from cloudshift.engine.cache import ResultCache
from cloudshift.engine.pipeline import Engine
from cloudshift.engine.project import Project
from cloudshift.engine.runner import Checked, check_files
from cloudshift.model import FileResult, Finding, Safety

__all__ = ["Checked", "Engine", "FileResult", "Finding", "Project", "Safety", "Settings", "Workspace", "check_paths"]


class Workspace:
    """An engine and the project it resolves names in, kept warm between questions (the editor's case)."""

    def __init__(self, settings: Settings, files: Iterable[Path] = (), roots: Iterable[Path] = ()) -> None:
        self.project = Project(paths=files, roots=roots)
        self.engine = Engine.create(settings).with_project(self.project)

    @property
    def settings(self) -> Settings:
        return self.engine.settings

    def update(self, path: Path, text: str) -> None:
        """Use `text` for `path` (an unsaved buffer, or a file changed on disk) from now on."""
        self.project.set_text(path, text)

    def forget(self, path: Path) -> None:
        """Go back to what is on disk for `path` (its buffer was closed)."""
        self.project.drop_text(path)

    def check(
        self,
        path: Path,
        text: str,
        *,
        shown: str | None = None,
        fix: Safety | None = None,
        only: Callable[[Finding], bool] | None = None,
    ) -> FileResult:
        """Findings for one file's text, resolved across the workspace; with `fix`, the fixed text too."""
        self.update(path, text)
        return self.engine.check_source(shown or str(path), text, fix=fix, only=only)


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
