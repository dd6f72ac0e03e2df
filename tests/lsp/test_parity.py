"""The language server and `cloudshift scan` agree on a project whose clients cross module boundaries.

The workspace is loaded before the session starts, as an editor opens an existing project: a
helper returns the client in one module and is used in others (directly and through the
package's re-export), a hook inherits its connection from a base class in another file, a
module that imports nothing is handed its client from outside, and a helper module that imports
nothing is handed one by a module of the project.
Every file's diagnostics must be what `cloudshift scan --format json` reports for it, and stay
so when the helper is edited (in the editor or on disk) so that it no longer returns an SDK client.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types

from tests.lsp.conftest import SERVER, RecordingClient, session

pytestmark = pytest.mark.asyncio

Found = list[tuple[str, int, int]]  # (rule, 1-based line, 1-based column), sorted

PROJECT = {
    "app/__init__.py": '''\
"""The application package: its storage helper is re-exported here."""

from .clients import get_s3

__all__ = ["get_s3"]
''',
    "app/clients.py": '''\
"""Where the application makes its S3 client."""

import boto3


def get_s3():
    return boto3.client("s3", region_name="eu-west-1")
''',
    "app/hooks/__init__.py": """\
from .base import StorageHook

__all__ = ["StorageHook"]
""",
    "app/hooks/base.py": '''\
"""The base class hooks inherit their connection from."""

import boto3


class StorageHook:
    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def get_conn(self):
        return boto3.client("s3")
''',
    "app/jobs.py": '''\
"""Nightly jobs: they use the shared client from another module."""

from .clients import get_s3
from .helpers import fetch_to


def publish(bucket: str, key: str, body: bytes) -> None:
    get_s3().put_object(Bucket=bucket, Key=key, Body=body)


def fetch(bucket: str, key: str, target: str) -> None:
    client = get_s3()
    client.download_file(bucket, key, target)


def backup(bucket: str, key: str, target: str) -> None:
    fetch_to(get_s3(), bucket, key, target)
''',
    "app/helpers.py": '''\
"""A helper the jobs hand their client to: it imports nothing, and calls the client as the SDK is called."""


def fetch_to(client, bucket: str, key: str, target: str) -> None:
    client.download_file(bucket, key, target)
''',
    "app/exports.py": '''\
"""Exports: the client comes through the package's re-export."""

from app import get_s3


def retire(bucket: str, key: str) -> None:
    get_s3().delete_object(Bucket=bucket, Key=key)
''',
    "app/team.py": '''\
"""A hook whose connection comes from a base class in another file."""

from app.hooks import StorageHook


class TeamHook(StorageHook):
    def upload(self, path: str, key: str) -> None:
        self.get_conn().upload_file(path, self.bucket, key)

    def exists(self, key: str) -> bool:
        self.get_conn().head_object(Bucket=self.bucket, Key=key)
        return True
''',
    "app/transfer.py": '''\
"""A task handed its client by whoever runs it: no import, only botocore's spelling says what it is."""


class CopyTask:
    def __init__(self, client) -> None:
        self._client = client

    def run(self, bucket: str, key: str, source: dict[str, str]) -> None:
        self._client.copy_object(Bucket=bucket, Key=key, CopySource=source)
''',
    "app/models.py": '''\
"""Look-alikes: methods named like the SDK's on the application's own classes."""


class Cache:
    def __init__(self) -> None:
        self.items: dict[str, bytes] = {}

    def put_object(self, Key: str, Body: bytes) -> None:
        self.items[Key] = Body


def warm(cache: Cache) -> None:
    cache.put_object(Key="k", Body=b"")
''',
}

# The helper after the edit: it hands out the application's own store, not an SDK client.
LOCAL_CLIENTS = '''\
"""Where the application makes its storage client: a local store now."""

from .models import Cache


def get_s3():
    return Cache()
