"""`cloudshift lsp`: diagnostics while typing, a quick fix per finding, fix-all and ignore-this-line.

Editors send buffer text, not files: every analysis runs `Engine.check_source` on the text the
editor holds, with the configuration found from the document's path upward, in one worker
process so the server keeps answering while the engine works (and survives it crashing).
Positions cross over here: the engine counts 1-based lines and code points, LSP counts 0-based
lines and the code units the client negotiated (UTF-16 unless it chose otherwise).
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import re
import sys
import traceback
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import to_fs_path

from cloudshift.api import Engine, Workspace
from cloudshift.config import ConfigError, Settings, find_config, load_settings
from cloudshift.engine.discovery import is_excluded
from cloudshift.engine.suppress import Suppression, parse_suppressions
from cloudshift.model import FileResult, Finding, ProfileEntry, Resolution, Safety, Span
from cloudshift.rules.ruleset import RuleError

DEBOUNCE_SECONDS = 0.3  # typing pauses shorter than this do not start an analysis
MAX_BUFFER_CHARS = 2_000_000  # larger buffers get one notice instead of an analysis
SOURCE = "cloudshift"
FIX_ALL_KIND = "source.fixAll.cloudshift"
WRITE_PROFILES = "cloudshift.writeStorageProfiles"  # run by the client after a fix's edit: adds the profiles it names
WATCHED = ("**/pyproject.toml", "**/*.py")  # configuration, and modules names resolve through
PYTHON_SUFFIXES = (".py", ".pyi")

_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # LSP's line breaks (str.splitlines knows more)
_WRITTEN_SUPPRESSION = re.compile(r"cloudshift:\s*ignore\[[^\]]*\]")
Units = Callable[[str], int]  # how many client code units a piece of text is

Result = TypeVar("Result")


# --- positions -----------------------------------------------------------------------------


class TextMap:
    """Offsets, engine positions and LSP positions of one text, in the client's code units."""

    def __init__(self, text: str, units: Units) -> None:
        self.text = text
        self.units = units
        self.starts = [0, *(match.end() for match in _LINE_BREAK.finditer(text))]

    def line_start(self, index: int) -> int:
        """The offset where line `index` (0-based) starts; the end of the text past the last line."""
        return self.starts[index] if index < len(self.starts) else len(self.text)

    def line_end(self, index: int) -> int:
        """The offset just past line `index` (0-based), its line break included."""
        return self.line_start(index + 1)

    def line(self, index: int) -> str:
        """Line `index` (0-based) without its line break."""
        return self.text[self.starts[index] : self.line_end(index)].rstrip("\r\n")

    def lines_with_breaks(self) -> list[str]:
        pieces = [self.text[start : self.line_end(index)] for index, start in enumerate(self.starts)]
        return [piece for piece in pieces if piece]

    def position(self, offset: int) -> types.Position:
        index = bisect_right(self.starts, offset) - 1
        return types.Position(line=index, character=self.units(self.text[self.starts[index] : offset]))

    def offset(self, line: int, column: int) -> int:
        """The offset of the engine's 1-based line and column (in code points)."""
        index = min(max(line, 1), len(self.starts)) - 1
        return min(self.starts[index] + column - 1, self.line_end(index))

    def range(self, span: Span) -> types.Range:
        return types.Range(
            start=self.position(self.offset(span.line, span.column)),
            end=self.position(self.offset(span.end_line, span.end_column)),
        )

    def edit(self, start: int, end: int, new_text: str) -> types.TextEdit:
        return types.TextEdit(range=types.Range(start=self.position(start), end=self.position(end)), new_text=new_text)


def text_edits(before: TextMap, after: str) -> list[types.TextEdit]:
    """The edits turning `before` into `after`: changed runs of lines, trimmed to the characters that differ.

    Lines as common as blank ones are not used as anchors in files over 200 lines (difflib's
    autojunk): the edits stay exact, and fix-all on a 2,000-line file costs 10 ms here, not 0.8 s.
    """
    old, new = before.lines_with_breaks(), TextMap(after, before.units).lines_with_breaks()
    edits = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old, new).get_opcodes():
        if tag == "equal":
            continue
        start, end = before.line_start(i1), before.line_start(i2)
        removed, added = before.text[start:end], "".join(new[j1:j2])
        head = _common_prefix_length(removed, added)
        tail = _common_prefix_length(removed[head:][::-1], added[head:][::-1])
        edits.append(before.edit(start + head, end - tail, added[head : len(added) - tail]))
    return edits


def _common_prefix_length(a: str, b: str) -> int:
    """How many leading characters two strings share."""
    length = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        length += 1
    return length


