"""`[tool.cloudshift]` settings from pyproject.toml, validated with file and line in every error.

The nearest pyproject.toml with a `[tool.cloudshift]` table, from the scanned path upward,
is the project's configuration; its directory is the project root that include/exclude
patterns, rule folders and the baseline path are relative to. Without one, the defaults
apply and the root is the scanned directory.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import pathspec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

PYPROJECT = "pyproject.toml"
TABLE = ("tool", "cloudshift")

DEFAULT_INCLUDE = ("*.py",)
# Directories no one wants scanned: VCS data, virtualenvs, build output and caches.
DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".venv",
    "venv",
    "node_modules",
    "build",
    "dist",
    "__pycache__",
    ".tox",
    ".nox",
    ".eggs",
    ".mypy_cache",
    ".pytest_cache",
)
DEFAULT_SHIM_MODULE = "storage_shim"
DEFAULT_BASELINE = ".cloudshift-baseline.json"
DEFAULT_MAX_FILE_SIZE = 1_000_000  # bytes; generated files cost about a minute and a gigabyte per MB to analyse
DEFAULT_FILE_TIMEOUT = 300.0  # seconds per file, against hangs: a dense 1 MB file takes 60-90 s on a loaded machine

_DOTTED_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_TOML_ERROR_POSITION = re.compile(r"\(at line (\d+), column \d+\)")


class ConfigError(Exception):
    """A configuration file that cannot be used; the message names the file and line."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")


def rule_matches(selector: str, rule: str) -> bool:
    """Whether a selector names this rule: the id itself or a prefix of whole id segments.

    Rule ids are hyphenated (`aws-s3-put-object`), so `aws` and `aws-s3` select groups of
    rules while `aws-s` selects nothing. Comparison ignores case.
    """
    selector = selector.strip().lower()
    rule = rule.lower()
    return selector in ("all", rule) or rule.startswith(selector + "-")


def _any_matches(selectors: tuple[str, ...], rule: str) -> bool:
    return any(rule_matches(selector, rule) for selector in selectors)


@dataclass(frozen=True)
class Settings:
    """Everything the gate needs to know about the project, already validated."""

    root: Path
    config_file: Path | None = None
    include: tuple[str, ...] = DEFAULT_INCLUDE
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    select: tuple[str, ...] = ("all",)
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    rules: tuple[Path, ...] = ()  # extra rule folders, absolute
    shim_module: str = DEFAULT_SHIM_MODULE
    baseline: Path | None = None  # absolute; None means the default name in the root
    respect_gitignore: bool = True
    force_exclude: bool = False  # apply excludes to explicitly named files too
    max_file_size: int = DEFAULT_MAX_FILE_SIZE  # bytes; larger files are reported and skipped (0: no limit)
    file_timeout: float = DEFAULT_FILE_TIMEOUT  # seconds per file before it is reported and skipped (0: none)
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def baseline_path(self) -> Path:
        return self.baseline if self.baseline is not None else self.root / DEFAULT_BASELINE

    def rule_selected(self, rule: str) -> bool:
        """Whether select/ignore leave this rule on (per-file ignores aside)."""
        return _any_matches(self.select, rule) and not _any_matches(self.ignore, rule)

    def ignored_in_file(self, rule: str, path: Path) -> bool:
        """Whether a per-file-ignores entry whose glob matches this file turns the rule off."""
        relative = _relative_posix(path, self.root)
        for pattern, selectors in self.per_file_ignores:
            if _any_matches(selectors, rule) and _glob_matches(pattern, relative):
                return True
        return False

    def allows(self, rule: str, path: Path) -> bool:
        """Whether a finding of this rule in this file is reported at all."""
        return self.rule_selected(rule) and not self.ignored_in_file(rule, path)

    def with_overrides(
        self,
        *,
        select: tuple[str, ...] | None = None,
        ignore: tuple[str, ...] = (),
        extra_rules: tuple[Path, ...] = (),
        baseline: Path | None = None,
        respect_gitignore: bool | None = None,
        force_exclude: bool | None = None,
        max_file_size: int | None = None,
        file_timeout: float | None = None,
    ) -> Settings:
        """Apply command-line options: `select` replaces, `ignore` and rule folders add."""
        return replace(
            self,
            select=self.select if select is None else select,
            ignore=self.ignore + ignore,
            rules=self.rules + tuple(path.resolve() for path in extra_rules),
            baseline=self.baseline if baseline is None else baseline.resolve(),
            respect_gitignore=(self.respect_gitignore if respect_gitignore is None else respect_gitignore),
            force_exclude=self.force_exclude if force_exclude is None else force_exclude,
            max_file_size=self.max_file_size if max_file_size is None else max_file_size,
            file_timeout=self.file_timeout if file_timeout is None else file_timeout,
        )


