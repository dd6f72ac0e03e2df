"""The OCI Object Storage test server, exercised through the real `oci` SDK over HTTP.

These tests pin the server to the behaviour of Oracle's REST API that the shim relies on, so a
green OCI conformance run means something.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import oci
import pytest
import requests
from oci.object_storage.models import (
    CopyObjectDetails,
    CreateBucketDetails,
    CreatePreauthenticatedRequestDetails,
    RenameObjectDetails,
)

from tests.servers import Emulator
from tests.servers.oci import TENANCY, create_bucket, emulator_for, sdk_client
from tests.servers.oci_object_storage import DEFAULT_NAMESPACE, running_server

NAMESPACE = DEFAULT_NAMESPACE


@pytest.fixture
def client(oci_server: Emulator) -> Any:
    return sdk_client(oci_server.env)


@pytest.fixture
def bucket(oci_server: Emulator) -> str:
    name = f"test-{uuid.uuid4().hex[:12]}"
    create_bucket(oci_server, name)
    return name


def service_error(call: Any, *args: Any, **kwargs: Any) -> oci.exceptions.ServiceError:
    with pytest.raises(oci.exceptions.ServiceError) as caught:
        call(*args, **kwargs)
    return caught.value


def create_par(client: Any, bucket: str, object_name: str, access_type: str, lifetime: timedelta) -> Any:
    details = CreatePreauthenticatedRequestDetails(
        name=f"par-{uuid.uuid4().hex[:8]}",
        access_type=access_type,
        object_name=object_name,
        time_expires=datetime.now(timezone.utc) + lifetime,
    )
    return client.create_preauthenticated_request(NAMESPACE, bucket, details).data


def copy_details(source: str, bucket: str, destination: str) -> CopyObjectDetails:
    return CopyObjectDetails(
        source_object_name=source,
        destination_region="us-ashburn-1",
        destination_namespace=NAMESPACE,
        destination_bucket=bucket,
        destination_object_name=destination,
    )


def test_namespace_is_answered(client: Any) -> None:
    assert client.get_namespace().data == NAMESPACE


def test_bucket_create_get_head_and_conflict(client: Any, oci_server: Emulator) -> None:
    name = f"test-{uuid.uuid4().hex[:12]}"
    created = client.create_bucket(NAMESPACE, CreateBucketDetails(name=name, compartment_id=TENANCY)).data
    assert (created.name, created.namespace, created.compartment_id) == (name, NAMESPACE, TENANCY)
    assert client.get_bucket(NAMESPACE, name).data.etag == created.etag
    assert client.head_bucket(NAMESPACE, name).status == 200
    conflict = service_error(client.create_bucket, NAMESPACE, CreateBucketDetails(name=name, compartment_id=TENANCY))
    assert (conflict.status, conflict.code) == (409, "BucketAlreadyExists")
    missing = service_error(client.get_bucket, NAMESPACE, "no-such-bucket")
    assert (missing.status, missing.code) == (404, "BucketNotFound")


def test_put_get_head_round_trip_content_type_metadata_and_etag(client: Any, bucket: str) -> None:
    key = "nested/dir/a key ü.txt"
    put = client.put_object(NAMESPACE, bucket, key, b"hello", content_type="text/plain", opc_meta={"Owner": "team-a"})
    expected_md5 = base64.b64encode(hashlib.md5(b"hello").digest()).decode()
    assert put.headers["opc-content-md5"] == expected_md5
    got = client.get_object(NAMESPACE, bucket, key)
    assert got.data.content == b"hello"
    head = client.head_object(NAMESPACE, bucket, key)
    for response in (got, head):
        assert response.headers["Content-Type"] == "text/plain"
        assert response.headers["Content-Length"] == "5"
        assert response.headers["ETag"] == put.headers["ETag"]
        assert response.headers["opc-meta-owner"] == "team-a"
        assert response.headers["Content-MD5"] == expected_md5
        assert "GMT" in response.headers["Last-Modified"]


def test_overwrite_changes_etag_and_content_type_is_whatever_was_sent(
    client: Any, bucket: str, oci_server: Emulator
) -> None:
    first = client.put_object(NAMESPACE, bucket, "k", b"one", content_type="text/plain").headers["ETag"]
    second = client.put_object(NAMESPACE, bucket, "k", io.BytesIO(b"two")).headers["ETag"]
    assert first != second
    # The SDK's signer fills in a Content-Type: octet-stream for file bodies, JSON for bytes.
    assert client.head_object(NAMESPACE, bucket, "k").headers["Content-Type"] == "application/octet-stream"
    assert client.get_object(NAMESPACE, bucket, "k").data.content == b"two"
    client.put_object(NAMESPACE, bucket, "k", b"three")
    assert client.head_object(NAMESPACE, bucket, "k").headers["Content-Type"] == "application/json"
    par = create_par(client, bucket, "k", "ObjectWrite", timedelta(minutes=1))
    requests.put(oci_server.endpoint + par.access_uri, data=b"four", timeout=10).raise_for_status()
    assert client.head_object(NAMESPACE, bucket, "k").headers["Content-Type"] == "application/octet-stream"


def test_missing_object_and_bucket_are_404_with_oci_codes(client: Any, bucket: str) -> None:
    missing = service_error(client.get_object, NAMESPACE, bucket, "absent")
    assert (missing.status, missing.code) == (404, "ObjectNotFound")
    assert service_error(client.head_object, NAMESPACE, bucket, "absent").status == 404
    no_bucket = service_error(client.put_object, NAMESPACE, "no-such-bucket", "k", b"x")
    assert (no_bucket.status, no_bucket.code) == (404, "BucketNotFound")
    wrong_namespace = service_error(client.get_object, "other-namespace", bucket, "k")
    assert (wrong_namespace.status, wrong_namespace.code) == (404, "NamespaceNotFound")


def test_conditional_writes_and_reads_answer_412(client: Any, bucket: str) -> None:
    etag = client.put_object(NAMESPACE, bucket, "k", b"v1").headers["ETag"]
    exists = service_error(client.put_object, NAMESPACE, bucket, "k", b"v2", if_none_match="*")
    assert (exists.status, exists.code) == (412, "IfNoneMatchFailed")
    stale = service_error(client.put_object, NAMESPACE, bucket, "k", b"v2", if_match="not-the-etag")
    assert (stale.status, stale.code) == (412, "IfMatchFailed")
    assert service_error(client.get_object, NAMESPACE, bucket, "k", if_match="not-the-etag").status == 412
    client.put_object(NAMESPACE, bucket, "k", b"v3", if_match=etag)
    client.put_object(NAMESPACE, bucket, "new", b"n", if_none_match="*")
    assert client.get_object(NAMESPACE, bucket, "k").data.content == b"v3"
    assert client.get_object(NAMESPACE, bucket, "new").data.content == b"n"


def test_ranged_gets_answer_206_with_the_slice_or_416(client: Any, bucket: str) -> None:
    data = bytes(range(100))
    client.put_object(NAMESPACE, bucket, "ranged", data)
    for header, expected in [
        ("bytes=0-9", data[:10]),
        ("bytes=90-", data[90:]),
        ("bytes=-5", data[-5:]),
        ("bytes=95-500", data[95:]),
    ]:
        response = client.get_object(NAMESPACE, bucket, "ranged", range=header)
        assert (response.status, response.data.content) == (206, expected), header
        first = data.index(expected[0])
        assert response.headers["Content-Range"] == f"bytes {first}-{first + len(expected) - 1}/100"
    whole = client.get_object(NAMESPACE, bucket, "ranged")
    assert (whole.status, whole.data.content, whole.headers["Accept-Ranges"]) == (200, data, "bytes")
    error = service_error(client.get_object, NAMESPACE, bucket, "ranged", range="bytes=100-")
    assert (error.status, error.code) == (416, "InvalidRange")


def test_wrong_content_md5_is_refused(client: Any, bucket: str) -> None:
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    error = service_error(client.put_object, NAMESPACE, bucket, "k", b"body", content_md5=wrong)
    assert error.status == 400
    assert service_error(client.head_object, NAMESPACE, bucket, "k").status == 404


def test_delete_removes_and_missing_delete_is_404(client: Any, bucket: str) -> None:
    client.put_object(NAMESPACE, bucket, "k", b"v")
    assert client.delete_object(NAMESPACE, bucket, "k").status == 204
    assert service_error(client.get_object, NAMESPACE, bucket, "k").status == 404
    assert service_error(client.delete_object, NAMESPACE, bucket, "k").status == 404


def all_names(client: Any, bucket: str, **kwargs: Any) -> tuple[list[str], int]:
    """Every name across pages, and how many pages it took."""
    names: list[str] = []
    pages = 0
    start = None
    while True:
        page = client.list_objects(NAMESPACE, bucket, start=start, **kwargs).data
        pages += 1
        names.extend(summary.name for summary in page.objects)
        if page.next_start_with is None:
            return names, pages
        start = page.next_start_with


def test_list_pages_past_1000_in_name_order(client: Any, bucket: str) -> None:
    keys = [f"many/{index:05d}" for index in range(1005)] + ["other"]
    for key in keys:
        client.put_object(NAMESPACE, bucket, key, b"")
    first = client.list_objects(NAMESPACE, bucket, prefix="many/").data
    assert len(first.objects) == 1000
    assert first.next_start_with == "many/01000"
    names, pages = all_names(client, bucket, prefix="many/")
    assert names == sorted(keys[:-1])
    assert pages == 2
    assert all_names(client, bucket, limit=400) == (sorted(keys), 3)


def test_list_fields_range_and_delimiter(client: Any, bucket: str) -> None:
    client.put_object(NAMESPACE, bucket, "a/1", b"12345")
    client.put_object(NAMESPACE, bucket, "a/2", b"")
    client.put_object(NAMESPACE, bucket, "b", b"xy")
    plain = client.list_objects(NAMESPACE, bucket).data.objects[0]
    assert (plain.name, plain.size, plain.etag) == ("a/1", None, None)
    detailed = client.list_objects(NAMESPACE, bucket, fields="name,size,etag,timeCreated,md5").data.objects[0]
    assert detailed.size == 5
    assert detailed.etag == client.head_object(NAMESPACE, bucket, "a/1").headers["ETag"]
    assert detailed.md5 == base64.b64encode(hashlib.md5(b"12345").digest()).decode()
    assert detailed.time_created.tzinfo is not None
    ranged = client.list_objects(NAMESPACE, bucket, start="a/2", end="b").data
    assert [summary.name for summary in ranged.objects] == ["a/2"]
    folded = client.list_objects(NAMESPACE, bucket, delimiter="/").data
    assert ([summary.name for summary in folded.objects], folded.prefixes) == (["b"], ["a/"])
    assert service_error(client.list_objects, NAMESPACE, bucket, fields="name,colour").status == 400
    assert service_error(client.list_objects, NAMESPACE, bucket, limit=1001).status == 400


def test_copy_is_a_work_request_that_completes(client: Any, bucket: str) -> None:
    client.put_object(NAMESPACE, bucket, "src", b"data", content_type="text/csv", opc_meta={"k": "v"})
    response = client.copy_object(NAMESPACE, bucket, copy_details("src", bucket, "dst"))
    assert response.status == 202
    work = client.get_work_request(response.headers["opc-work-request-id"]).data
    assert (work.operation_type, work.status, work.percent_complete) == (
        "COPY_OBJECT",
        "COMPLETED",
        100.0,
    )
    copied = client.get_object(NAMESPACE, bucket, "dst")
    assert copied.data.content == b"data"
    assert (copied.headers["Content-Type"], copied.headers["opc-meta-k"]) == ("text/csv", "v")
    missing = service_error(client.copy_object, NAMESPACE, bucket, copy_details("absent", bucket, "x"))
    assert (missing.status, missing.code) == (404, "ObjectNotFound")


@pytest.fixture
def slow_copy_server(oci_config_file: Path) -> Iterator[tuple[Any, str]]:
    """A second server whose copies finish 0.3 s after they are accepted, with a bucket."""
    with running_server(NAMESPACE, copy_delay=0.3) as server:
        emulator = emulator_for(server, oci_config_file)
        create_bucket(emulator, "slow")
        yield sdk_client(emulator.env), "slow"


def test_delayed_copy_is_in_progress_until_done(slow_copy_server: tuple[Any, str]) -> None:
    client, bucket = slow_copy_server
    client.put_object(NAMESPACE, bucket, "src", b"data")
    work_id = client.copy_object(NAMESPACE, bucket, copy_details("src", bucket, "dst")).headers["opc-work-request-id"]
    assert client.get_work_request(work_id).data.status == "IN_PROGRESS"
    assert service_error(client.head_object, NAMESPACE, bucket, "dst").status == 404
    done = oci.wait_until(client, client.get_work_request(work_id), "status", "COMPLETED", max_interval_seconds=0.1)
    assert done.data.time_finished is not None
    assert client.get_object(NAMESPACE, bucket, "dst").data.content == b"data"


def test_delayed_copy_fails_when_the_source_vanishes(slow_copy_server: tuple[Any, str]) -> None:
    client, bucket = slow_copy_server
    client.put_object(NAMESPACE, bucket, "doomed", b"data")
    work_id = client.copy_object(NAMESPACE, bucket, copy_details("doomed", bucket, "dst2")).headers[
        "opc-work-request-id"
    ]
    client.delete_object(NAMESPACE, bucket, "doomed")
    failed = oci.wait_until(client, client.get_work_request(work_id), "status", "FAILED", max_interval_seconds=0.1)
    assert failed.data.status == "FAILED"
    errors = client.list_work_request_errors(work_id).data
    assert [error.code for error in errors] == ["ObjectNotFound"]


def test_rename_moves_the_object(client: Any, bucket: str) -> None:
    client.put_object(NAMESPACE, bucket, "old", b"data", content_type="text/plain")
    client.rename_object(NAMESPACE, bucket, RenameObjectDetails(source_name="old", new_name="new"))
    assert service_error(client.head_object, NAMESPACE, bucket, "old").status == 404
    renamed = client.get_object(NAMESPACE, bucket, "new")
    assert (renamed.data.content, renamed.headers["Content-Type"]) == (b"data", "text/plain")
    missing = service_error(
        client.rename_object,
        NAMESPACE,
        bucket,
        RenameObjectDetails(source_name="old", new_name="x"),
    )
    assert missing.status == 404


def test_par_read_serves_bytes_without_credentials(client: Any, bucket: str, oci_server: Emulator) -> None:
    key = "dir/report 1.csv"
    client.put_object(NAMESPACE, bucket, key, b"a,b\n", content_type="text/csv")
    par = create_par(client, bucket, key, "ObjectRead", timedelta(hours=1))
    assert par.access_uri.startswith("/p/")
    assert par.access_uri.endswith(f"/n/{NAMESPACE}/b/{bucket}/o/dir/report%201.csv")
    response = requests.get(oci_server.endpoint + par.access_uri, timeout=10)
    assert (response.status_code, response.content) == (200, b"a,b\n")
    assert response.headers["Content-Type"] == "text/csv"
    refused = requests.put(oci_server.endpoint + par.access_uri, data=b"overwrite", timeout=10)
    assert (refused.status_code, refused.json()["code"]) == (403, "NotAuthorized")


def test_par_write_stores_the_body_and_cannot_read(client: Any, bucket: str, oci_server: Emulator) -> None:
    par = create_par(client, bucket, "upload.bin", "ObjectWrite", timedelta(minutes=5))
    url = oci_server.endpoint + par.access_uri
    stored = requests.put(url, data=b"payload", headers={"Content-Type": "image/png"}, timeout=10)
    assert stored.status_code == 200
    uploaded = client.get_object(NAMESPACE, bucket, "upload.bin")
    assert (uploaded.data.content, uploaded.headers["Content-Type"]) == (b"payload", "image/png")
    chunked = requests.put(url, data=iter([b"chunk-1,", b"chunk-2"]), timeout=10)
    assert chunked.status_code == 200
    assert client.get_object(NAMESPACE, bucket, "upload.bin").data.content == b"chunk-1,chunk-2"
    assert requests.get(url, timeout=10).status_code == 403


def test_par_with_bad_token_other_object_or_expired_is_404(client: Any, bucket: str, oci_server: Emulator) -> None:
    client.put_object(NAMESPACE, bucket, "a", b"A")
    client.put_object(NAMESPACE, bucket, "b", b"B")
    par = create_par(client, bucket, "a", "ObjectRead", timedelta(seconds=1))
    good_url = oci_server.endpoint + par.access_uri
    assert requests.get(good_url, timeout=10).content == b"A"
    token = par.access_uri.split("/")[2]
    bad_token = good_url.replace(token, "not-a-token")
    assert requests.get(bad_token, timeout=10).status_code == 404
    assert requests.get(good_url[: -len("/o/a")] + "/o/b", timeout=10).status_code == 404
    time.sleep(1.2)
    expired = requests.get(good_url, timeout=10)
    assert (expired.status_code, expired.json()["code"]) == (404, "NotAuthorizedOrNotFound")


def test_par_creation_is_validated(client: Any, bucket: str) -> None:
    assert service_error(create_par, client, bucket, "k", "ObjectRead", timedelta(seconds=-5)).status == 400
    no_object = CreatePreauthenticatedRequestDetails(
        name="p",
        access_type="ObjectRead",
        time_expires=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    assert service_error(client.create_preauthenticated_request, NAMESPACE, bucket, no_object).status == 400


def test_requests_without_a_signature_are_401(oci_server: Emulator, bucket: str) -> None:
    for method, path in (
        ("GET", "/n"),
        ("GET", f"/n/{NAMESPACE}/b/{bucket}/o"),
        ("PUT", f"/n/{NAMESPACE}/b/{bucket}/o/k"),
    ):
        response = requests.request(method, oci_server.endpoint + path, data=b"x", timeout=10)
        assert (response.status_code, response.json()["code"]) == (401, "NotAuthenticated")


def test_fixture_environment_serves_unmodified_sdk_code(oci_server: Emulator, bucket: str, tmp_path: Path) -> None:
    """SDK code written the usual way (no endpoint, from_file() with no arguments) reaches the server.

    It calls https://objectstorage.us-ashburn-1.oraclecloud.com, which the fixture's
    HTTPS_PROXY and REQUESTS_CA_BUNDLE route to the test server. HOME points at an empty
    directory: the SDK reads OCI_CONFIG_FILE only when ~/.oci/config does not exist.
    """
    program = (
        "import oci\n"
        "config = oci.config.from_file()\n"
        "client = oci.object_storage.ObjectStorageClient(config)\n"
        "namespace = client.get_namespace().data\n"
        f"client.put_object(namespace, {bucket!r}, 'from-subprocess', b'plain sdk')\n"
        "print(namespace)\n"
    )
    env = {**os.environ, **oci_server.env, "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", program],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == NAMESPACE
    assert sdk_client(oci_server.env).get_object(NAMESPACE, bucket, "from-subprocess").data.content == b"plain sdk"


def test_the_https_proxy_serves_only_object_storage_hosts(oci_server: Emulator) -> None:
    proxies = {"https": oci_server.env["HTTPS_PROXY"]}
    with pytest.raises(requests.exceptions.ProxyError):
        requests.get("https://example.com/", proxies=proxies, timeout=10)
    response = requests.get(
        "https://objectstorage.ap-tokyo-1.oraclecloud.com/n",
        proxies=proxies,
        verify=oci_server.env["REQUESTS_CA_BUNDLE"],
        timeout=10,
    )
    assert (response.status_code, response.json()["code"]) == (401, "NotAuthenticated")
