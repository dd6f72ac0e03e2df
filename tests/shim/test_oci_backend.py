"""What is particular to the OCI backend: namespace lookup, auth modes, PAR presigning, async copy.

Each test runs its own OCI test server, so it can look at what the server was asked to do.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from storage_shim import NotFound, StorageClient, StorageError, create_storage_client
from storage_shim.errors import MissingDependency, PermissionDenied
from tests.servers import Emulator
from tests.servers.oci import create_bucket, emulator_for, sdk_client, write_private_key
from tests.servers.oci_object_storage import (
    DEFAULT_NAMESPACE,
    OciObjectStorageHttpServer,
    running_server,
)

BUCKET = "shim-bucket"


@pytest.fixture
def server(
    oci_config_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[OciObjectStorageHttpServer, Emulator]]:
    """A fresh server with one bucket, its environment applied as deployed code would see it."""
    with running_server(DEFAULT_NAMESPACE, copy_delay=0.5, tls_directory=tmp_path) as running:
        emulator = emulator_for(running, oci_config_file)
        create_bucket(emulator, BUCKET)
        for name, value in emulator.env.items():
            monkeypatch.setenv(name, value)
        yield running, emulator


def test_namespace_is_looked_up_once_when_not_configured(
    server: tuple[OciObjectStorageHttpServer, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    running, _ = server
    monkeypatch.delenv("OCI_OBJECT_STORAGE_NAMESPACE")
    create_storage_client(f"oci://{BUCKET}").put("a", b"1")
    create_storage_client(BUCKET, provider="oci").put("b", b"2")
    assert create_storage_client(f"oci://{BUCKET}").get("a") == b"1"
    assert running.state.operations["get_namespace"] == 1


def test_namespace_from_the_uri_needs_no_lookup(
    server: tuple[OciObjectStorageHttpServer, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    running, _ = server
    monkeypatch.delenv("OCI_OBJECT_STORAGE_NAMESPACE")
    client = create_storage_client(f"oci://{BUCKET}@{DEFAULT_NAMESPACE}/team")
    client.put("k", b"v")
    assert sdk_client(server[1].env).get_object(DEFAULT_NAMESPACE, BUCKET, "team/k").data.content == b"v"
    assert running.state.operations["get_namespace"] == 0
    with pytest.raises(NotFound):
        create_storage_client(f"oci://{BUCKET}@another-namespace").get("k")


def test_objects_written_by_the_sdk_read_the_same_through_the_shim(
    server: tuple[OciObjectStorageHttpServer, Emulator],
) -> None:
    _, emulator = server
    sdk = sdk_client(emulator.env)
    sdk.put_object(
        DEFAULT_NAMESPACE,
        BUCKET,
        "sdk.txt",
        b"by sdk",
        content_type="text/plain",
        opc_meta={"team": "a"},
    )
    info = create_storage_client(f"oci://{BUCKET}").stat("sdk.txt")
    assert (info.size, info.content_type, info.metadata) == (6, "text/plain", {"team": "a"})
    assert info.etag == sdk.head_object(DEFAULT_NAMESPACE, BUCKET, "sdk.txt").headers["ETag"]


def test_presigned_urls_are_pars_with_the_token_in_the_path(
    server: tuple[OciObjectStorageHttpServer, Emulator],
) -> None:
    running, emulator = server
    client = create_storage_client(f"oci://{BUCKET}")
    client.put("docs/a b.txt", b"shared")
    get_url = client.get_presigned_url("docs/a b.txt", expires_in=600)
    put_url = client.get_presigned_url("docs/a b.txt", expires_in=timedelta(minutes=1), method="PUT")
    for url in (get_url, put_url):
        assert url.startswith(emulator.endpoint + "/p/")
        assert url.endswith(f"/n/{DEFAULT_NAMESPACE}/b/{BUCKET}/o/docs/a%20b.txt")
    assert get_url != put_url
    pars = sorted(running.state.pars.values(), key=lambda par: par.access_type)
    assert [(par.access_type, par.object_name) for par in pars] == [
        ("ObjectRead", "docs/a b.txt"),
        ("ObjectWrite", "docs/a b.txt"),
    ]
    expected_expiry = datetime.now(timezone.utc) + timedelta(seconds=600)
    assert abs(pars[0].time_expires - expected_expiry) < timedelta(seconds=30)
    assert requests.get(put_url, timeout=10).status_code == 403
    assert requests.put(get_url, data=b"nope", timeout=10).status_code == 403
    assert requests.put(put_url, data=b"replaced", timeout=10).status_code == 200
    assert requests.get(get_url, timeout=10).content == b"replaced"


def test_without_an_endpoint_the_sdk_derives_it_from_the_region(
    server: tuple[OciObjectStorageHttpServer, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No OCI_OBJECT_STORAGE_ENDPOINT: requests go to https://objectstorage.<region>.oraclecloud.com
    (routed to the test server by the fixture's HTTPS proxy), and PAR URLs name that host."""
    monkeypatch.delenv("OCI_OBJECT_STORAGE_ENDPOINT")
    client = create_storage_client(f"oci://{BUCKET}", region="eu-frankfurt-1")
    client.put("k", b"over https")
    url = client.get_presigned_url("k")
    assert url.startswith("https://objectstorage.eu-frankfurt-1.oraclecloud.com/p/")
    assert requests.get(url, timeout=10).content == b"over https"
    assert (
        create_storage_client(f"oci://{BUCKET}")
        .get_presigned_url("k")
        .startswith("https://objectstorage.us-ashburn-1.oraclecloud.com/p/")
    )