def ignore_edit(text: TextMap, line: int, rule: str) -> types.TextEdit | None:
    """Add `# cloudshift: ignore[RULE]` to a 1-based line, or extend the suppression already there.

    None when a comment cannot go there (a backslash continuation, a string left open).
    """
    content = text.line(line - 1)
    code = content.rstrip()
    if code.endswith("\\"):
        return None
    written = list(_WRITTEN_SUPPRESSION.finditer(content))
    existing = parse_suppressions(content)
    if written and existing and existing[-1].rules:
        begin, end = written[-1].span()
        replacement = Suppression(line, (*existing[-1].rules, rule)).text()
    else:
        begin, end = len(code), len(content)
        replacement = f"  # {Suppression(line, (rule,)).text()}"
    changed = content[:begin] + replacement + content[end:]
    if not any(rule in suppression.rules for suppression in parse_suppressions(changed)):
        return None
    start = text.line_start(line - 1)
    return text.edit(start + begin, start + end, replacement)


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(position: types.Position) -> tuple[int, int]:
        return position.line, position.character

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


# --- projects: settings and engines, in the worker process -----------------------------------

Stamp = tuple[tuple[str, int, int], ...]


def _stamp(paths: Iterable[Path]) -> Stamp:
    """What changes when any of these files is edited, created or removed."""
    found = []
    for path in paths:
        try:
            status = path.stat()
        except OSError:
            continue
        found.append((str(path), status.st_mtime_ns, status.st_size))
    return tuple(found)


def _config_stamp(settings: Settings) -> Stamp:
    """The pyproject and the user's rule files the settings came from."""
    rule_files = [path for folder in settings.rules for path in sorted(folder.glob("*.y*ml"))]
    return _stamp([*([settings.config_file] if settings.config_file else []), *rule_files])


class Projects:
    """Engines per configuration and warm workspaces per project root; they live in the worker process.

    An engine comes from the nearest pyproject.toml with `[tool.cloudshift]`, as for the CLI;
    without one, from the project root (where `cloudshift scan .` would run). A workspace folder's
    files are all loaded into one `Workspace`, as a scan of the folder reads them, so names resolve
    across its modules; the editor's buffers replace their files' text in it.
    """

    def __init__(self) -> None:
        self._nearest: dict[Path, Path | None] = {}
        self._engines: dict[Path, tuple[Stamp, Engine]] = {}
        self._workspaces: dict[Path, tuple[Engine, Workspace]] = {}
        self.buffers: dict[Path, str] = {}  # the editor's open files: their text wins over the disk

    def forget(self) -> None:
        """Look for configuration files again (one was created, moved or deleted) and reload the workspaces."""
        self._nearest.clear()
        self._engines.clear()
        self._workspaces.clear()

    def engine_for(self, directory: Path, fallback_root: Path) -> tuple[Engine, tuple[str, ...]]:
        """The engine for files in `directory`, and the configuration's warnings when it was (re)loaded."""
        if directory not in self._nearest:
            self._nearest[directory] = find_config(directory)
        source = self._nearest[directory] or fallback_root
        cached = self._engines.get(source)
        if cached is not None and cached[0] == _config_stamp(cached[1].settings):
            return cached[1], ()
        settings = load_settings(source)
        engine = Engine.create(settings)
        self._engines[source] = (_config_stamp(settings), engine)
        return engine, tuple(f"cloudshift: warning: {warning}" for warning in settings.warnings)

    def workspace_for(self, root: Path, folder: bool) -> Workspace:
        """The project rooted at `root`: a workspace folder's files (loaded once), else the open buffers only."""
        engine = self.engine_for(root, root)[0]
        known = self._workspaces.get(root)
        if known is not None and known[0] is engine:
            return known[1]
        workspace = Workspace.load(engine, root) if folder else Workspace(engine.settings, roots=[root], engine=engine)
        for path, text in self.buffers.items():
            if root in path.parents:
                _offer(workspace, path, text)
        self._workspaces[root] = (engine, workspace)
        return workspace

    def apply(self, changes: Changes) -> set[Path]:
        """Take the buffers the editor changed, opened (text) or closed (None).

        Returns the paths a workspace now reads differently.
        """
        for path, text in changes.items():
            if text is None:
                self.buffers.pop(path, None)
            else:
                self.buffers[path] = text
        return self._spread(changes)

    def reload(self, paths: Iterable[Path]) -> set[Path]:
        """Files changed on disk: workspaces read them again, unless the editor holds them open."""
        return self._spread(dict.fromkeys(path for path in paths if path not in self.buffers))

    def _spread(self, changes: Changes) -> set[Path]:
        changed = set()
        for path, text in changes.items():
            for root, (_, workspace) in self._workspaces.items():
                if root in path.parents and _offer(workspace, path, text):
                    changed.add(path)
        return changed

    def affected_by(self, changed: set[Path]) -> frozenset[Path]:
        """The other open files whose findings a change to `changed` may alter.

        Clients and base classes flow from a module to the modules importing it; call sites and
        subclasses flow back to the modules it imports, and so do the arguments its importers
        pass to a helper they import beside it. So an open file is affected when a module that
        reaches a changed module through imports (the changed module included) reaches it too.
        """
        affected: set[Path] = set()
        for root, (_, workspace) in self._workspaces.items():
            touched = {path.resolve() for path in changed if root in path.parents}
            if not touched:
                continue
            upstream = workspace.project.dependents(touched)
            reached = upstream.union(*(_reach(workspace, path) for path in upstream))
            affected.update(path for path in self.buffers.keys() - changed if path.resolve() in reached)
        return frozenset(affected)


