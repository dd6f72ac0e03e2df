"""How long diagnostics and fixes take to reach the editor: in one 2,000-line file, or in a 2,000-module workspace.

    python benchmarks/lsp_latency.py [--lines 2000] [--edits 9]
    python benchmarks/lsp_latency.py --workspace-files 2000 [--edits 9]

Starts `python -m cloudshift lsp` over stdio (as an editor does) on a generated workspace folder.

By default the folder holds one module of realistic S3 code: it is opened, then edited one
change at a time (a new key in a put_object call), waiting for the diagnostics of each version.
Prints the time to the first diagnostics on open, the median and range from edit to diagnostics
(the server waits for a 300 ms typing pause before it starts, so that is included; the line
below subtracts it), the same for an edit saved at once (a save starts the analysis without the
pause), and how long the quick fix and the fix-all edits take to resolve.

With --workspace-files N the folder is an application package of N modules (see `workspace`),
which the server loads when it starts. A module using the shared helper is opened and edited as
above, in a string and then in an import line (which makes the server work out again which files
can reach an SDK); then the helper module itself is edited so that it stops (and starts again)
returning an S3 client, and the time until the open module's diagnostics follow is printed.

Speed is reported, never asserted: this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from cloudshift.lsp.server import DEBOUNCE_SECONDS

REPO = Path(__file__).resolve().parent.parent

HEADER = '''\
"""Data lake maintenance jobs (generated for the cloudshift LSP latency benchmark)."""

import json
import logging
from dataclasses import dataclass

import boto3
from botocore.exceptions import ClientError

log = logging.getLogger(__name__)
s3 = boto3.client("s3")
'''

# One job per block; the blocks rotate so the file holds every common call shape, with ordinary
# code between the calls as real modules have. {n} makes every name unique.
BLOCKS = (
    '''

@dataclass
class Partition{n}:
    bucket: str
    prefix: str

    def manifest_key(self) -> str:
        return f"{{self.prefix}}/manifest-{n}.json"


def write_manifest_{n}(part: Partition{n}, entries: list[dict]) -> None:
    """Store the partition manifest next to its data."""
    body = json.dumps({{"entries": entries, "count": len(entries)}}).encode("utf-8")
    s3.put_object(Bucket=part.bucket, Key=part.manifest_key(), Body=body, ContentType="application/json")
    log.info("manifest %s written (%d entries)", part.manifest_key(), len(entries))
''',
    """

def read_manifest_{n}(bucket: str, prefix: str) -> dict:
    data = s3.get_object(Bucket=bucket, Key=f"{{prefix}}/manifest-{n}.json")["Body"].read()
    manifest = json.loads(data)
    if manifest.get("count") != len(manifest.get("entries", [])):
        raise ValueError(f"manifest {{prefix}} is inconsistent")
    return manifest
""",
    """

def manifest_exists_{n}(bucket: str, prefix: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=f"{{prefix}}/manifest-{n}.json")
        return True
    except ClientError:
        return False
""",
    """

def list_partition_{n}(bucket: str, prefix: str) -> list[str]:
    keys = []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            keys.append(obj["Key"])
    return sorted(keys)
""",
    """

def ship_export_{n}(path: str, bucket: str, day: str) -> str:
    key = f"exports/{{day}}/part-{n}.parquet"
    s3.upload_file(path, bucket, key, ExtraArgs={{"ContentType": "application/octet-stream"}})
    log.debug("uploaded %s", key)
    return key


def fetch_export_{n}(bucket: str, day: str, target: str) -> None:
    s3.download_file(bucket, f"exports/{{day}}/part-{n}.parquet", target)
""",
    """

def retire_{n}(bucket: str, keys: list[str]) -> int:
    removed = 0
    for key in keys:
        if key.endswith(".tmp"):
            s3.delete_object(Bucket=bucket, Key=key)
            removed += 1
    return removed


def share_link_{n}(bucket: str, key: str) -> str:
    return s3.generate_presigned_url("get_object", Params={{"Bucket": bucket, "Key": key}}, ExpiresIn=3600)
