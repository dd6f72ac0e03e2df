"""The proof harness itself: it must notice differences, failures and what URLs really do.

A harness that compares too little proves nothing, so its parts are checked here against
moto and Azurite with small programs written for each test.
"""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pytest

from storage_shim.profiles import CONFIG_NAME
from tests.proof.runner import (
    PUT_BYTES,
    RunSpec,
    SideFailed,
    fix_profiles,
    local_files,
    observed_result,
    run_side,
    side_environment,
    unsafe_fix_admits,
)
from tests.proof.stores import (
    AzureStore,
    OciStore,
    S3Store,
    prepare,
    reset,
    snapshot,
    snapshot_differences,
    stored,
)
from tests.servers import Emulator

SEED = {"harness/a.txt": b"alpha", "harness/b.txt": b"bravo"}


def _program(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "program.py"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    (tmp_path / "work").mkdir()
    return path


def _run(tmp_path: Path, emulator: Emulator, body: str) -> object:
    program = _program(tmp_path, body)
    return run_side(program, side_environment(emulator), tmp_path / "work")


def test_a_side_returns_the_json_of_main(s3_server: Emulator, tmp_path: Path) -> None:
    prepare(S3Store(s3_server), ["harness"], SEED)
    value = _run(
        tmp_path,
        s3_server,
        """
        import boto3

        def main():
            body = boto3.client("s3").get_object(Bucket="harness", Key="a.txt")["Body"].read()
            return {"text": body.decode(), "sizes": (1, 2)}
    """,
    )
    assert value == {"text": "alpha", "sizes": [1, 2]}


def test_a_failing_side_fails_with_its_stderr(s3_server: Emulator, tmp_path: Path) -> None:
    with pytest.raises(SideFailed, match="NoSuchKey"):
        _run(
            tmp_path,
            s3_server,
            """
            import boto3

            def main():
                return boto3.client("s3").get_object(Bucket="harness", Key="missing")
        """,
        )


def test_no_side_gets_shim_configuration_from_the_environment(
    s3_server: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_PROVIDER", "s3")
    monkeypatch.setenv("STORAGE_SHIM_CONFIG", "none")
    env = side_environment(s3_server)
    assert "STORAGE_PROVIDER" not in env and "STORAGE_SHIM_CONFIG" not in env
    assert env["AWS_ENDPOINT_URL"] == s3_server.endpoint


def test_the_shim_side_is_configured_by_the_profiles_the_fix_writes(tmp_path: Path) -> None:
    source = tmp_path / "input.py"
    source.write_text(
        'import boto3\n\ns3 = boto3.client("s3", region_name="eu-west-1")\n\n'
        'def main():\n    s3.delete_object(Bucket="b", Key="k")\n'
    )
    fix_profiles(source, tmp_path)
    assert (tmp_path / CONFIG_NAME).read_text() == (
        '[profiles.s3-eu-west-1]\nprovider = "s3"\nregion = "eu-west-1"\ncontent_type = "binary/octet-stream"\n'
    )
    assert CONFIG_NAME not in local_files(tmp_path)


def test_a_get_url_result_is_what_the_url_serves(s3_server: Emulator, tmp_path: Path) -> None:
    prepare(S3Store(s3_server), ["harness"], SEED)
    url = _run(
        tmp_path,
        s3_server,
        """
        import boto3

        def main():
            params = {"Bucket": "harness", "Key": "b.txt"}
            return boto3.client("s3").generate_presigned_url("get_object", Params=params)
    """,
    )
    spec = RunSpec(buckets=("harness",), result="url-get")
    assert observed_result(spec, url, s3_server) == {"GET": 200, "body": "bravo"}


def test_an_oci_url_built_by_sdk_code_is_fetched_through_the_test_servers_proxy(
    oci_server: Emulator, tmp_path: Path
) -> None:
    prepare(OciStore(oci_server), ["harness"], SEED)
    url = _run(
        tmp_path,
        oci_server,
        """
        from datetime import datetime, timedelta, timezone

        import oci

        def main():
            config = oci.config.from_file()
            client = oci.object_storage.ObjectStorageClient(config)
            namespace = client.get_namespace().data
            details = oci.object_storage.models.CreatePreauthenticatedRequestDetails(
                name="share", object_name="a.txt", access_type="ObjectRead",
                time_expires=datetime.now(timezone.utc) + timedelta(hours=1),
            )
            par = client.create_preauthenticated_request(namespace, "harness", details).data
            host = f"https://objectstorage.{config['region']}.oraclecloud.com"
            return host + par.access_uri
    """,
    )
    assert url.startswith("https://objectstorage.")
    spec = RunSpec(buckets=("harness",), result="url-get")
    assert observed_result(spec, url, oci_server) == {"GET": 200, "body": "alpha"}


def test_a_url_that_does_not_work_fails_the_side(s3_server: Emulator) -> None:
    spec = RunSpec(buckets=("harness",), result="url-get")
    with pytest.raises(SideFailed, match="404"):
        observed_result(spec, f"{s3_server.endpoint}/harness/no-such-key.txt", s3_server)


def test_a_put_url_result_stores_the_harness_bytes_with_the_providers_headers(
    azure_server: Emulator, tmp_path: Path
) -> None:
    store = AzureStore(azure_server)
    prepare(store, ["harness"], {})
    url = _run(
        tmp_path,
        azure_server,
        """
        from storage_shim import create_storage_client

        def main():
            return create_storage_client("harness", "azure").get_presigned_url("in/x.bin", method="PUT")
    """,
    )
    spec = RunSpec(buckets=("harness",), result="url-put")
    assert observed_result(spec, url, azure_server) == {"PUT": 201}
    uploaded = snapshot(store, ["harness"])["harness/in/x.bin"]
    assert uploaded.sha256 == hashlib.sha256(PUT_BYTES).hexdigest()


def test_reset_puts_back_exactly_the_seed(s3_server: Emulator) -> None:
    store = S3Store(s3_server)
    prepare(store, ["harness"], SEED)
    seeded = snapshot(store, ["harness"])
    store.client.delete_object(Bucket="harness", Key="a.txt")
    store.client.put_object(Bucket="harness", Key="b.txt", Body=b"bravo", ContentType="text/csv")
    store.client.put_object(Bucket="harness", Key="new.txt", Body=b"extra")
    reset(store, snapshot(store, ["harness"]), SEED)
    assert snapshot(store, ["harness"]) == seeded


def test_differences_name_the_object_and_the_field() -> None:
    sdk = {"b/k": stored(b"x", "text/plain", {"a": "1"}), "b/gone": stored(b"", None, {})}
    shim = {"b/k": stored(b"x", "application/octet-stream", {"a": "1"})}
    assert snapshot_differences(sdk, shim, ()) == [
        "b/gone: only after the SDK run",
        "b/k: content_type sdk='text/plain' shim='application/octet-stream'",
    ]
    assert snapshot_differences({"b/k": sdk["b/k"]}, shim, ("content_type",)) == []


def test_run_json_keys_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text('{"buckets": ["b"], "result": "url-post"}', encoding="utf-8")
    with pytest.raises(ValueError, match="result must be one of"):
        RunSpec.load(path)
    path.write_text('{"buckets": ["b"], "objects": {"other/k": "x"}}', encoding="utf-8")
    with pytest.raises(ValueError, match="not in a listed bucket"):
        RunSpec.load(path)
    path.write_text('{"buckets": ["b"], "many_keys": 2, "many_prefix": "logs/"}', encoding="utf-8")
    assert RunSpec.load(path).seed() == {
        "b/logs/00000": b"object 0\n",
        "b/logs/00001": b"object 1\n",
    }


def test_ignoring_content_types_needs_an_unsafe_fix_that_says_so(tmp_path: Path) -> None:
    source = tmp_path / "input.py"
    source.write_text(
        textwrap.dedent("""
            from google.cloud import storage

            def main():
                blob = storage.Client().bucket("b").blob("table.csv")
                blob.upload_from_filename("table.csv")
                storage.Client().bucket("b").blob("n.txt").upload_from_string("n")
        """),
        encoding="utf-8",
    )
    assert unsafe_fix_admits(source, "gcs-blob-upload-from-filename", "content type")
    assert not unsafe_fix_admits(source, "gcs-blob-upload-from-string", "content type")