Changes = dict[Path, str | None]  # buffer texts the worker has not seen yet; None: closed (the disk counts again)


def _offer(workspace: Workspace, path: Path, text: str | None) -> bool:
    """Give a workspace a buffer's text (with None, the disk's) if a scan of it would read that file.

    True when the workspace reads the file differently now.
    """
    if not workspace.holds(path) and is_excluded(path, workspace.settings):
        return False
    return workspace.forget(path) if text is None else workspace.update(path, text)


def _reach(workspace: Workspace, start: Path) -> set[Path]:
    """`start` and every project file it imports, directly or through others."""
    seen, frontier = {start}, [start]
    while frontier:
        for imported in workspace.imports(frontier.pop()):
            if imported not in seen:
                seen.add(imported)
                frontier.append(imported)
    return seen


# --- analysis -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """One version of one open buffer, and where it lives."""

    uri: str
    version: int | None
    text: str
    path: Path | None  # the file the buffer belongs to; None for untitled buffers
    directory: Path  # where its configuration is looked for
    root: Path  # the project root: its files are what names resolve in; its configuration is the fallback
    folder: bool  # whether the root is a workspace folder (whose files are loaded) or just a directory

    @property
    def name(self) -> str:
        return str(self.path) if self.path else str(self.directory / "untitled.py")


@dataclass(frozen=True)
class Notice:
    """Why a buffer has no findings to show: too large, misconfigured, or the engine failed."""

    message: str
    severity: types.DiagnosticSeverity


@dataclass(frozen=True)
class Analysis:
    snapshot: Snapshot
    findings: tuple[Finding, ...] = ()
    notice: Notice | None = None
    log: tuple[str, ...] = ()  # for the client's log: configuration warnings


@dataclass(frozen=True)
class Fixed:
    text: str | None  # the buffer with the fix applied; None when the engine changed nothing
    log: tuple[str, ...] = ()  # why not, when the engine says
    profiles: tuple[ProfileEntry, ...] = ()  # the storage profiles the fixed text names


@dataclass(frozen=True)
class Reply(Generic[Result]):
    """A worker's answer, and the open files whose findings the buffer changes sent with the question may alter."""

    value: Result
    affected: frozenset[Path] = frozenset()


@dataclass(frozen=True)
class FixRequest:
    """Which fix a code action applies: one finding's (span and rule) or every safe one."""

    level: Safety
    rule: str | None = None
    span: Span | None = None

    def to_data(self, snapshot: Snapshot) -> dict[str, Any]:
        return {
            "uri": snapshot.uri,
            "version": snapshot.version,
            "level": self.level.value,
            "rule": self.rule,
            "span": None
            if self.span is None
            else [self.span.line, self.span.column, self.span.end_line, self.span.end_column],
        }

    @classmethod
    def from_data(cls, data: Any) -> tuple[str, int | None, FixRequest] | None:
        """(uri, version, request) back from a code action's data; None if it is not ours."""
        try:
            span = data["span"]
            return (
                data["uri"],
                data["version"],
                cls(Safety(data["level"]), data["rule"], None if span is None else Span(*map(int, span))),
            )
        except (KeyError, TypeError, ValueError):
            return None


