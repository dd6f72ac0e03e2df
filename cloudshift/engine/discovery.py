"""Which files to scan: Python files under the given paths, minus what the project excludes.

Rules, in the order they apply (documented in docs/ci.md):
- A path that does not exist is an error (DiscoveryError), never silently skipped.
- A file named explicitly is always scanned, whatever its name, unless `force_exclude` is on
  (the pre-commit hook turns it on): then the exclusions below apply to it as well.
- Inside a directory: directories and files matching `exclude`/`extend-exclude` (gitignore
  patterns relative to the project root) are skipped, so are `.git` and every copy of the shim
  (a package whose path ends with the `shim-module` name, e.g. any `storage_shim/` package:
  the shim's backends are the one place SDK calls belong), and, unless `respect_gitignore` is
  off, whatever a `.gitignore` ignores. Of the remaining files, those matching `include` count.
- `.gitignore` files are read from the directories walked and their parents up to the top of
  the git work tree; outside a git work tree they are honoured too, up to the project root, so
  an exported source tree behaves like its checkout. Global git excludes and
  `.git/info/exclude` are not read: they differ between machines, and CI must see what a
  developer sees.
- Symlinked directories are not followed (no loops, no scanning outside the tree).
- What cannot be looked at inside a directory (a folder that cannot be listed, a symlink
  loop) is an error for that path only (`Discovery.errors`); every other file is still
  scanned. A path given on the command line that cannot be used is a DiscoveryError.
- The result is sorted, without duplicates, and keeps the form of the paths given
  (`src` yields `src/pkg/mod.py`), because findings report paths as given.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from cloudshift.config import Settings
from cloudshift.model import FileError


class DiscoveryError(Exception):
    """A path given to scan cannot be used."""


@dataclass(frozen=True)
class Discovery:
    """The files to scan, and the paths under the given ones that could not be looked at."""

    files: list[Path]
    errors: list[FileError]


def discover_files(paths: list[Path], settings: Settings) -> Discovery:
    """The Python files to scan under `paths`, sorted; raises DiscoveryError for a bad path given."""
    rules = _Exclusions(settings)
    found: dict[Path, Path] = {}
    for given in paths:
        for absolute, shown in _files_under(given, rules, settings.force_exclude):
            found.setdefault(absolute, shown)
    return Discovery(sorted(found.values(), key=lambda path: path.as_posix()), rules.errors)


def discover(paths: list[Path], settings: Settings) -> Iterator[Path]:
    """The Python files to scan under `paths`, sorted; raises DiscoveryError for any path that cannot be used."""
    found = discover_files(paths, settings)
    if found.errors:
        raise DiscoveryError(f"{found.errors[0].path}: {found.errors[0].message}")
    return iter(found.files)


def is_excluded(path: Path, settings: Settings) -> bool:
    """Whether the project's exclusions cover `path` (for text given on stdin under that name)."""
    return _Exclusions(settings).excludes_explicit(path.resolve())


def _files_under(given: Path, rules: _Exclusions, force_exclude: bool) -> Iterator[tuple[Path, Path]]:
    """(absolute, as-shown) pairs for one given path."""
    if not os.path.lexists(given):
        raise DiscoveryError(f"{given}: no such file or directory")
    try:
        absolute = given.resolve(strict=True)
    except (OSError, RuntimeError) as error:  # RuntimeError: a symlink loop, before Python 3.13
        raise DiscoveryError(f"{given}: {_reason(error)}") from error
    if absolute.is_file():
        if not (force_exclude and rules.excludes_explicit(absolute)):
            yield absolute, given
        return
    if not absolute.is_dir():
        raise DiscoveryError(f"{given}: not a file or directory")
    if force_exclude and rules.excludes_explicit(absolute):
        return
    yield from rules.walk(absolute, given)


def _reason(error: OSError | RuntimeError) -> str:
    if isinstance(error, RuntimeError) or error.errno == errno.ELOOP:
        return "symlink loop"
    return error.strerror or str(error)