""",
)


def generate(lines: int) -> str:
    """A module of at least `lines` lines, built from the blocks in turn."""
    parts = [HEADER]
    count, n = HEADER.count("\n"), 0
    while count < lines:
        block = BLOCKS[n % len(BLOCKS)].format(n=n)
        parts.append(block)
        count += block.count("\n")
        n += 1
    return "".join(parts)


# --- a workspace of many modules (--workspace-files) -----------------------------------------
# A package as applications lay one out: clients made in one module (`app/clients.py`, re-exported
# from `app/__init__.py`), a base hook class in another, and modules of four kinds in turn: plain
# code that imports other modules, code calling boto3 directly, code using the shared helper, and
# hooks inheriting `get_conn()`. One module in PLAIN_SHARE + 1 is plain; the rest use the SDK.

PLAIN_SHARE = 6  # of every 7 modules, 6 are plain code (about 15% touch the SDK, as in applications)
PACKAGE_SIZE = 40  # modules per subpackage

PACKAGE_INIT = """\
\"\"\"The application package: the storage helpers are re-exported here.\"\"\"

from .clients import get_s3, reports_bucket

__all__ = ["get_s3", "reports_bucket"]
"""

CLIENTS = """\
\"\"\"Where the application makes its storage clients.\"\"\"

import boto3

REPORTS_BUCKET = "acme-reports"


def get_s3():
    return boto3.client("s3", region_name="eu-west-1")


def reports_bucket() -> str:
    return REPORTS_BUCKET
"""

BASE_HOOK = """\
\"\"\"The base class every storage hook inherits its connection from.\"\"\"

import boto3


class BaseHook:
    def __init__(self, conn_id: str) -> None:
        self.conn_id = conn_id

    def get_conn(self):
        return boto3.client("s3")
"""

PLAIN = """\
\"\"\"Plain application code (module {n}).\"\"\"

from dataclasses import dataclass, field

from app.{other} import Record{m}, summarise_{m}


@dataclass
class Record{n}:
    name: str
    tags: list[str] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)

    def put(self, key: str, size: int) -> None:
        self.sizes[key] = size

    def get(self, key: str) -> int:
        return self.sizes.get(key, 0)

    def upload_file(self, path: str) -> str:
        return f"{{self.name}}:{{path}}"


def summarise_{n}(records: list[Record{n}]) -> dict[str, int]:
    totals: dict[str, int] = {{}}
    for record in records:
        for key, size in record.sizes.items():
            totals[key] = totals.get(key, 0) + size
    return totals


def merge_{n}(left: Record{m}, right: Record{n}) -> Record{n}:
    merged = Record{n}(right.name, [*right.tags])
    for key, size in summarise_{m}([left]).items():
        merged.put(key, size)
    return merged
"""

DIRECT = """\
\"\"\"Exports that talk to S3 directly (module {n}).\"\"\"

import json

import boto3

s3 = boto3.client("s3")


def publish_{n}(bucket: str, name: str, report: dict) -> None:
    body = json.dumps(report).encode("utf-8")
    s3.put_object(Bucket=bucket, Key=f"daily/{{name}}.json", Body=body)


def fetch_{n}(bucket: str, name: str) -> dict:
    return json.loads(s3.get_object(Bucket=bucket, Key=f"daily/{{name}}.json")["Body"].read())


def retire_{n}(bucket: str, name: str) -> None:
    s3.delete_object(Bucket=bucket, Key=f"daily/{{name}}.json")
"""

HELPER_USER = """\
\"\"\"Exports through the application's shared client (module {n}).\"\"\"

from app import get_s3, reports_bucket
from app.{other} import Record{m}


def ship_{n}(path: str, day: str) -> str:
    key = f"exports/{{day}}/part-{n}.parquet"
    get_s3().upload_file(path, reports_bucket(), key)
    return key


def fetch_{n}(day: str, target: str) -> None:
    client = get_s3()
    client.download_file(reports_bucket(), f"exports/{{day}}/part-{n}.parquet", target)


def record_{n}(name: str) -> Record{m}:
    return Record{m}(name)
"""

HOOK = """\
\"\"\"A storage hook for one team (module {n}).\"\"\"

from app.hooks.base import BaseHook


class Team{n}Hook(BaseHook):
    def upload(self, path: str, bucket: str, key: str) -> None:
        self.get_conn().upload_file(path, bucket, key)

    def exists(self, bucket: str, key: str) -> bool:
        conn = self.get_conn()
        conn.head_object(Bucket=bucket, Key=key)
        return True