class Analyser:
    """The engine side of the server; it runs in the worker process only."""

    def __init__(self) -> None:
        self.projects = Projects()

    def analyse(self, snapshot: Snapshot) -> Analysis:
        if len(snapshot.text) > MAX_BUFFER_CHARS:
            size = f"{len(snapshot.text) / 1e6:.1f}M characters"
            message = (
                f"cloudshift does not analyse buffers over {MAX_BUFFER_CHARS / 1e6:.0f}M characters "
                f"in the editor (this one has {size}); run `cloudshift scan` on the file instead"
            )
            return Analysis(snapshot, notice=Notice(message, types.DiagnosticSeverity.Information))
        try:
            engine, log = self.projects.engine_for(snapshot.directory, snapshot.root)
            workspace = self.projects.workspace_for(snapshot.root, snapshot.folder)
        except (ConfigError, RuleError) as error:
            notice = Notice(f"cloudshift cannot run: {error}", types.DiagnosticSeverity.Error)
            return Analysis(snapshot, notice=notice)
        if snapshot.path is not None and is_excluded(snapshot.path, engine.settings):
            return Analysis(snapshot, log=log)
        return Analysis(snapshot, self._check(workspace, engine, snapshot).findings, log=log)

    def fixed_text(self, snapshot: Snapshot, request: FixRequest) -> Fixed:
        engine, log = self.projects.engine_for(snapshot.directory, snapshot.root)
        workspace = self.projects.workspace_for(snapshot.root, snapshot.folder)

        def chosen(finding: Finding) -> bool:
            return finding.span == request.span and finding.rule == request.rule

        only = None if request.span is None else chosen
        result = self._check(workspace, engine, snapshot, fix=request.level, only=only)
        log += tuple(f"cloudshift: {snapshot.uri}: {error.message}" for error in result.errors)
        if not result.changed or result.errors:
            return Fixed(None, log)
        return Fixed(result.fixed_source, log, result.profiles)

    def prepare(self, roots: Sequence[Path]) -> tuple[str, ...]:
        """Load the rules and every workspace folder's files before the first file is opened."""
        log: tuple[str, ...] = ()
        for root in roots:
            try:
                log += self.projects.engine_for(root, root)[1]
                self.projects.workspace_for(root, folder=True).candidates()
            except (ConfigError, RuleError):
                continue  # reported on each document when it is analysed
        return log

    @staticmethod
    def _check(
        workspace: Workspace,
        engine: Engine,
        snapshot: Snapshot,
        *,
        fix: Safety | None = None,
        only: Callable[[Finding], bool] | None = None,
    ) -> FileResult:
        """The buffer checked as part of its project; an untitled buffer sees the project but is not part of it."""
        if snapshot.path is None:
            return engine.with_project(workspace.project).check_source(snapshot.name, snapshot.text, fix=fix, only=only)
        return workspace.check(snapshot.path, snapshot.text, fix=fix, only=only, engine=engine)


# --- the worker process ---------------------------------------------------------------------
# The engine runs in a child process: LibCST's native parser overflows its stack on deeply
# nested code (a segfault, not an exception), and that must cost one analysis, never the server.


@lru_cache(maxsize=1)
def _analyser() -> Analyser:
    return Analyser()


def _start_worker() -> None:
    """The worker inherits the server's stdout, which is the LSP stream: what it prints goes to stderr."""
    os.dup2(2, 1)
    sys.stdout = sys.stderr


def _in_worker(changes: Changes, ask: Callable[..., Result], *args: Any) -> Reply[Result]:
    """Apply the editor's buffer changes, then answer `ask(analyser, *args)`."""
    analyser = _analyser()
    with _no_collections():
        changed = analyser.projects.apply(changes)
        value = ask(analyser, *args)
    return Reply(value, analyser.projects.affected_by(changed))


@contextmanager
def _no_collections() -> Iterator[None]:
    """Python's cyclic garbage collector paused while the worker answers, resumed after.

    The worker holds the whole workspace's analysis; a full collection walks all of it, and the
    objects an answer makes (a fix-all on a 2,000-line file: several new trees) set off three of
    them, 0.2 s each. Most garbage is freed as it is made; the cycles wait for the next collection.
    """
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _sync(analyser: Analyser) -> None:
    """Nothing more: the buffer changes sent with the call are the point."""


def _forget_projects(analyser: Analyser) -> None:
    analyser.projects.forget()


def _files_changed(analyser: Analyser, paths: list[Path]) -> frozenset[Path]:
    """Files changed on disk: the open files whose findings that may alter."""
    return analyser.projects.affected_by(analyser.projects.reload(paths))


