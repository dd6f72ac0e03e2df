"""A per-file result cache, so that scanning an unchanged tree again is nearly free.

Keyed on the file's path and text and on everything that shapes a result: cloudshift's
version and code, every rule file's text and the settings that filter findings. A file's
result can depend on any candidate file (callers, subclasses and stores are searched across
them), so it is reused only while the candidates are the same files with the same texts: one
digest of them all (`population_key`), computed once per run. Stored as JSON (never
pickle: a cache folder committed to a scanned repository must not be able to run code) in
`.cloudshift_cache/` at the project root, which carries its own `.gitignore`. A cache that
cannot be read or written is ignored, never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import Any

from cloudshift.config import Settings
from cloudshift.model import Confidence, FileError, FileResult, Finding, Resolution, Safety, Span

FOLDER = ".cloudshift_cache"
FORMAT = 3


class ResultCache:
    def __init__(self, settings: Settings, rule_files: list[str]) -> None:
        self.folder = settings.root / FOLDER / _engine_key(settings, rule_files)

    def get(self, shown: str, text: str, population: str) -> FileResult | None:
        """The cached result, if the file and the run's candidate files (`population_key`) are unchanged."""
        try:
            document = json.loads(self._path(shown, text).read_text(encoding="utf-8"))
            if document["population"] != population:
                return None
            return FileResult(
                shown,
                tuple(_finding(shown, item) for item in document["findings"]),
                tuple(replace(FileError(**item), path=shown) for item in document["errors"]),
                source=text,
                suppressed=tuple(_finding(shown, item) for item in document["suppressed"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, result: FileResult, text: str, population: str) -> None:
        document = {
            "population": population,
            "findings": [f.to_json() for f in result.findings],
            "errors": [
                {"path": e.path, "message": e.message, "line": e.line, "column": e.column, "syntax": e.syntax}
                for e in result.errors
            ],
            "suppressed": [f.to_json() for f in result.suppressed],
        }
        path = self._path(result.path, text)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _ignore_folder(self.folder.parent)
            descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(document, handle)
            os.replace(temporary, path)
        except OSError:
            return

    def _path(self, shown: str, text: str) -> Path:
        digest = _digest(f"{shown}\0{text}")
        return self.folder / digest[:2] / f"{digest}.json"


def population_key(texts: Mapping[Path, str]) -> str:
    """One digest of the candidate files' paths and texts: a result holds while it is unchanged."""
    digest = hashlib.sha256()
    for path in sorted(texts):
        digest.update(f"{path}\0{_digest(texts[path])}\0".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _engine_key(settings: Settings, rule_files: list[str]) -> str:
    digest = hashlib.sha256()
    try:
        version = metadata.version("cloudshift")
    except metadata.PackageNotFoundError:
        version = "unknown"
    digest.update(f"{FORMAT}\0{version}\0".encode())
    for source in sorted(Path(__file__).parents[1].rglob("*.py")):  # an edited checkout must not reuse old results
        digest.update(source.read_bytes())
    for name in sorted(rule_files):
        digest.update(Path(name).read_bytes())
    filters = (settings.select, settings.ignore, settings.per_file_ignores, settings.shim_module, str(settings.root))
    digest.update(repr(filters).encode())
    return digest.hexdigest()[:20]


def _ignore_folder(folder: Path) -> None:
    marker = folder / ".gitignore"
    if not marker.exists():
        marker.write_text("# created by cloudshift: its result cache is never committed\n*\n", encoding="utf-8")


def _finding(shown: str, item: dict[str, Any]) -> Finding:
    span = Span(int(item["line"]), int(item["column"]), int(item["end_line"]), int(item["end_column"]))
    return Finding(
        shown,
        span,
        str(item["rule"]),
        str(item["provider"]),
        str(item["message"]),
        Safety(item["fix"]),
        str(item["reason"]),
        str(item["snippet"]),
        Resolution(item["resolution"]),
        Confidence(item["confidence"]),
    )