def test_copy_waits_for_the_work_request(
    server: tuple[OciObjectStorageHttpServer, Emulator],
) -> None:
    running, _ = server
    client = create_storage_client(f"oci://{BUCKET}")
    client.put("src", b"payload", content_type="text/csv", metadata={"k": "v"})
    client.copy("src", "dst")
    assert running.state.operations["get_work_request"] >= 2  # IN_PROGRESS first, then COMPLETED
    info = client.stat("dst")
    assert (client.get("dst"), info.content_type, info.metadata) == (
        b"payload",
        "text/csv",
        {"k": "v"},
    )


def test_copy_whose_work_request_fails_raises(
    server: tuple[OciObjectStorageHttpServer, Emulator],
) -> None:
    running, _ = server
    client = create_storage_client(f"oci://{BUCKET}")
    client.put("doomed", b"payload")

    def delete_source_once_the_copy_is_accepted() -> None:
        while not running.state.work_requests:
            time.sleep(0.01)
        client.delete("doomed")

    deleter = threading.Thread(target=delete_source_once_the_copy_is_accepted)
    deleter.start()
    with pytest.raises(StorageError, match="copy of 'doomed' to 'dst' failed: ObjectNotFound"):
        client.copy("doomed", "dst")
    deleter.join()
    assert not client.exists("dst")


def test_a_missing_bucket_is_not_found_even_for_delete(
    server: tuple[OciObjectStorageHttpServer, Emulator],
) -> None:
    client = create_storage_client("oci://no-such-bucket")
    for operation in (
        lambda: client.put("k", b"v"),
        lambda: client.delete("k"),
        lambda: list(client.list()),
    ):
        with pytest.raises(NotFound):
            operation()


def test_unusable_configuration_is_permission_denied(
    server: tuple[OciObjectStorageHttpServer, Emulator],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    with pytest.raises(PermissionDenied, match="NOPE"):
        create_storage_client(f"oci://{BUCKET}", profile="NOPE")
    monkeypatch.setenv("OCI_CONFIG_PROFILE", "NOPE")
    with pytest.raises(PermissionDenied, match="NOPE"):
        create_storage_client(f"oci://{BUCKET}")
    monkeypatch.setenv("OCI_CONFIG_FILE", str(tmp_path / "absent"))
    with pytest.raises(PermissionDenied, match="absent"):
        create_storage_client(f"oci://{BUCKET}")


def test_unknown_options_and_auth_modes_are_refused(
    server: tuple[OciObjectStorageHttpServer, Emulator],
) -> None:
    with pytest.raises(TypeError, match="namespace"):
        create_storage_client(f"oci://{BUCKET}", compartment="x")
    with pytest.raises(ValueError, match="resource_principal"):
        create_storage_client(f"oci://{BUCKET}", auth="password")


def _session_token() -> str:
    """A resource principal session token (a JWT); the test server does not check its signature."""

    def encode(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    claims = {
        "exp": int(time.time()) + 3600,
        "res_tenant": "ocid1.tenancy.oc1..test",
        "sub": "ocid1.fnfunc.oc1..test",
    }
    return f"{encode({'alg': 'RS256', 'typ': 'JWT'})}.{encode(claims)}.{encode({'signature': 'none'})}"


def test_resource_principal_auth_reads_the_sdk_environment(
    server: tuple[OciObjectStorageHttpServer, Emulator],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    write_private_key(tmp_path / "rp.pem")
    monkeypatch.delenv("OCI_CONFIG_FILE")
    monkeypatch.setenv("OCI_CLI_AUTH", "resource_principal")
    monkeypatch.setenv("OCI_RESOURCE_PRINCIPAL_VERSION", "2.2")
    monkeypatch.setenv("OCI_RESOURCE_PRINCIPAL_RPST", _session_token())
    monkeypatch.setenv("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM", str(tmp_path / "rp.pem"))
    monkeypatch.setenv("OCI_RESOURCE_PRINCIPAL_REGION", "eu-frankfurt-1")
    client = create_storage_client(f"oci://{BUCKET}")
    client.put("rp", b"signed by a resource principal")
    assert client.get("rp") == b"signed by a resource principal"


def test_a_missing_sdk_names_the_extra(
    server: tuple[OciObjectStorageHttpServer, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "oci", None)  # what `import oci` sees when it is not installed
    monkeypatch.setenv("OCI_OBJECT_STORAGE_ENDPOINT", f"http://127.0.0.1:1/{uuid.uuid4().hex}")  # no cached connection
    with pytest.raises(MissingDependency, match=r"pip install 'cloudshift\[oci\]'"):
        create_storage_client(f"oci://{BUCKET}")


def test_one_client_is_safe_across_threads(
    server: tuple[OciObjectStorageHttpServer, Emulator],
) -> None:
    client: StorageClient = create_storage_client(f"oci://{BUCKET}")
    keys = [f"threads/{index:03d}" for index in range(64)]

    def round_trip(key: str) -> bytes:
        client.put(key, key.encode())
        return client.get(key)

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(round_trip, keys)) == [key.encode() for key in keys]
    assert [info.key for info in client.list("threads/")] == keys