'''


@pytest.fixture
def layout(project: Path) -> Path:
    for name, text in PROJECT.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return project


@pytest_lsp.fixture(config=SERVER)
async def workspace_client(lsp_client: RecordingClient, layout: Path):  # type: ignore[no-untyped-def]
    """A VS Code session opened on the project once its files exist."""
    async for _ in session(lsp_client, "visual-studio-code", layout):
        yield


def scanned(root: Path) -> dict[str, Found]:
    """What `cloudshift scan --format json` run in the project reports, per file."""
    done = subprocess.run(
        [sys.executable, "-m", "cloudshift", "scan", "--format", "json", "--exit-zero", "--no-cache", "."],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, Found] = {name: [] for name in PROJECT}
    for finding in json.loads(done.stdout)["findings"]:
        found.setdefault(finding["path"], []).append((finding["rule"], finding["line"], finding["column"]))
    return {name: sorted(findings) for name, findings in found.items()}


def shown(diagnostics: list[types.Diagnostic]) -> Found:
    """Diagnostics as scan reports findings (the project's text is ASCII: UTF-16 columns are characters)."""
    return sorted((str(d.code), d.range.start.line + 1, d.range.start.character + 1) for d in diagnostics)


async def in_editor(client: RecordingClient, uris: dict[str, str]) -> dict[str, Found]:
    return {name: shown(await client.diagnostics_for(uri)) for name, uri in uris.items()}


async def settles_on(client: RecordingClient, uris: dict[str, str], expected: dict[str, Found]) -> None:
    """Wait until the latest diagnostics of every file are `expected` (re-checks arrive one file at a time)."""
    await client.wait_until(lambda: all(shown(client.diagnostics.get(uris[n], [])) == expected[n] for n in uris))


async def test_diagnostics_equal_scan_across_modules(workspace_client: RecordingClient, layout: Path) -> None:
    before = scanned(layout)
    assert before["app/jobs.py"] and before["app/exports.py"] and before["app/team.py"]  # the cases are real
    assert before["app/transfer.py"] == [("aws-s3-copy-object", 9, 9)]
    assert before["app/helpers.py"] == [("aws-s3-download-file", 5, 5)]  # a module only a candidate imports
    uris = {name: workspace_client.open(layout / name) for name in PROJECT}
    assert await in_editor(workspace_client, uris) == before


async def test_editing_the_helper_updates_the_modules_using_it(workspace_client: RecordingClient, layout: Path) -> None:
    before = scanned(layout)
    uris = {name: workspace_client.open(layout / name) for name in PROJECT}
    assert await in_editor(workspace_client, uris) == before

    workspace_client.replace_text(uris["app/clients.py"], LOCAL_CLIENTS)  # unsaved: the buffer wins over the disk
    (layout / "app/clients.py").write_text(LOCAL_CLIENTS, encoding="utf-8")
    after = scanned(layout)
    assert after["app/jobs.py"] == after["app/exports.py"] == [] and after["app/team.py"] == before["app/team.py"]
    (layout / "app/clients.py").write_text(PROJECT["app/clients.py"], encoding="utf-8")
    await settles_on(workspace_client, uris, after)

    workspace_client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uris.pop("app/clients.py")))
    )
    del before["app/clients.py"]
    await settles_on(workspace_client, uris, before)  # closed unsaved: the file on disk counts again


async def test_a_helper_changed_on_disk_is_read_again(workspace_client: RecordingClient, layout: Path) -> None:
    opened = {name: workspace_client.open(layout / name) for name in ("app/jobs.py", "app/team.py")}
    before = await in_editor(workspace_client, opened)
    assert before == {name: found for name, found in scanned(layout).items() if name in opened}

    helper = layout / "app/clients.py"
    helper.write_text(LOCAL_CLIENTS, encoding="utf-8")
    workspace_client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=helper.as_uri(), type=types.FileChangeType.Changed)]
        )
    )
    after = {name: found for name, found in scanned(layout).items() if name in opened}
    assert after != before
    await settles_on(workspace_client, opened, after)


async def test_a_new_module_counts_once_it_imports_the_helper(workspace_client: RecordingClient, layout: Path) -> None:
    """A buffer for a file not yet on disk joins the project; typing the import makes it a candidate, as for scan."""
    body = 'def ship(path: str) -> None:\n    get_s3().upload_file(path, "b", "k")\n'
    uri = workspace_client.open(layout / "app" / "late.py", body)  # unsaved: the file does not exist
    assert await workspace_client.diagnostics_for(uri) == []
    workspace_client.replace_text(uri, "from .clients import get_s3\n\n\n" + body)
    (layout / "app" / "late.py").write_text(workspace_client.texts[uri], encoding="utf-8")
    expected = scanned(layout)["app/late.py"]
    assert expected == [("aws-s3-upload-file", 5, 5)]
    assert shown(await workspace_client.diagnostics_for(uri)) == expected