class Worker:
    """One child process running the engine, started again after a crash (and then sent every buffer again)."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._sent: dict[Path, str] = {}  # the buffer texts the current process holds

    async def run(self, buffers: dict[Path, str], ask: Callable[..., Result], *args: Any) -> Reply[Result]:
        """`ask(analyser, *args)` in the worker, after sending it the buffers that changed since it last heard."""
        pool = self._pool or self._start()
        changes: Changes = {path: text for path, text in buffers.items() if self._sent.get(path) != text}
        changes.update(dict.fromkeys(self._sent.keys() - buffers.keys()))
        self._sent = dict(buffers)
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, _in_worker, changes, ask, *args)
        except BrokenProcessPool:
            if self._pool is pool:
                self._pool = None
                pool.shutdown(wait=False)
            raise

    def _start(self) -> ProcessPoolExecutor:
        # spawn, not fork: the server has threads of its own, and the child needs none of its state
        self._sent = {}
        self._pool = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker
        )
        return self._pool

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def diagnostic(finding: Finding, text: TextMap) -> types.Diagnostic:
    return types.Diagnostic(
        range=text.range(finding.span),
        message=_diagnostic_message(finding),
        severity=types.DiagnosticSeverity.Warning,
        code=finding.rule,
        source=SOURCE,
    )


def _diagnostic_message(finding: Finding) -> str:
    if finding.resolution is Resolution.PARTIAL:
        return f"{finding.message} ({finding.reason})"
    if finding.fix is Safety.SAFE:
        return f"{finding.message} (fix: safe)"
    return f"{finding.message} (fix: {finding.fix.value}: {finding.reason})"


def _fixable(finding: Finding) -> bool:
    return finding.resolution is Resolution.FULL and finding.fix is not Safety.MANUAL


def _fix_title(finding: Finding) -> str:
    title = f"Rewrite onto storage_shim ({finding.rule})"
    return title if finding.fix is Safety.SAFE else f"{title} (unsafe: {finding.reason})"


# --- the server -----------------------------------------------------------------------------


class _Protocol(LanguageServerProtocol):
    """Answers a request whose params do not match the LSP schema with an error, instead of dropping it."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if "id" in data and "method" in data:
                return _Rejected(data["id"], error)
            raise

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _Rejected):
            self._send_response(message.id, None, message.error.to_response_error())
            return
        super().handle_message(message)


@dataclass(frozen=True)
class _Rejected:
    id: int | str
    error: JsonRpcException


def _file_path(uri: str) -> Path | None:
    """The local file a `file:` URI names; None for other schemes (untitled buffers, remote files)."""
    if not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    return Path(path) if path else None


def _is_python(language_id: str | None, path: Path | None) -> bool:
    """Clients that send every file they open get findings for Python ones only."""
    return language_id == "python" or (path is not None and path.suffix in PYTHON_SUFFIXES)


def _failure_message(error: Exception) -> str:
    if isinstance(error, BrokenProcessPool):
        return (
            "cloudshift's analysis process stopped while checking this buffer (its parser crashed; "
            "very deeply nested code can cause that); it starts again for the next check"
        )
    return f"cloudshift failed on this buffer ({error!r}); details are in the cloudshift log"


def _version() -> str:
    try:
        return metadata.version("cloudshift")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass
class _FixCache:
    """Fixed texts already computed for one version of one buffer (editors ask again on every cursor move)."""

    text: str
    fixes: dict[FixRequest, Fixed] = field(default_factory=dict)


class CloudshiftServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("cloudshift", _version(), protocol_cls=_Protocol)
        self.worker = Worker()
        self.preparing: asyncio.Task[None] | None = None
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.analyses: dict[str, Analysis] = {}
        self.fixes: dict[str, _FixCache] = {}
        self._reporting = False

    # logging
    def log(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    def log_failure(self, doing: str, error: BaseException | None) -> None:
        trace = "".join(traceback.format_exception(error)) if error is not None else "no exception"
        self.log(f"cloudshift: failed {doing}:\n{trace}", types.MessageType.Error)

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Log what went wrong instead of popping a message up in the editor; the server goes on.

        Not re-entered: if sending the log message fails too, that failure is not reported again.
        """
        if self._reporting:
            return
        self._reporting = True
        try:
            self.log(f"cloudshift: {getattr(source, '__name__', source)}: {error!r}", types.MessageType.Error)
        finally:
            self._reporting = False

    # documents
    def open_uris(self) -> list[str]:
        return [document.uri for document in self.workspace.text_documents.values()]

    def snapshot(self, uri: str) -> Snapshot | None:
        """The buffer's current text, or None for a document that is not open or not Python."""
        document = self.workspace.text_documents.get(unquote(uri))
        path = _file_path(uri)
        if document is None or not _is_python(document.language_id, path):
            return None
        root, folder = self._project_root(path)
        return Snapshot(uri, document.version, document.source, path, path.parent if path else root, root, folder)

    def folders(self) -> list[Path]:
        """The workspace folders on disk (the root the client gave, when it named no folders)."""
        uris = [folder.uri for folder in self.workspace.folders.values()] or [self.workspace.root_uri or ""]
        return [path for uri in uris if (path := _file_path(uri)) is not None]

    def _project_root(self, path: Path | None) -> tuple[Path, bool]:
        """Where `cloudshift scan .` would run, and whether that is a workspace folder (whose files are loaded).

        The deepest workspace folder holding the file; outside every folder, the file's own
        directory; for an untitled buffer, the first workspace folder (or the working directory).
        """
        folders = self.folders()
        holding = [folder for folder in folders if path is not None and folder in path.parents]
        if holding:
            return max(holding, key=lambda folder: len(folder.parts)), True
        if path is not None:
            return path.parent, False
        return (folders[0], True) if folders else (Path.cwd(), False)

    def is_current(self, snapshot: Snapshot) -> bool:
        document = self.workspace.text_documents.get(unquote(snapshot.uri))
        return document is not None and document.version == snapshot.version and document.source == snapshot.text

    def text_map(self, snapshot: Snapshot) -> TextMap:
        return TextMap(snapshot.text, self.workspace.position_codec.client_num_units)

    # the worker
    def buffers(self) -> dict[Path, str]:
        """The open Python files' texts, which the engine uses instead of what is on disk."""
        found = {}
        for document in self.workspace.text_documents.values():
            path = _file_path(document.uri)
            if path is not None and _is_python(document.language_id, path):
                found[path] = document.source
        return found

    async def ask(self, function: Callable[..., Result], *args: Any) -> Result:
        """`function(analyser, *args)` in the worker, which sees the current buffers; re-checks what they affect."""
        reply = await self.worker.run(self.buffers(), function, *args)
        self.recheck(reply.affected)
        return reply.value

    def recheck(self, paths: Iterable[Path]) -> None:
        """Analyse these open files again: a module they resolve names through has changed."""
        wanted = set(paths)
        for uri in self.open_uris():
            path = _file_path(uri)
            if path is not None and path in wanted:
                self.analyses.pop(uri, None)
                self.fixes.pop(uri, None)
                self.schedule(uri, 0)

    async def sync(self) -> None:
        """Send the worker the buffers as they are now (one was closed), and re-check what that affects."""
        try:
            await self.ask(_sync)
        except Exception as error:  # the next analysis sends them again
            self.log_failure("updating the workspace", error)

    async def files_changed(self, paths: list[Path]) -> None:
        """Python files changed on disk (a checkout, another tool): the workspace reads them again."""
        self.recheck(await self.ask(_files_changed, paths))

    # analysis
    def schedule(self, uri: str, delay: float) -> None:
        """Analyse `uri` after `delay`; a newer request for the same document replaces this one."""
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        task = asyncio.ensure_future(self._refresh(uri, delay))
        self.pending[uri] = task
        task.add_done_callback(lambda done: self._finished(uri, done))

    def _finished(self, uri: str, task: asyncio.Task[None]) -> None:
        if self.pending.get(uri) is task:
            del self.pending[uri]
        if not task.cancelled() and task.exception() is not None:
            self.log_failure(f"analysing {uri}", task.exception())

    async def _refresh(self, uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        snapshot = self.snapshot(uri)
        if snapshot is None:
            return
        analysis = await self.analysis_of(snapshot)
        if self.is_current(snapshot):
            self.publish(analysis)

    async def analysis_of(self, snapshot: Snapshot) -> Analysis:
        """The findings for this very text: the last analysis when the text is the same, else a new one."""
        known = self.analyses.get(snapshot.uri)
        if known is not None and known.snapshot == snapshot:
            return known
        try:
            analysis = await self.ask(Analyser.analyse, snapshot)
        except Exception as error:  # an engine bug must cost one analysis, never the server
            self.log_failure(f"analysing {snapshot.uri}", error)
            analysis = Analysis(snapshot, notice=Notice(_failure_message(error), types.DiagnosticSeverity.Error))
        for message in analysis.log:
            self.log(message, types.MessageType.Warning)
        if self.is_current(snapshot):
            self.analyses[snapshot.uri] = analysis
        return analysis

    def publish(self, analysis: Analysis) -> None:
        text = self.text_map(analysis.snapshot)
        diagnostics = [diagnostic(finding, text) for finding in analysis.findings]
        if analysis.notice is not None:
            start = types.Position(line=0, character=0)
            diagnostics.append(
                types.Diagnostic(
                    range=types.Range(start=start, end=start),
                    message=analysis.notice.message,
                    severity=analysis.notice.severity,
                    source=SOURCE,
                )
            )
        self.send_diagnostics(analysis.snapshot.uri, diagnostics, analysis.snapshot.version)

    def send_diagnostics(self, uri: str, diagnostics: list[types.Diagnostic], version: int | None = None) -> None:
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version)
        )

    def forget(self, uri: str) -> None:
        task = self.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        self.analyses.pop(uri, None)
        self.fixes.pop(uri, None)

    async def reload_configuration(self) -> None:
        """Configuration files changed: look them up again and re-analyse every open document."""
        await self.ask(_forget_projects)
        self.analyses.clear()
        self.fixes.clear()
        for uri in self.open_uris():
            self.schedule(uri, 0)

    # fixes
    async def fix(self, snapshot: Snapshot, request: FixRequest) -> Fixed:
        """The buffer with the requested fixes applied (computed once per buffer version and request)."""
        cache = self.fixes.get(snapshot.uri)
        if cache is None or cache.text != snapshot.text:
            cache = self.fixes[snapshot.uri] = _FixCache(snapshot.text)
        if request not in cache.fixes:
            try:
                fixed = await self.ask(Analyser.fixed_text, snapshot, request)
            except Exception as error:  # an engine bug must cost one action, never the server
                self.log_failure(f"fixing {snapshot.uri}", error)
                fixed = Fixed(None)
            for message in fixed.log:
                self.log(message, types.MessageType.Warning)
            cache.fixes[request] = fixed
        return cache.fixes[request]

    def profiles_command(self, snapshot: Snapshot, entries: tuple[ProfileEntry, ...]) -> types.Command | None:
        """The command that adds the profiles fixed code names to the project's profile file, as `cloudshift fix`
        does; None when none is missing. Raises OSError or storage_shim's ProfileError when the file is unreadable."""
        from cloudshift.profiles import profile_file, profiles_needed  # only fixes need the shim

        if not entries:
            return None
        path = profile_file([snapshot.path or snapshot.directory], snapshot.root)
        missing = profiles_needed(entries, path).missing
        if not missing:
            return None
        arguments = [str(path), [{"name": entry.name, "settings": entry.to_json()} for entry in missing]]
        return types.Command(title=f"Add storage profiles to {path.name}", command=WRITE_PROFILES, arguments=arguments)

    async def prepare(self) -> None:
        """Start the worker, load the rules and the workspace folders' files while the editor is still opening files."""
        try:
            for message in await self.ask(Analyser.prepare, self.folders()):
                self.log(message, types.MessageType.Warning)
        except Exception as error:  # the first analysis will report what is wrong
            self.log_failure("starting the worker", error)

    def workspace_edit(self, snapshot: Snapshot, edits: list[types.TextEdit]) -> types.WorkspaceEdit:
        """The edit, pinned to the buffer version it was computed for when the client supports it."""
        supports_versions = self._client_supports("workspace.workspace_edit.document_changes")
        if supports_versions:
            document = types.OptionalVersionedTextDocumentIdentifier(uri=snapshot.uri, version=snapshot.version)
            return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(text_document=document, edits=edits)])
        return types.WorkspaceEdit(changes={snapshot.uri: edits})

    def resolves_edits(self) -> bool:
        """Whether the client asks for a code action's edit only once the user picks it."""
        support = self._client_capability("text_document.code_action.resolve_support")
        return support is not None and "edit" in support.properties

    def _client_supports(self, dotted: str) -> bool:
        return bool(self._client_capability(dotted))

    def _client_capability(self, dotted: str) -> Any:
        value: Any = self.client_capabilities
        for name in dotted.split("."):
            value = getattr(value, name, None)
        return value


