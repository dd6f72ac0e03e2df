"""The language server end to end: real `python -m cloudshift lsp` over stdio, real engine, real buffers."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from concurrent.futures import Future
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcMethodNotFound

from tests.lsp.conftest import REPO, RecordingClient
from tests.lsp.samples import HALF_TYPED, MODEL_CACHE, REPORTS, line_of

pytestmark = pytest.mark.asyncio

FIX_ALL = "source.fixAll.cloudshift"
PROFILE_FILE = "cloudshift-storage.toml"


def cli_fix(path: Path, text: str) -> str:
    """What `cloudshift fix` writes for this text at this path."""
    path.write_text(text, encoding="utf-8")
    subprocess.run([sys.executable, "-m", "cloudshift", "fix", str(path)], cwd=REPO, capture_output=True, check=False)
    return path.read_text(encoding="utf-8")


def cli_scan(path: Path) -> dict[int, str]:
    """What `cloudshift scan` finds in a file: rule by 0-based line."""
    done = subprocess.run(
        [sys.executable, "-m", "cloudshift", "scan", "--format", "json", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    return {finding["line"] - 1: finding["rule"] for finding in json.loads(done.stdout)["findings"]}


def by_line(diagnostics: list[types.Diagnostic]) -> dict[int, str]:
    return {d.range.start.line: str(d.code) for d in diagnostics}


def titled(actions: list[types.CodeAction], start: str) -> list[types.CodeAction]:
    return [action for action in actions if action.title.startswith(start)]


async def test_diagnostics_name_rule_safety_and_reason(client: RecordingClient, project: Path) -> None:
    uri = client.open(_write(project, "reports.py", REPORTS))
    diagnostics = await client.diagnostics_for(uri)
    assert by_line(diagnostics) == {
        line_of(REPORTS, 's3.put_object(Bucket=REPORT_BUCKET, Key=f"daily'): "aws-s3-put-object",
        line_of(REPORTS, "ServerSideEncryption"): "aws-s3-put-object",
        line_of(REPORTS, "s3.get_object"): "aws-s3-get-object",
        line_of(REPORTS, "s3.upload_file"): "aws-s3-upload-file",
        line_of(REPORTS, "s3.delete_objects"): "aws-s3-delete-objects",
        line_of(REPORTS, "s3.delete_object("): "aws-s3-delete-object",
    }
    assert {d.source for d in diagnostics} == {"cloudshift"}
    assert {d.severity for d in diagnostics} == {types.DiagnosticSeverity.Warning}
    messages = {d.range.start.line: d.message for d in diagnostics}
    assert messages[line_of(REPORTS, "s3.delete_object(")].endswith("(fix: safe)")
    assert "fix: unsafe: server-side encryption" in messages[line_of(REPORTS, "ServerSideEncryption")]
    assert "fix: manual: batch deletes have no shim equivalent" in messages[line_of(REPORTS, "s3.delete_objects")]
    line = line_of(REPORTS, 'daily/{name}.json", Body')
    put = next(d for d in diagnostics if d.range.start.line == line)
    assert (put.range.start.character, put.range.end.line, put.range.end.character) == (
        4,
        line,
        len(REPORTS.splitlines()[line]),
    )


async def test_diagnostics_clear_after_quick_fixes(client: RecordingClient, project: Path) -> None:
    uri = client.open(_write(project, "cache.py", MODEL_CACHE))
    assert len(await client.diagnostics_for(uri)) == 3
    line = line_of(MODEL_CACHE, "s3.download_file")
    (fix,) = titled(await client.actions_at(uri, line), "Rewrite onto storage_shim")
    assert fix.title == "Rewrite onto storage_shim (aws-s3-download-file)" and fix.is_preferred
    text = await client.apply(uri, fix)
    assert 'create_storage_client(bucket, storage_profile="s3").download(f"models/{team}/model.pkl", target)' in text
    assert "from storage_shim import create_storage_client" in text
    assert sorted(by_line(await client.diagnostics_for(uri)).values()) == ["aws-s3-get-object", "aws-s3-upload-file"]
    while diagnostics := await client.diagnostics_for(uri):
        (fix,) = titled(await client.actions_at(uri, diagnostics[0].range.start.line), "Rewrite onto storage_shim")
        await client.apply(uri, fix)
    assert "boto3" not in client.texts[uri]


async def test_quick_fixes_give_the_text_cloudshift_fix_gives(
    editor_client: RecordingClient, project: Path, tmp_path: Path
) -> None:
    """Fixing one finding at a time in the editor ends where `cloudshift fix` does, in every position encoding,
    storage profiles included: the code the fixes write names them."""
    for name, source in (("cache.py", MODEL_CACHE), ("reports.py", REPORTS)):
        uri = editor_client.open(_write(project, name, source))
        while True:
            diagnostics = await editor_client.diagnostics_for(uri)
            safe = [d for d in diagnostics if d.message.endswith("(fix: safe)")]
            if not safe:
                break
            actions = await editor_client.actions_at(uri, safe[0].range.start.line, only=["quickfix"])
            (fix,) = titled(actions, "Rewrite onto storage_shim")
            await editor_client.apply(uri, fix)
        assert editor_client.texts[uri] == cli_fix(tmp_path / name, source)
    written = (project / PROFILE_FILE).read_text(encoding="utf-8")
    assert written == (tmp_path / PROFILE_FILE).read_text(encoding="utf-8")
    assert "[profiles.s3]" in written


async def test_fix_all_gives_the_text_cloudshift_fix_gives(
    editor_client: RecordingClient, project: Path, tmp_path: Path
) -> None:
    uri = editor_client.open(_write(project, "reports.py", REPORTS))
    await editor_client.diagnostics_for(uri)
    (fix_all,) = await editor_client.actions_at(uri, 0, only=["source.fixAll"])
    assert fix_all.kind == FIX_ALL
    text = await editor_client.apply(uri, fix_all)
    assert text == cli_fix(tmp_path / "reports.py", REPORTS)
    assert by_line(await editor_client.diagnostics_for(uri)) == cli_scan(tmp_path / "reports.py")


async def test_unsafe_fix_is_labelled_and_manual_has_none(client: RecordingClient, project: Path) -> None:
    uri = client.open(_write(project, "reports.py", REPORTS))
    await client.diagnostics_for(uri)
    unsafe = await client.actions_at(uri, line_of(REPORTS, "ServerSideEncryption"))
    (fix,) = titled(unsafe, "Rewrite onto storage_shim")
    assert fix.title == (
        "Rewrite onto storage_shim (aws-s3-put-object) (unsafe: server-side encryption is left to the bucket's default)"
    )
    assert not fix.is_preferred
    text = await client.apply(uri, fix)
    assert 'create_storage_client(REPORT_BUCKET, storage_profile="s3").put(f"secure/{name}.json", body)' in text
    manual = await client.actions_at(uri, line_of(text, "s3.delete_objects"), only=["quickfix"])
    assert [action.title for action in manual] == ["Ignore aws-s3-delete-objects on this line"]


async def test_half_typed_buffer(client: RecordingClient, project: Path) -> None:
    """Complete calls around a half-written one are reported, marked partial, with no fix offered."""
    uri = client.open(_write(project, "jobs.py", "import boto3\n"))
    await client.diagnostics_for(uri)
    version = client.replace_text(uri, HALF_TYPED)
    diagnostics = await client.diagnostics_for(uri, version)
    assert by_line(diagnostics) == {
        line_of(HALF_TYPED, "s3.put_object"): "aws-s3-put-object",
        line_of(HALF_TYPED, "s3.delete_object"): "aws-s3-delete-object",
    }
    assert all("found without full resolution" in d.message and "no fix is offered" in d.message for d in diagnostics)
    actions = await client.actions_at(uri, line_of(HALF_TYPED, "s3.put_object"))
    assert [action.title for action in actions] == ["Ignore aws-s3-put-object on this line"]
    assert await client.actions_at(uri, 0, only=["source.fixAll"]) == []


async def test_suppression_comment_hides_the_diagnostic(client: RecordingClient, project: Path) -> None:
    retire = 'Key=f"daily/{name}.json")\n'
    source = REPORTS.replace(retire, retire.replace("\n", "  # cloudshift: ignore[aws-s3-delete-object]\n"))
    uri = client.open(_write(project, "reports.py", source))
    rules = by_line(await client.diagnostics_for(uri))
    assert "aws-s3-delete-object" not in rules.values() and len(rules) == 5


async def test_ignore_action_inserts_and_extends_the_comment(client: RecordingClient, project: Path) -> None:
    published = 'ContentType="application/json")'
    source = REPORTS.replace(published, f"{published}  # cloudshift: ignore[aws-s3-get-object]")
    uri = client.open(_write(project, "reports.py", source))
    await client.diagnostics_for(uri)
    retire = line_of(source, "s3.delete_object(")
    (ignore,) = titled(await client.actions_at(uri, retire), "Ignore")
    assert ignore.title == "Ignore aws-s3-delete-object on this line"
    text = await client.apply(uri, ignore)
    assert text.splitlines()[retire] == (
        '    s3.delete_object(Bucket=REPORT_BUCKET, Key=f"daily/{name}.json")'
        "  # cloudshift: ignore[aws-s3-delete-object]"
    )
    publish = line_of(source, "cloudshift: ignore[aws-s3-get-object]")
    (ignore,) = titled(await client.actions_at(uri, publish), "Ignore")
    text = await client.apply(uri, ignore)
    assert text.splitlines()[publish].endswith("# cloudshift: ignore[aws-s3-get-object, aws-s3-put-object]")
    remaining = by_line(await client.diagnostics_for(uri))
    assert retire not in remaining and publish not in remaining and len(remaining) == 4


async def test_config_from_the_nearest_pyproject(client: RecordingClient, project: Path) -> None:
    service = project / "service"
    service.mkdir()
    config = service / "pyproject.toml"
    config.write_text('[tool.cloudshift]\nignore = ["aws-s3-put-object"]\nextend-exclude = ["generated/"]\n')
    uri = client.open(_write(service, "reports.py", REPORTS))
    assert sorted(set(by_line(await client.diagnostics_for(uri)).values())) == [
        "aws-s3-delete-object",
        "aws-s3-delete-objects",
        "aws-s3-get-object",
        "aws-s3-upload-file",
    ]
    (service / "generated").mkdir()
    generated = client.open(_write(service / "generated", "client.py", REPORTS))
    assert await client.diagnostics_for(generated) == []

    config.write_text('[tool.cloudshift]\nselect = ["aws-s3-put-object"]\n')
    (registration,) = client.registrations  # VS Code lets the server watch pyproject.toml files
    assert registration.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
    assert registration.register_options["watchers"] == [
        {"globPattern": "**/pyproject.toml"},
        {"globPattern": "**/*.py"},
    ]
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=config.as_uri(), type=types.FileChangeType.Changed)]
        )
    )
    await client.wait_until(lambda: set(by_line(client.diagnostics.get(uri, [])).values()) == {"aws-s3-put-object"})
    await client.wait_until(lambda: len(client.diagnostics.get(generated, [])) == 2)


async def test_new_pyproject_is_found_after_the_watcher_reports_it(client: RecordingClient, project: Path) -> None:
    uri = client.open(_write(project, "reports.py", REPORTS))
    assert len(await client.diagnostics_for(uri)) == 6
    config = project / "pyproject.toml"
    config.write_text('[tool.cloudshift]\nignore = ["aws"]\n')
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=config.as_uri(), type=types.FileChangeType.Created)]
        )
    )
    await client.wait_until(lambda: client.diagnostics.get(uri) is not None and not client.diagnostics[uri])


async def test_untitled_buffers_are_checked_and_other_languages_are_not(client: RecordingClient) -> None:
    notes = "untitled:Untitled-2"
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=notes, language_id="markdown", version=1, text=REPORTS)
        )
    )
    untitled = "untitled:Untitled-1"
    client.versions[untitled], client.texts[untitled] = 1, REPORTS
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=untitled, language_id="python", version=1, text=REPORTS)
        )
    )
    assert len(await client.diagnostics_for(untitled)) == 6
    assert [p.uri for p in client.published] == [untitled]
    actions = await client.actions_at(untitled, line_of(REPORTS, "s3.get_object"), ["quickfix"])
    assert [action.title for action in actions] == [
        "Rewrite onto storage_shim (aws-s3-get-object)",
        "Ignore aws-s3-get-object on this line",
    ]


async def test_bad_configuration_is_reported_on_the_document(client: RecordingClient, project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.cloudshift]\nselect = "aws"\n')
    uri = client.open(_write(project, "reports.py", REPORTS))
    (problem,) = await client.diagnostics_for(uri)
    assert problem.severity == types.DiagnosticSeverity.Error
    assert "pyproject.toml:2" in problem.message and "must be a list of strings" in problem.message


async def test_close_clears_diagnostics(client: RecordingClient, project: Path) -> None:
    uri = client.open(_write(project, "reports.py", REPORTS))
    assert await client.diagnostics_for(uri)
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri)))
    await client.wait_until(lambda: client.published[-1].uri == uri and not client.published[-1].diagnostics)


async def test_typing_is_debounced_and_the_latest_text_wins(client: RecordingClient, project: Path) -> None:
    uri = client.open(_write(project, "reports.py", "import boto3\n"))
    await client.diagnostics_for(uri)
    body = REPORTS.split("def publish(")[0]
    for name in ("alpha", "beta", "gamma", "delta"):
        client.replace_text(uri, body + f's3.delete_object(Bucket="b", Key="{name}")\n')
    final = client.replace_text(uri, REPORTS)
    assert len(await client.diagnostics_for(uri, final)) == 6
    await asyncio.sleep(1.0)
    assert client.published[-1].version == final
    assert all(p.version in (1, final) for p in client.published if p.uri == uri)


async def test_huge_buffer_gets_one_notice(client: RecordingClient, project: Path) -> None:
    huge = REPORTS + "\n".join(f"# padding line {n:07d} " + "x" * 60 for n in range(30_000)) + "\n"
    uri = client.open(_write(project, "huge.py", "import boto3\n"), huge)
    (notice,) = await client.diagnostics_for(uri)
    assert notice.severity == types.DiagnosticSeverity.Information
    assert "does not analyse buffers over 2M characters" in notice.message
    assert await client.actions_at(uri, line_of(REPORTS, "s3.get_object")) == []


async def test_nesting_deeper_than_python_allows_costs_no_crash(client: RecordingClient, project: Path) -> None:
    """LibCST's native parser overflows its stack on code nested thousands deep; the engine never lets it see
    such code, so the complete calls around it are still reported (found without full resolution)."""
    uri = client.open(_write(project, "reports.py", REPORTS))
    assert len(await client.diagnostics_for(uri)) == 6
    version = client.replace_text(uri, REPORTS + "nested = " + "(" * 5000 + "1" + ")" * 5000 + "\n")
    diagnostics = await client.diagnostics_for(uri, version)
    assert len(diagnostics) == 6
    assert all("without full resolution" in d.message for d in diagnostics)
    client.replace_text(uri, REPORTS.replace("def retire(", "def retire_soon("))
    assert len(await client.diagnostics_for(uri)) == 6


async def test_malformed_and_unknown_requests_get_errors_and_the_server_keeps_serving(
    client: RecordingClient, project: Path
) -> None:
    with pytest.raises(JsonRpcInvalidParams):
        await raw_request(client, types.TEXT_DOCUMENT_CODE_ACTION, {"textDocument": 42})
    client.protocol.writer.write(b"Content-Length: 9\r\n\r\n{not json")
    with pytest.raises(JsonRpcMethodNotFound):
        await client.protocol.send_request_async("cloudshift/noSuchMethod", {})
    never_opened = (project / "never.py").as_uri()
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=never_opened),
            range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    assert result is None
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=never_opened, version=3),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="import boto3\n")],
        )
    )
    client.protocol._send_data(
        {"jsonrpc": "2.0", "method": types.TEXT_DOCUMENT_DID_OPEN, "params": {"textDocument": {"uri": 7}}}
    )
    unknown = types.CodeAction(title="not ours", data={"uri": never_opened, "span": "nonsense"})
    assert (await client.code_action_resolve_async(unknown)).edit is None

    uri = client.open(_write(project, "reports.py", REPORTS))
    assert len(await client.diagnostics_for(uri)) == 6


async def raw_request(client: RecordingClient, method: str, params: object) -> object:
    """Send a request exactly as given, bypassing the client's own (typed) serialisation."""
    future: Future[object] = Future()
    request_id = f"raw-{id(future)}"
    client.protocol._request_futures[request_id] = future
    client.protocol._send_data({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
    return await asyncio.wrap_future(future)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


async def test_the_profiles_command_writes_nothing_but_a_profile_file(client: RecordingClient, project: Path) -> None:
    entries = [{"name": "s3-eu-west-1", "settings": {"provider": "s3", "region": "eu-west-1"}}]
    for target in (project / "settings.py", project / PROFILE_FILE):
        params = types.ExecuteCommandParams(command="cloudshift.writeStorageProfiles", arguments=[str(target), entries])
        await client.workspace_execute_command_async(params)
    assert not (project / "settings.py").exists()
    written = (project / PROFILE_FILE).read_text(encoding="utf-8")
    assert written == '[profiles.s3-eu-west-1]\nprovider = "s3"\nregion = "eu-west-1"\n'