def _relative_posix(path: Path, root: Path) -> str:
    """The path relative to the root in POSIX form, or its absolute form when outside it."""
    absolute = path.resolve()
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        return absolute.as_posix()


@cache
def _glob(pattern: str) -> pathspec.GitIgnoreSpec:
    """Compiled once: the engine asks for every finding."""
    return pathspec.GitIgnoreSpec.from_lines([pattern])


def _glob_matches(pattern: str, relative: str) -> bool:
    return _glob(pattern).match_file(relative)


def find_config(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above `start` that has a `[tool.cloudshift]` table."""
    start = start.resolve()
    directory = start if start.is_dir() else start.parent
    for candidate_dir in (directory, *directory.parents):
        candidate = candidate_dir / PYPROJECT
        if candidate.is_file() and _cloudshift_table(candidate) is not None:
            return candidate
    return None


def load_settings(start: Path) -> Settings:
    """Settings for scanning `start` (a file or directory), from the nearest configuration."""
    config_file = find_config(start)
    if config_file is None:
        resolved = start.resolve()
        return Settings(root=resolved if resolved.is_dir() else resolved.parent)
    table = _cloudshift_table(config_file)
    assert table is not None  # find_config only returns files that have the table
    return _settings_from_table(config_file, table)


def _cloudshift_table(path: Path) -> dict[str, object] | None:
    text = _read_text(path)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, _toml_error_line(error), f"invalid TOML: {error}") from None
    table: object = document
    for key in TABLE:
        if not isinstance(table, dict) or key not in table:
            return None
        table = table[key]
    if not isinstance(table, dict):
        raise ConfigError(path, _key_line(text, ()), "[tool.cloudshift] must be a table")
    return table


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(path, 0, f"cannot read: {error}") from None


def _toml_error_line(error: tomllib.TOMLDecodeError) -> int:
    lineno = getattr(error, "lineno", None)  # Python 3.14 adds it; older ones say it in text
    if isinstance(lineno, int):
        return lineno
    match = _TOML_ERROR_POSITION.search(str(error))
    return int(match.group(1)) if match else 0


# --- the TOML text, scanned for the line of a key (tomllib keeps no positions) ---------------

_TABLE_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_KEY_LINE = re.compile(
    r"""^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+))*)\s*="""
)
_KEY_PART = re.compile(r""""([^"]*)"|'([^']*)'|([A-Za-z0-9_\-]+)""")


def _split_dotted(text: str) -> tuple[str, ...]:
    return tuple(next(group for group in part if group) for part in _KEY_PART.findall(text))


def _key_line(text: str, key_path: tuple[str, ...]) -> int:
    """Best effort: the line where `[tool.cloudshift]` key_path is written.

    Falls back to the line of the closest enclosing key or table, 0 when none is found.
    """
    target = TABLE + key_path
    best_line, best_length = 0, 0
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _TABLE_HEADER.match(line)
        key = None if header else _KEY_LINE.match(line)
        if header:
            table = _split_dotted(header.group(1))
            written = table
        elif key:
            written = table + _split_dotted(key.group(1))
        else:
            continue
        if written == target:
            return number
        if target[: len(written)] == written and len(written) > best_length:
            best_line, best_length = number, len(written)
    return best_line


# --- validation --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    """The raw `[tool.cloudshift]` table and where it came from, for precise errors."""

    path: Path
    text: str

    def error(self, key_path: tuple[str, ...], message: str) -> ConfigError:
        return ConfigError(self.path, _key_line(self.text, key_path), message)

    def relative_path(self, value: str) -> Path:
        return (self.path.parent / value).resolve()