class _Exclusions:
    """The exclusion rules of one run, with each directory's .gitignore read once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.exclude = pathspec.GitIgnoreSpec.from_lines(settings.exclude + settings.extend_exclude)
        self.include = pathspec.GitIgnoreSpec.from_lines(settings.include)
        self.shim_parts = tuple(settings.shim_module.split("."))
        self._gitignores: dict[Path, pathspec.GitIgnoreSpec | None] = {}
        self._tops: dict[Path, Path] = {}
        self.errors: list[FileError] = []  # paths below the given ones that could not be looked at

    def walk(self, directory: Path, shown: Path) -> Iterator[tuple[Path, Path]]:
        """(absolute, as-shown) included files below a directory, in name order, pruning excluded directories."""
        try:
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as error:
            self.errors.append(FileError(str(shown), f"folder not scanned: {_reason(error)}"))
            return
        for entry in entries:
            path = directory / entry.name
            try:
                is_dir, is_file = entry.is_dir(follow_symlinks=False), entry.is_file()
            except OSError as error:
                if self._included(path) and not self.excludes(path, False):
                    self.errors.append(FileError(str(shown / entry.name), f"not scanned: {_reason(error)}"))
                continue
            if is_dir:
                if not self.excludes(path, is_dir=True):
                    yield from self.walk(path, shown / entry.name)
            elif is_file and self._included(path) and not self.excludes(path, False):
                yield path, shown / entry.name

    def excludes(self, path: Path, is_dir: bool) -> bool:
        """Whether exclude patterns, the shim rule or a .gitignore exclude this path."""
        return (
            (is_dir and path.name == ".git")
            or self._pattern_excludes(path, is_dir)
            or self._is_shim(path, is_dir)
            or (self.settings.respect_gitignore and self._gitignored(path, is_dir))
        )

    def excludes_explicit(self, path: Path) -> bool:
        """For force_exclude: the path or a directory above it (inside the root) is excluded."""
        if self.excludes(path, path.is_dir()):
            return True
        top = self._top(path)
        return any(
            self.excludes(parent, is_dir=True) for parent in path.parents if parent != top and top in parent.parents
        )

    def _relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.settings.root).as_posix()
        except ValueError:
            return path.name

    def _included(self, path: Path) -> bool:
        return self.include.match_file(self._relative(path))

    def _pattern_excludes(self, path: Path, is_dir: bool) -> bool:
        relative = self._relative(path)
        return self.exclude.match_file(relative + "/" if is_dir else relative)

    def _is_shim(self, path: Path, is_dir: bool) -> bool:
        """A package (or module) whose trailing path components spell the shim module."""
        *packages, last = self.shim_parts
        named = path.name == last and (path / "__init__.py").is_file() if is_dir else path.name == f"{last}.py"
        above = path.parent.parts
        return named and above[len(above) - len(packages) :] == tuple(packages)

    def _top(self, path: Path) -> Path:
        """Where .gitignore files stop applying: the git work tree's top, else the root."""
        directory = path.parent
        if directory not in self._tops:
            self._tops[directory] = _work_tree_top(directory) or self._root_above(directory)
        return self._tops[directory]

    def _root_above(self, directory: Path) -> Path:
        root = self.settings.root
        return root if root == directory or root in directory.parents else directory

    def _gitignored(self, path: Path, is_dir: bool) -> bool:
        """Git's rule: the deepest .gitignore with a matching pattern decides."""
        top = self._top(path)
        for directory in path.parents:
            spec = self._gitignore(directory)
            if spec is not None:
                relative = path.relative_to(directory).as_posix()
                verdict = spec.check_file(relative + "/" if is_dir else relative).include
                if verdict is not None:
                    return verdict
            if directory == top:
                break
        return False

    def _gitignore(self, directory: Path) -> pathspec.GitIgnoreSpec | None:
        if directory not in self._gitignores:
            file = directory / ".gitignore"
            spec = None
            if file.is_file():
                lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
                spec = pathspec.GitIgnoreSpec.from_lines(lines)
            self._gitignores[directory] = spec
        return self._gitignores[directory]


def _work_tree_top(directory: Path) -> Path | None:
    """The nearest directory at or above this one that holds `.git`, if any."""
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return None
