"""Run the engine over many files: read, prefilter in this process, analyse candidates on every core.

The prefilter is a regex, so it runs here; only files that can hold SDK calls are sent to
worker processes, one file at a time, so that a file that crashes or hangs the parser costs
only its own result (engine/isolate.py). Files over the size limit are reported, never read.
Writing fixed files happens back here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cloudshift.engine.cache import ResultCache, population_key
from cloudshift.engine.isolate import analyse_isolated
from cloudshift.engine.pipeline import Engine
from cloudshift.engine.project import Project
from cloudshift.engine.source import SourceError, SourceFile, read_source
from cloudshift.model import FileError, FileResult, Safety


@dataclass(frozen=True)
class Checked:
    """One file's result, with what is needed to write a fix back exactly."""

    path: Path
    result: FileResult
    source: SourceFile | None


def display_path(path: Path) -> str:
    """The path as a user would type it: relative to the working directory when below it.

    A symlink keeps its own name, so its findings and errors are reported where the user sees them.
    """
    cwd = Path.cwd()
    absolute = Path(os.path.abspath(path))
    if absolute.is_relative_to(cwd):
        return str(absolute.relative_to(cwd))
    try:  # reached through a symlinked folder, yet below the working directory
        return str(path.resolve().relative_to(cwd.resolve()))
    except (ValueError, OSError, RuntimeError):  # outside it, or a symlink loop
        return str(path)


def check_files(
    engine: Engine,
    paths: Iterable[Path],
    *,
    fix: Safety | None = None,
    jobs: int | None = None,
    cache: ResultCache | None = None,
    roots: Iterable[Path] = (),
    progress: Callable[[FileResult], None] | None = None,
) -> Iterator[Checked]:
    """Every file's result, in the order given; scan results come from and go to `cache` when given.

    `progress` is called with each file's result as soon as it is known (for a progress bar).
    """
    pending: list[tuple[Path, str, SourceFile]] = []
    done: dict[Path, Checked] = {}
    sources: dict[Path, SourceFile] = {}
    order = list(paths)

    def finish(checked: Checked) -> None:
        done[checked.path] = checked
        if progress is not None:
            progress(checked.result)

    for path in order:
        try:
            sources[path] = read_source(path, engine.settings.max_file_size)
        except SourceError as error:
            shown = display_path(path)
            finish(Checked(path, FileResult(shown, errors=(FileError(shown, str(error)),)), None))
    project = Project({p: s.text for p, s in sources.items()}, roots=roots)
    candidates = project.settle_candidates(
        lambda path: engine.prefilter.reaches_sdk(project.texts[path]),
        lambda path: engine.prefilter.calls_sdk_method(project.texts[path]),
    )
    population = population_key({p: project.texts[p] for p in candidates if p in project.texts}) if cache else ""
    engine = engine.with_project(project)
    for path, source in sources.items():
        shown = display_path(path)
        if path.resolve() not in candidates:
            finish(Checked(path, FileResult(shown, source=source.text), source))
            continue
        cached = cache.get(shown, source.text, population) if cache is not None and fix is None else None
        if cached is not None:
            finish(Checked(path, cached, source))
        else:
            pending.append((path, shown, source))
    tasks = [(shown, source.text, fix) for _, shown, source in pending]
    workers = jobs or os.cpu_count() or 1
    for index, result, analysed in analyse_isolated(engine, tasks, workers, engine.settings.file_timeout):
        path, _, source = pending[index]
        finish(Checked(path, result, source))
        if cache is not None and fix is None and analysed:
            cache.put(result, source.text, population)
    for path in order:
        yield done[path]