"""

SDK_KINDS = (DIRECT, HELPER_USER, HOOK)


def workspace(folder: Path, files: int) -> list[Path]:
    """Write a workspace of `files` modules under `folder`; returns the modules that use the SDK."""
    app = folder / "app"
    (app / "hooks").mkdir(parents=True)
    fixed = {
        app / "__init__.py": PACKAGE_INIT,
        app / "clients.py": CLIENTS,
        app / "hooks" / "__init__.py": "",
        app / "hooks" / "base.py": BASE_HOOK,
    }
    for path, text in fixed.items():
        path.write_text(text, encoding="utf-8")
    sdk_users = []
    plain_modules: list[str] = []
    for n in range(files - len(fixed)):
        package = app / f"pkg{n // PACKAGE_SIZE:02d}"
        if not package.exists():
            package.mkdir()
            (package / "__init__.py").write_text("", encoding="utf-8")
        other = plain_modules[(n * 7) % len(plain_modules)] if plain_modules else None
        kind = PLAIN if n % (PLAIN_SHARE + 1) or other is None else SDK_KINDS[(n // (PLAIN_SHARE + 1)) % 3]
        path = package / f"mod{n}.py"
        imported = other or f"pkg{n // PACKAGE_SIZE:02d}.mod{n}"  # the first module imports itself
        path.write_text(kind.format(n=n, m=imported.rpartition("mod")[2], other=imported), encoding="utf-8")
        if kind is PLAIN:
            plain_modules.append(f"pkg{n // PACKAGE_SIZE:02d}.mod{n}")
        else:
            sdk_users.append(path)
    return sdk_users


class Client(LanguageClient):
    def __init__(self) -> None:
        super().__init__("cloudshift-benchmark", "1")
        self.arrived: dict[str, tuple[Callable[[types.PublishDiagnosticsParams], bool], asyncio.Future[Any]]] = {}

    def expect(self, uri: str, wanted: Callable[[types.PublishDiagnosticsParams], bool]) -> asyncio.Future[Any]:
        """The next diagnostics of `uri` that are `wanted`."""
        waiting: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.arrived[uri] = (wanted, waiting)
        return waiting


def make_client() -> Client:
    client = Client()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def diagnostics(ls: Client, params: types.PublishDiagnosticsParams) -> None:
        wanted, waiting = ls.arrived.get(params.uri, (None, None))
        if wanted is not None and waiting is not None and not waiting.done() and wanted(params):
            waiting.set_result((time.perf_counter(), len(params.diagnostics)))

    return client


@asynccontextmanager
async def server(folder: Path) -> AsyncIterator[Client]:
    """`python -m cloudshift lsp` over stdio, initialised on `folder` by a client that resolves code actions lazily."""
    client = make_client()
    await client.start_io(sys.executable, "-m", "cloudshift", "lsp", cwd=str(REPO))
    capabilities = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            code_action=types.CodeActionClientCapabilities(
                resolve_support=types.ClientCodeActionResolveOptions(properties=["edit"])
            )
        )
    )
    folders = [types.WorkspaceFolder(uri=folder.as_uri(), name=folder.name)]
    await client.initialize_async(
        types.InitializeParams(capabilities=capabilities, root_uri=folder.as_uri(), workspace_folders=folders)
    )
    client.initialized(types.InitializedParams())
    try:
        yield client
    finally:
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()


async def timed(
    client: Client, uri: str, send: Any, version: int | None = 1, count: int | None = None
) -> tuple[float, int]:
    """Seconds from `send()` to the diagnostics of `uri` (of `version`, `count` of them), and how many there were."""
    arrived = client.expect(uri, lambda p: version in (None, p.version) and count in (None, len(p.diagnostics)))
    start = time.perf_counter()
    send()
    at, count = await arrived
    return at - start, count


def open_document(client: Client, uri: str, text: str) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        )
    )


def change(client: Client, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


def edit_and_save(client: Client, uri: str, version: int, text: str) -> None:
    """An edit saved at once: the save starts the analysis without waiting for a typing pause."""
    change(client, uri, version, text)
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))


def edited(text: str, marker: str, round_: int) -> str:
    """The text with its first `marker` changed (a suffix added), as a user would edit it."""
    return text.replace(marker, f"{marker}_r{round_}", 1)


@dataclass
class Document:
    uri: str
    text: str  # as opened: each edit changes one marker in it
    version: int = 1


async def edit_rounds(client: Client, document: Document, marker: str, edits: int, what: str = "edit") -> str:
    """Time `edits` typed edits of `marker` and as many saved ones; prints them and returns the last text."""
    typing, saving = [], []
    uri, text, version, current = document.uri, document.text, document.version, document.text
    for round_ in range(edits):
        version += 1
        current = edited(text, marker, 2 * round_)
        typing.append((await timed(client, uri, partial(change, client, uri, version, current), version))[0])
        version += 1
        current = edited(text, marker, 2 * round_ + 1)
        saving.append((await timed(client, uri, partial(edit_and_save, client, uri, version, current), version))[0])
    document.version = version
    show(f"{what} -> diagnostics (typing pause)", typing)
    show("  the same, after the pause", [seconds - DEBOUNCE_SECONDS for seconds in typing])
    show(f"{what} + save -> diagnostics", saving)
    return current


async def code_action_seconds(client: Client, uri: str, line: int, only: list[str]) -> float:
    start = time.perf_counter()
    end = types.Position(line=line, character=200)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line=line, character=0), end=end),
            context=types.CodeActionContext(diagnostics=[], only=only),
        )
    )
    fix = next(a for a in actions or [] if isinstance(a, types.CodeAction) and a.data is not None)
    resolved = await client.code_action_resolve_async(fix)
    assert resolved.edit is not None, "the fix came back without an edit"
    return time.perf_counter() - start


def show(label: str, seconds: list[float]) -> None:
    if len(seconds) == 1:
        print(f"{label:<42} {seconds[0] * 1000:8.0f} ms")
        return
    print(
        f"{label:<42} median {statistics.median(seconds) * 1000:6.0f} ms   "
        f"min {min(seconds) * 1000:6.0f} ms   max {max(seconds) * 1000:6.0f} ms   (n={len(seconds)})"
    )


async def run_file(lines: int, edits: int) -> None:
    """One large module: diagnostics after edits, then a quick fix and fix-all on it."""
    text = generate(lines)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "jobs.py"
        path.write_text(text, encoding="utf-8")
        uri = path.as_uri()
        async with server(Path(folder)) as client:
            opened, findings = await timed(client, uri, partial(open_document, client, uri, text))
            print(f"file: {text.count(chr(10))} lines, {findings} findings")
            show("open -> diagnostics (cold)", [opened])
            current = await edit_rounds(client, Document(uri, text), 'f"{prefix}/manifest-1', edits)
            line = next(i for i, source in enumerate(current.splitlines()) if "s3.get_object" in source)
            show("quick fix (actions + resolve)", [await code_action_seconds(client, uri, line, ["quickfix"])])
            show("fix all (actions + resolve)", [await code_action_seconds(client, uri, 0, ["source.fixAll"])])


async def run_workspace(files: int, edits: int) -> None:
    """A workspace of many modules: diagnostics after edits to one, and after an edit to the shared helper."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        users = workspace(root, files)
        print(f"workspace: {files} modules, {len(users)} of them use the SDK")
        async with server(root) as client:
            path = next(p for p in users if "get_s3" in p.read_text(encoding="utf-8"))
            text, uri = path.read_text(encoding="utf-8"), path.as_uri()
            opened, findings = await timed(client, uri, partial(open_document, client, uri, text))
            print(f"edited module: {path.relative_to(root)}, {text.count(chr(10))} lines, {findings} findings")
            show("open -> diagnostics (cold, loads all)", [opened])
            document = Document(uri, text)
            await edit_rounds(client, document, "part-", edits)
            await edit_rounds(client, document, "reports_bucket", edits, "import edit")  # candidates worked out again
            await helper_rounds(client, root / "app" / "clients.py", uri, findings, edits)


