"""The real language server (`python -m cloudshift lsp`) over stdio, driven by a pytest-lsp client.

The clients announce the capabilities real editors send (pytest-lsp ships them): VS Code
(UTF-16 positions, edits resolved lazily), Neovim (UTF-8, lazily) and Emacs' eglot
(UTF-32, every edit sent up front), so positions and both code action paths are exercised.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Union

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

REPO = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 60.0  # a cap so a broken server fails the test instead of hanging it; not a speed check


class RecordingClient(LanguageClient):
    """Keeps every publishDiagnostics with its version, and the encoding the server chose."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.published: list[types.PublishDiagnosticsParams] = []
        self.encoding: str = types.PositionEncodingKind.Utf16.value
        self.versions: dict[str, int] = {}
        self.texts: dict[str, str] = {}
        self.registrations: list[types.Registration] = []

    def record(self, params: types.PublishDiagnosticsParams) -> None:
        self.published.append(params)
        self.diagnostics[params.uri] = params.diagnostics

    async def start(self, editor: str, root: Path) -> None:
        result = await self.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities(editor),
                root_uri=root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            )
        )
        encoding = result.capabilities.position_encoding
        self.encoding = encoding.value if isinstance(encoding, types.PositionEncodingKind) else str(encoding)

    def open(self, path: Path, text: str | None = None) -> str:
        uri = path.as_uri()
        self.versions[uri] = 1
        self.texts[uri] = path.read_text(encoding="utf-8") if text is None else text
        self.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=self.texts[uri])
            )
        )
        return uri

    def replace_text(self, uri: str, text: str) -> int:
        """Send the whole new text as one change; returns the new version."""
        self.versions[uri] += 1
        self.texts[uri] = text
        self.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
        return self.versions[uri]

    async def diagnostics_for(self, uri: str, version: int | None = None) -> list[types.Diagnostic]:
        """The diagnostics published for this version of the document (the current one by default)."""
        wanted = self.versions.get(uri) if version is None else version
        found = await self.wait_until(
            lambda: next((p for p in reversed(self.published) if p.uri == uri and p.version == wanted), None)
        )
        return list(found.diagnostics)

    async def wait_until(self, condition: Callable[[], Any]) -> Any:
        deadline = time.monotonic() + WAIT_SECONDS
        while (value := condition()) in (None, False):
            if time.monotonic() > deadline:
                raise AssertionError(f"the server did not answer within {WAIT_SECONDS:.0f}s")
            await asyncio.sleep(0.02)
        return value

    async def actions_at(self, uri: str, line: int, only: list[str] | None = None) -> list[types.CodeAction]:
        """Code actions for a whole 0-based line selected."""
        end = types.Position(line=line, character=len(self.texts[uri].splitlines()[line]))
        result = await self.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(start=types.Position(line=line, character=0), end=end),
                context=types.CodeActionContext(diagnostics=[], only=only),
            )
        )
        return [action for action in result or [] if isinstance(action, types.CodeAction)]

    async def edits_of(self, action: types.CodeAction) -> list[types.TextEdit]:
        """The action's text edits for its one document, resolving the action first when it has none."""
        if action.edit is None:
            action = await self.code_action_resolve_async(action)
        assert action.edit is not None, f"no edit for {action.title}"
        if action.edit.document_changes:
            (change,) = action.edit.document_changes
            assert isinstance(change, types.TextDocumentEdit)
            return [edit for edit in change.edits if isinstance(edit, types.TextEdit)]
        assert action.edit.changes is not None
        (edits,) = action.edit.changes.values()
        return list(edits)

    async def apply(self, uri: str, action: types.CodeAction) -> str:
        """Apply a code action the way an editor does: its edits to the buffer, then didChange, then its command."""
        if action.edit is None:
            action = await self.code_action_resolve_async(action)
        text = apply_edits(self.texts[uri], await self.edits_of(action), self.encoding)
        self.replace_text(uri, text)
        if action.command is not None:
            command = action.command
            await self.workspace_execute_command_async(
                types.ExecuteCommandParams(command=command.command, arguments=command.arguments)
            )
        return text


_LSP_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _units(character: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(character.encode("utf-8"))
    if encoding == "utf-16":
        return len(character.encode("utf-16-le")) // 2
    return 1


def offset_of(text: str, position: types.Position, encoding: str) -> int:
    """The string index of an LSP position, counting the columns in the negotiated encoding."""
    lines = _LSP_LINES.findall(text)  # LSP breaks lines at \r\n, \r and \n only (not \f, \v, ...)
    if position.line >= len(lines):
        return len(text)
    start = sum(len(line) for line in lines[: position.line])
    units = 0
    for index, character in enumerate(lines[position.line]):
        if units >= position.character or character in "\r\n":
            return start + index
        units += _units(character, encoding)
    return start + len(lines[position.line])


def apply_edits(text: str, edits: list[types.TextEdit], encoding: str) -> str:
    spans = sorted(
        ((offset_of(text, e.range.start, encoding), offset_of(text, e.range.end, encoding), e.new_text) for e in edits),
        reverse=True,
    )
    for start, end, new_text in spans:
        text = text[:start] + new_text + text[end:]
    return text


def _converter() -> Any:
    """pygls's converter, reading a code action that carries a command as the code action it is.

    lsprotocol takes any object with a title and a command for a `Command`, even a `CodeAction`
    whose `command` is an object (the spec tells them apart by whether `command` is a string).
    """
    converter = default_converter()
    either = Union[types.Command, types.CodeAction]  # noqa: UP007 (the type lsprotocol's responses name)

    def structure(data: Any, _: Any) -> Any:
        kind = types.Command if isinstance(data.get("command"), str) else types.CodeAction
        return converter.structure(data, kind)

    converter.register_structure_hook(either, structure)
    return converter


def make_client() -> RecordingClient:
    client = RecordingClient(converter_factory=_converter)
    features = dict(DEFAULT_CLIENT_FEATURES)
    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = lambda ls, params: ls.record(params)
    features[types.CLIENT_REGISTER_CAPABILITY] = lambda ls, params: ls.registrations.extend(params.registrations)
    register_lsp_features(client, features)
    return client


SERVER = ClientServerConfig(
    server_command=[sys.executable, "-m", "cloudshift", "lsp"], client_factory=make_client, server_env=None
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A workspace folder of its own, away from any pyproject.toml above it."""
    root = tmp_path / "project"
    root.mkdir()
    return root


async def session(client: RecordingClient, editor: str, root: Path):  # type: ignore[no-untyped-def]
    await client.start(editor, root)
    yield
    await client.shutdown_session()


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: RecordingClient, project: Path):  # type: ignore[no-untyped-def]
    """A session as VS Code opens it."""
    async for _ in session(lsp_client, "visual-studio-code", project):
        yield


@pytest_lsp.fixture(config=SERVER, params=["visual-studio-code", "neovim", "emacs"])
async def editor_client(lsp_client: RecordingClient, project: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """A session as each of three editors opens it (positions in UTF-16, UTF-8 and UTF-32)."""
    async for _ in session(lsp_client, request.param, project):
        yield