def _string_list(table: _Table, key_path: tuple[str, ...], value: object) -> tuple[str, ...]:
    name = ".".join(key_path)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise table.error(key_path, f"'{name}' must be a list of strings, got {value!r}")
    return tuple(value)


def _patterns(table: _Table, key: str, value: object) -> tuple[str, ...]:
    patterns = _string_list(table, (key,), value)
    try:
        pathspec.GitIgnoreSpec.from_lines(patterns)
    except (ValueError, TypeError) as error:
        raise table.error((key,), f"'{key}' holds an invalid pattern: {error}") from None
    return patterns


def _boolean(table: _Table, key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise table.error((key,), f"'{key}' must be true or false, got {value!r}")
    return value


def _string(table: _Table, key: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise table.error((key,), f"'{key}' must be a non-empty string, got {value!r}")
    return value


def _shim_module(table: _Table, key: str, value: object) -> str:
    name = _string(table, key, value)
    if not _DOTTED_NAME.match(name):
        raise table.error((key,), f"'{key}' must be a dotted module name, got {name!r}")
    return name


def _rule_folders(table: _Table, key: str, value: object) -> tuple[Path, ...]:
    folders = []
    for entry in _string_list(table, (key,), value):
        folder = table.relative_path(entry)
        if not folder.is_dir():
            raise table.error((key,), f"'{key}': rule folder {entry!r} does not exist ({folder})")
        folders.append(folder)
    return tuple(folders)


def _per_file_ignores(table: _Table, key: str, value: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise table.error((key,), f"'{key}' must be a table of glob = [rule ids], got {value!r}")
    entries = []
    for glob, selectors in value.items():
        entries.append((glob, _string_list(table, (key, glob), selectors)))
    return tuple(entries)


def _baseline(table: _Table, key: str, value: object) -> Path:
    return table.relative_path(_string(table, key, value))


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000}


def parse_size(text: str) -> int:
    """`1MB`, `500kb`, `2000000` -> bytes (decimal units, as `ls -h --si` and editors show sizes)."""
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"not a size: {text!r} (write bytes, or a number with KB, MB or GB)")
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


def _size(table: _Table, key: str, value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        try:
            return parse_size(value)
        except ValueError:
            pass
    raise table.error((key,), f"'{key}' must be a size such as 1000000 or \"1MB\" (0: no limit), got {value!r}")


def _seconds(table: _Table, key: str, value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    raise table.error((key,), f"'{key}' must be a number of seconds (0: no limit), got {value!r}")


# key in pyproject -> (Settings field, validator turning the raw value into the field's value)
_KEYS: dict[str, tuple[str, Callable[[_Table, str, object], object]]] = {
    "include": ("include", _patterns),
    "exclude": ("exclude", _patterns),
    "extend-exclude": ("extend_exclude", _patterns),
    "select": ("select", lambda table, key, value: _string_list(table, (key,), value)),
    "ignore": ("ignore", lambda table, key, value: _string_list(table, (key,), value)),
    "per-file-ignores": ("per_file_ignores", _per_file_ignores),
    "rules": ("rules", _rule_folders),
    "shim-module": ("shim_module", _shim_module),
    "baseline": ("baseline", _baseline),
    "respect-gitignore": ("respect_gitignore", _boolean),
    "force-exclude": ("force_exclude", _boolean),
    "max-file-size": ("max_file_size", _size),
    "file-timeout": ("file_timeout", _seconds),
}


def _settings_from_table(path: Path, values: Mapping[str, object]) -> Settings:
    table = _Table(path=path, text=_read_text(path))
    fields: dict[str, Any] = {}
    warnings = []
    for key, value in values.items():
        known = _KEYS.get(key)
        if known is None:
            line = _key_line(table.text, (key,))
            warnings.append(f"{path}:{line}: unknown key '{key}' in [tool.cloudshift] (ignored)")
            continue
        field_name, validate = known
        fields[field_name] = validate(table, key, value)
    return Settings(root=path.parent.resolve(), config_file=path, warnings=tuple(warnings), **fields)
