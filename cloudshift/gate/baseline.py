"""The baseline: findings a project already has, so the gate fails only on new ones.

A finding's fingerprint is a hash of its rule, its file (relative to the baseline's folder),
the call's text in canonical form and its occurrence index among findings with the same rule,
file and text. No line numbers: moving code up or down, or editing around it, keeps the
fingerprint; a second identical call in the same file gets a new one. The canonical form drops
layout (line breaks, spaces, comments, trailing commas, quote style), so running a formatter
over the code does not make old calls look new.

The file is JSON, versioned, sorted and indented, so a change to it reads well in a diff. Each
entry also records the rule, path, line and snippet for the people reading it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tokenize
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cloudshift.model import Finding

VERSION = 1
FINGERPRINT_LENGTH = 32  # hex digits of sha256 kept: 128 bits


class BaselineError(Exception):
    """A baseline file that cannot be used; the message names the file."""


@dataclass(frozen=True)
class BaselineEntry:
    fingerprint: str
    rule: str
    path: str  # POSIX, relative to the baseline file's folder
    line: int  # informational only
    snippet: str

    def to_json(self) -> dict[str, object]:
        return {
            "fingerprint": self.fingerprint,
            "rule": self.rule,
            "path": self.path,
            "line": self.line,
            "snippet": self.snippet,
        }


@dataclass(frozen=True)
class Baseline:
    file: Path
    entries: tuple[BaselineEntry, ...]

    @property
    def root(self) -> Path:
        """The folder that entry paths are relative to."""
        return self.file.resolve().parent

    @property
    def fingerprints(self) -> frozenset[str]:
        return frozenset(entry.fingerprint for entry in self.entries)


@dataclass(frozen=True)
class Comparison:
    new: list[Finding]
    existing: list[Finding]
    fixed: list[BaselineEntry]  # in the baseline, in scope, and no longer found


def relative_path(path: str | Path, root: Path) -> str:
    """A finding's path (relative to the working directory) relative to `root`, POSIX."""
    return Path(os.path.relpath(Path(path).resolve(), root)).as_posix()


_LAYOUT = {
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.COMMENT,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
}


# Python 3.12+ splits an f-string into parts; older versions give one STRING token.
_FSTRING_START = getattr(tokenize, "FSTRING_START", None)
_FSTRING_END = getattr(tokenize, "FSTRING_END", None)


def canonical_call_text(snippet: str) -> str:
    """The call's tokens, space separated, without what formatters change.

    The same on every Python version, so a baseline written on one passes on another. Text
    that does not tokenize (a fragment from a broken file) is used as it is.
    """
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(snippet).readline))
    except (tokenize.TokenError, SyntaxError):
        return snippet
    words: list[str] = []
    for kind, text in _whole_tokens(snippet, tokens):
        if kind in _LAYOUT:
            continue
        if text in (")", "]", "}") and words and words[-1] == ",":
            words.pop()  # a trailing comma is layout too
        words.append(_double_quoted(text) if kind == tokenize.STRING else text)
    return " ".join(words)


def _whole_tokens(snippet: str, tokens: list[tokenize.TokenInfo]) -> Iterator[tuple[int, str]]:
    """(type, text) of each token, an f-string with its parts as one STRING token."""
    line_starts = [0]
    for line in snippet.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))
    depth, start = 0, 0
    for token in tokens:
        if token.type == _FSTRING_START:
            if depth == 0:
                start = line_starts[token.start[0] - 1] + token.start[1]
            depth += 1
        elif token.type == _FSTRING_END:
            depth -= 1
            if depth == 0:
                end = line_starts[token.end[0] - 1] + token.end[1]
                yield tokenize.STRING, snippet[start:end]
        elif depth == 0:
            yield token.type, token.string


_STRING_PREFIX = re.compile(r"[rRbBuUfF]*")


def _double_quoted(literal: str) -> str:
    """'text' as "text" when that is the same literal, as formatters rewrite it."""
    prefix = _STRING_PREFIX.match(literal).group()  # type: ignore[union-attr]
    body = literal[len(prefix) :]
    if not body.startswith("'") or body.startswith("'''") or '"' in body or "\\" in body:
        return literal
    return f'{prefix}"{body[1:-1]}"'


def fingerprint(rule: str, path: str, call_text: str, occurrence: int) -> str:
    payload = "\0".join((rule, path, call_text, str(occurrence))).encode("utf-8")
    return hashlib.sha256(payload).hexdigest()[:FINGERPRINT_LENGTH]


def entries_for(findings: Iterable[Finding], root: Path) -> list[tuple[Finding, BaselineEntry]]:
    """Each finding with its baseline entry; occurrences are counted in source order."""
    occurrences: dict[tuple[str, str, str], int] = {}
    paths: dict[str, str] = {}
    paired = []
    for finding in sorted(findings, key=lambda f: (f.path, f.span, f.rule)):
        if finding.path not in paths:
            paths[finding.path] = relative_path(finding.path, root)
        path = paths[finding.path]
        key = (finding.rule, path, canonical_call_text(finding.snippet))
        index = occurrences.get(key, 0)
        occurrences[key] = index + 1
        entry = BaselineEntry(
            fingerprint(*key, index),
            finding.rule,
            path,
            finding.line,
            finding.snippet,
        )
        paired.append((finding, entry))
    return paired