async def helper_rounds(client: Client, helper: Path, user: str, findings: int, edits: int) -> None:
    """Edit the helper so it stops returning an SDK client and back: time until the open user's diagnostics follow."""
    text, uri = helper.read_text(encoding="utf-8"), helper.as_uri()
    await timed(client, uri, partial(open_document, client, uri, text))
    broken = text.replace('return boto3.client("s3", region_name="eu-west-1")', "return {}")
    seconds = []
    for version in range(2, edits + 2):
        current, expected = (broken, 0) if version % 2 == 0 else (text, findings)
        send = partial(change, client, uri, version, current)
        seconds.append((await timed(client, user, send, version=None, count=expected))[0])
    show("helper edit -> user's diagnostics", seconds)
    show("  the same, after the pause", [s - DEBOUNCE_SECONDS for s in seconds])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=2000, help="size of the generated module")
    parser.add_argument("--edits", type=int, default=9, help="edits to time (the median is printed)")
    parser.add_argument(
        "--workspace-files", type=int, default=0, help="instead: a workspace of this many modules (e.g. 2000)"
    )
    args = parser.parse_args()
    if args.workspace_files:
        asyncio.run(run_workspace(args.workspace_files, args.edits))
    else:
        asyncio.run(run_file(args.lines, args.edits))


if __name__ == "__main__":
    main()