# --- code actions ---------------------------------------------------------------------------


def _wanted(only: Sequence[str] | None, kind: str) -> bool:
    return only is None or any(kind == prefix or kind.startswith(prefix + ".") for prefix in only)


async def code_actions(server: CloudshiftServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    snapshot = server.snapshot(params.text_document.uri)
    if snapshot is None:
        return None
    analysis = await server.analysis_of(snapshot)
    text = server.text_map(snapshot)
    only = params.context.only
    actions: list[types.CodeAction] = []
    if _wanted(only, types.CodeActionKind.QuickFix):
        for finding in analysis.findings:
            found = diagnostic(finding, text)
            if _overlaps(found.range, params.range):
                actions.extend(_quick_fixes(server, snapshot, text, finding, found))
    if _wanted(only, FIX_ALL_KIND) and any(_fixable(f) and f.fix is Safety.SAFE for f in analysis.findings):
        actions.append(
            types.CodeAction(
                title="Apply all safe cloudshift fixes",
                kind=FIX_ALL_KIND,
                data=FixRequest(Safety.SAFE).to_data(snapshot),
            )
        )
    if server.resolves_edits():
        return actions
    resolved = [await resolve_code_action(server, action) if action.edit is None else action for action in actions]
    return [action for action in resolved if action.edit is not None]


def _quick_fixes(
    server: CloudshiftServer, snapshot: Snapshot, text: TextMap, finding: Finding, found: types.Diagnostic
) -> list[types.CodeAction]:
    """The finding's fix (edit filled in later: it costs an engine run) and its ignore-this-line action."""
    actions = []
    if _fixable(finding):
        request = FixRequest(finding.fix, finding.rule, finding.span)
        actions.append(
            types.CodeAction(
                title=_fix_title(finding),
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[found],
                is_preferred=finding.fix is Safety.SAFE,
                data=request.to_data(snapshot),
            )
        )
    edit = ignore_edit(text, finding.line, finding.rule)
    if edit is not None:
        actions.append(
            types.CodeAction(
                title=f"Ignore {finding.rule} on this line",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[found],
                edit=server.workspace_edit(snapshot, [edit]),
            )
        )
    return actions


async def resolve_code_action(server: CloudshiftServer, action: types.CodeAction) -> types.CodeAction:
    """Fill in the edit of a fix action, computed on the buffer version the action was offered for."""
    found = FixRequest.from_data(action.data)
    if found is None:
        return action
    uri, version, request = found
    snapshot = server.snapshot(uri)
    if snapshot is None or snapshot.version != version:
        return action
    fixed = await server.fix(snapshot, request)
    edits = text_edits(server.text_map(snapshot), fixed.text) if fixed.text is not None else []
    if not edits:
        return action
    from storage_shim.profiles import ProfileError

    try:  # code naming a profile is never offered without the profile
        command = server.profiles_command(snapshot, fixed.profiles)
    except (OSError, ProfileError) as error:
        server.log(f"cloudshift: no fix for {uri}: {error}", types.MessageType.Warning)
        return action
    action.edit = server.workspace_edit(snapshot, edits)
    action.command = command
    return action


def write_profiles_command(server: CloudshiftServer, arguments: Sequence[Any]) -> None:
    """Add the storage profiles a fix's code names (`WRITE_PROFILES`), those still missing, to the profile file."""
    from cloudshift.profiles import profiles_needed, write_profiles
    from storage_shim.profiles import CONFIG_NAME, ProfileError

    try:
        path, entries = Path(arguments[0]), [_profile_entry(item) for item in arguments[1]]
        if path.name not in (CONFIG_NAME, "pyproject.toml"):  # the command writes nothing but a profile file
            raise ValueError(f"{path} is not a storage profile file")
        write_profiles(path, profiles_needed(entries, path).missing)
    except (OSError, ProfileError, LookupError, TypeError, ValueError) as error:
        server.log(f"cloudshift: could not add storage profiles: {error}", types.MessageType.Error)


def _profile_entry(item: dict[str, Any]) -> ProfileEntry:
    settings = dict(item["settings"])
    provider = str(settings.pop("provider"))
    return ProfileEntry(str(item["name"]), provider, tuple((str(k), str(v)) for k, v in settings.items()))


# --- wiring ---------------------------------------------------------------------------------


def build_server() -> CloudshiftServer:
    server = CloudshiftServer()
    action_kinds = [types.CodeActionKind.QuickFix, FIX_ALL_KIND]

    @server.feature(types.INITIALIZED)
    async def initialized(ls: CloudshiftServer, params: types.InitializedParams) -> None:
        ls.preparing = asyncio.ensure_future(ls.prepare())
        if ls._client_supports("workspace.did_change_watched_files.dynamic_registration"):
            await _watch_configuration(ls)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: CloudshiftServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: CloudshiftServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, DEBOUNCE_SECONDS)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: CloudshiftServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(ls: CloudshiftServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)
        ls.send_diagnostics(params.text_document.uri, [])
        await ls.sync()  # the file on disk counts again: files resolving names through it are checked again

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def watched_files(ls: CloudshiftServer, params: types.DidChangeWatchedFilesParams) -> None:
        paths = [path for change in params.changes if (path := _file_path(change.uri)) is not None]
        if any(path.name == "pyproject.toml" for path in paths):
            await ls.reload_configuration()
        else:
            await ls.files_changed([path for path in paths if path.suffix in PYTHON_SUFFIXES])

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=action_kinds, resolve_provider=True)
    )
    async def code_action(ls: CloudshiftServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        return await code_actions(ls, params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(ls: CloudshiftServer, params: types.CodeAction) -> types.CodeAction:
        return await resolve_code_action(ls, params)

    @server.command(WRITE_PROFILES)
    def write_profiles(ls: CloudshiftServer, *arguments: Any) -> None:
        write_profiles_command(ls, arguments)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: CloudshiftServer, params: None) -> None:
        for uri in list(ls.pending):
            ls.forget(uri)
        ls.worker.shutdown()

    return server


async def _watch_configuration(server: CloudshiftServer) -> None:
    """Ask the client to report pyproject.toml and Python files created, changed or deleted in the workspace."""
    watchers = [types.FileSystemWatcher(glob_pattern=pattern) for pattern in WATCHED]
    registration = types.Registration(
        id="cloudshift-files",
        method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers),
    )
    try:
        await server.client_register_capability_async(types.RegistrationParams(registrations=[registration]))
    except Exception as error:  # a client that refuses still gets diagnostics; edits are still seen by mtime
        server.log(f"cloudshift: could not watch {', '.join(WATCHED)}: {error!r}", types.MessageType.Warning)


def serve() -> None:
    """Speak LSP over stdin and stdout until the client says exit."""
    build_server().start_io()