def fingerprints_for(findings: Sequence[Finding], root: Path) -> dict[Finding, str]:
    """The fingerprint of each finding, e.g. for SARIF partialFingerprints."""
    return {finding: entry.fingerprint for finding, entry in entries_for(findings, root)}


def write_baseline(path: Path, findings: Iterable[Finding]) -> Baseline:
    """Record these findings as the baseline at `path` (paths relative to its folder)."""
    root = path.resolve().parent
    return _write(path, [entry for _, entry in entries_for(findings, root)])


def _write(path: Path, entries: Iterable[BaselineEntry]) -> Baseline:
    ordered = sorted(entries, key=lambda e: (e.path, e.line, e.rule, e.fingerprint))
    document = {
        "version": VERSION,
        "tool": "cloudshift",
        "findings": [entry.to_json() for entry in ordered],
    }
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return Baseline(path, tuple(ordered))


def load_baseline(path: Path) -> Baseline:
    """Read a baseline file; BaselineError says which file and what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(
            f"{path}: baseline file not found (create it with `cloudshift baseline -o {path}`)"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise BaselineError(f"{path}: cannot read baseline: {error}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise BaselineError(f"{path}:{error.lineno}: not valid JSON: {error.msg}") from None
    return Baseline(path, _entries_from(path, document))


def _entries_from(path: Path, document: object) -> tuple[BaselineEntry, ...]:
    if not isinstance(document, dict) or "version" not in document:
        raise BaselineError(f"{path}: not a cloudshift baseline (no 'version' key)")
    if document["version"] != VERSION:
        raise BaselineError(
            f"{path}: baseline version {document['version']!r} is not supported "
            f"(this cloudshift reads version {VERSION}); regenerate it with "
            f"`cloudshift baseline -o {path}`"
        )
    findings = document.get("findings")
    if not isinstance(findings, list):
        raise BaselineError(f"{path}: 'findings' must be a list")
    return tuple(_entry_from(path, index, item) for index, item in enumerate(findings))


_ENTRY_FIELDS = {"fingerprint": str, "rule": str, "path": str, "line": int, "snippet": str}
_TYPE_NAMES = {str: "a string", int: "an integer"}


def _entry_from(path: Path, index: int, item: object) -> BaselineEntry:
    if not isinstance(item, dict):
        raise BaselineError(f"{path}: findings[{index}] must be an object")
    for name, kind in _ENTRY_FIELDS.items():
        if not isinstance(item.get(name), kind):
            raise BaselineError(f"{path}: findings[{index}].{name} must be {_TYPE_NAMES[kind]}, got {item.get(name)!r}")
    return BaselineEntry(**{name: item[name] for name in _ENTRY_FIELDS})


def in_scope(
    baseline: Baseline,
    scanned_files: Iterable[Path] | None = None,
    allows: Callable[[str, Path], bool] | None = None,
) -> Callable[[BaselineEntry], bool]:
    """Which baseline entries this run looked at: their file was scanned and their rule on.

    `allows(rule, file)` is the run's rule filter (e.g. `Settings.allows`). A run over some
    of the files (pre-commit, a path argument) or some of the rules must not call every
    other entry "fixed".
    """
    files = None if scanned_files is None else {relative_path(p, baseline.root) for p in scanned_files}
    return lambda entry: (
        (files is None or entry.path in files) and (allows is None or allows(entry.rule, baseline.root / entry.path))
    )


def compare(
    findings: Iterable[Finding],
    baseline: Baseline,
    scope: Callable[[BaselineEntry], bool] | None = None,
) -> Comparison:
    """Split findings into new and existing, and list entries fixed since the baseline."""
    known = baseline.fingerprints
    new: list[Finding] = []
    existing: list[Finding] = []
    seen: set[str] = set()
    for finding, entry in entries_for(findings, baseline.root):
        (existing if entry.fingerprint in known else new).append(finding)
        seen.add(entry.fingerprint)
    fixed = [entry for entry in baseline.entries if entry.fingerprint not in seen and (scope is None or scope(entry))]
    return Comparison(new, existing, fixed)


def update_baseline(
    baseline: Baseline,
    findings: Iterable[Finding],
    scope: Callable[[BaselineEntry], bool] | None = None,
) -> tuple[Baseline, Comparison]:
    """Shrink the baseline: drop fixed entries, refresh lines, never add new findings.

    Entries outside the scope of this run are kept as they were.
    """
    findings = list(findings)
    result = compare(findings, baseline, scope)
    fixed = {entry.fingerprint for entry in result.fixed}
    current = {entry.fingerprint: entry for _, entry in entries_for(findings, baseline.root)}
    kept = [current.get(entry.fingerprint, entry) for entry in baseline.entries if entry.fingerprint not in fixed]
    return _write(baseline.file, kept), result
