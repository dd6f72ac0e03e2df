"""The conformance suite: the same tests, unchanged, against every storage backend.

`storage_client` yields a client on a fresh, empty bucket for each provider. Cloud
backends run against their emulator over real HTTP (fixtures in tests/servers/), with the
provider chosen the way deployed code chooses it: STORAGE_PROVIDER plus the SDK's own
environment. A backend whose server fixture is missing makes its tests fail, never skip.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import tracemalloc
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from storage_shim import (
    AlreadyExists,
    ChecksumMismatch,
    NotFound,
    PresignNotSupported,
    StorageClient,
    StorageError,
    create_storage_client,
    download_artifact,
)
from storage_shim._reader import DEFAULT_BUFFER_SIZE
from tests.servers import Emulator
from tests.servers.proxy import counting_proxy

BACKENDS = ("local", "memory", "s3", "gcs", "azure", "oci")
URI_SCHEMES = {"memory": "memory", "s3": "s3", "gcs": "gs", "azure": "az", "oci": "oci"}
PRESIGN_METHODS = {
    "local": {"GET"},
    "memory": set(),
    "s3": {"GET", "PUT"},
    "gcs": {"GET", "PUT"},
    "azure": {"GET", "PUT"},
    "oci": {"GET", "PUT"},
}
AWKWARD_KEYS = (
    "with space.txt",
    "unicodé/ключ/文件.bin",
    "deep/nested/prefix/a/b/c/d.txt",
    "symbols/plus+percent%25&amp;=#hash?.txt",
)
MANY_KEYS = 1_050  # more than one page everywhere (S3, Azure, OCI and GCS pages hold 1,000)


def _create_s3_bucket(server: Emulator, name: str) -> None:
    import boto3

    boto3.client("s3").create_bucket(Bucket=name)


def _create_gcs_bucket(server: Emulator, name: str) -> None:
    from google.cloud import storage

    storage.Client().create_bucket(name)


def _create_azure_container(server: Emulator, name: str) -> None:
    from azure.storage.blob import BlobServiceClient

    connection = os.environ["AZURE_STORAGE_CONNECTION_STRING"]
    BlobServiceClient.from_connection_string(connection).create_container(name)


def _create_oci_bucket(server: Emulator, name: str) -> None:
    from tests.servers.oci import create_bucket

    create_bucket(server, name)


BUCKET_CREATORS: dict[str, Callable[[Emulator, str], None]] = {
    "s3": _create_s3_bucket,
    "gcs": _create_gcs_bucket,
    "azure": _create_azure_container,
    "oci": _create_oci_bucket,
}


@pytest.fixture
def local_root(tmp_path: Path) -> Path:
    return tmp_path / "storage"


@pytest.fixture(params=BACKENDS)
def storage_client(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, local_root: Path) -> StorageClient:
    """A client on a new, empty bucket of the parametrized provider, chosen by configuration."""
    provider: str = request.param
    bucket = f"conformance-{uuid.uuid4().hex[:20]}"
    monkeypatch.setenv("STORAGE_PROVIDER", provider)
    monkeypatch.setenv("STORAGE_LOCAL_ROOT", str(local_root))
    if provider in BUCKET_CREATORS:
        server: Emulator = request.getfixturevalue(f"{provider}_server")
        for name, value in server.env.items():
            monkeypatch.setenv(name, value)
        BUCKET_CREATORS[provider](server, bucket)
    return create_storage_client(bucket)


@pytest.fixture
def artifact_uri(storage_client: StorageClient, local_root: Path) -> Callable[[str], str]:
    """The download_artifact URI of a key in the test bucket."""

    def uri(key: str) -> str:
        if storage_client.provider == "local":
            return (local_root / storage_client.bucket / key).as_uri()
        return f"{URI_SCHEMES[storage_client.provider]}://{storage_client.bucket}/{key}"

    return uri


def _keys(infos: Iterator) -> list[str]:
    return [info.key for info in infos]


def test_put_then_stat_round_trips_content_type_and_metadata(storage_client: StorageClient) -> None:
    storage_client.put(
        "doc.json",
        b'{"a": 1}',
        content_type="application/json",
        metadata={"Owner": "ops", "run-id": "42"},
    )
    info = storage_client.stat("doc.json")
    assert (info.key, info.size) == ("doc.json", 8)
    assert info.content_type == "application/json"
    assert info.metadata == {"owner": "ops", "run-id": "42"}
    assert storage_client.get("doc.json") == b'{"a": 1}'


def test_put_without_content_type_stores_octet_stream_and_no_metadata(
    storage_client: StorageClient,
) -> None:
    storage_client.put("plain", b"x")
    info = storage_client.stat("plain")
    assert info.content_type == "application/octet-stream"
    assert info.metadata == {}


def test_put_replaces_content_type_and_metadata(storage_client: StorageClient) -> None:
    storage_client.put("k", b"1", content_type="text/plain", metadata={"a": "1"})
    storage_client.put("k", b"22", content_type="text/csv")
    info = storage_client.stat("k")
    assert (info.size, info.content_type, info.metadata) == (2, "text/csv", {})


def test_stat_reports_size_etag_and_a_recent_utc_time(storage_client: StorageClient) -> None:
    storage_client.put("t", b"first")
    first = storage_client.stat("t")
    storage_client.put("t", b"second!")
    second = storage_client.stat("t")
    assert second.size == 7
    assert first.etag and second.etag and first.etag != second.etag
    assert second.last_modified is not None and second.last_modified.utcoffset() == timedelta(0)
    assert abs(datetime.now(timezone.utc) - second.last_modified) < timedelta(minutes=5)


@pytest.mark.parametrize("key", AWKWARD_KEYS)
def test_awkward_keys_round_trip_through_put_get_stat_and_list(storage_client: StorageClient, key: str) -> None:
    storage_client.put(key, key.encode())
    assert storage_client.get(key) == key.encode()
    assert storage_client.stat(key).key == key
    assert _keys(storage_client.list()) == [key]
    assert _keys(storage_client.list(key[:3])) == [key]


def test_list_returns_every_page_in_key_order(storage_client: StorageClient) -> None:
    many = [f"many/{i:05d}" for i in range(MANY_KEYS)]
    others = ["a-first", "many-but-not-under-the-prefix", "z/last"]
    creation_order = many + others
    random.Random(7).shuffle(creation_order)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda key: storage_client.put(key, b"."), creation_order))
    assert _keys(storage_client.list("many/")) == many
    assert _keys(storage_client.list()) == sorted(many + others)


def test_list_with_empty_prefix_lists_everything_and_omits_content_type(
    storage_client: StorageClient,
) -> None:
    storage_client.put("b/two", b"22", content_type="text/plain", metadata={"m": "v"})
    storage_client.put("a", b"1")
    infos = list(storage_client.list(""))
    assert [(i.key, i.size) for i in infos] == [("a", 1), ("b/two", 2)]
    assert all(i.content_type is None and i.metadata is None and i.etag for i in infos)
    assert list(storage_client.list("nothing-here/")) == []


def test_list_of_an_empty_bucket_is_empty(storage_client: StorageClient) -> None:
    assert list(storage_client.list()) == []


def test_missing_keys_raise_not_found_which_is_a_file_not_found_error(
    storage_client: StorageClient, tmp_path: Path
) -> None:
    for operation in (
        lambda: storage_client.get("missing"),
        lambda: storage_client.stat("missing"),
        lambda: storage_client.download("missing", tmp_path / "out" / "file"),
    ):
        with pytest.raises(NotFound) as raised:
            operation()
        assert isinstance(raised.value, FileNotFoundError)
        assert isinstance(raised.value, StorageError)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
    assert storage_client.exists("missing") is False


def test_delete_is_idempotent_unless_missing_ok_is_false(storage_client: StorageClient) -> None:
    storage_client.put("gone", b"x")
    assert storage_client.exists("gone")
    storage_client.delete("gone")
    assert not storage_client.exists("gone")
    storage_client.delete("gone")
    with pytest.raises(NotFound):
        storage_client.delete("gone", missing_ok=False)
    storage_client.put("gone", b"y")
    storage_client.delete("gone", missing_ok=False)
    assert list(storage_client.list()) == []


class _NonSeekable(io.RawIOBase):
    """A binary stream that can only be read forward, like a socket or a pipe."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_put_accepts_str_bytes_and_binary_file_objects(storage_client: StorageClient, tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(b"HEADERfrom a file")
    storage_client.put("str", "héllo")
    storage_client.put("bytes", b"\x00\xff")
    storage_client.put("bytearray", bytearray(b"ba"))
    storage_client.put("stream", _NonSeekable(b"streamed"))
    with source.open("rb") as file:
        file.seek(6)  # the rest of the file from its current position
        storage_client.put("file", file)
    assert storage_client.get("str") == "héllo".encode()
    assert storage_client.get("bytes") == b"\x00\xff"
    assert storage_client.get("bytearray") == b"ba"
    assert storage_client.get("stream") == b"streamed"
    assert storage_client.get("file") == b"from a file"
    with pytest.raises(TypeError), source.open("r") as text_file:
        storage_client.put("text", text_file)  # type: ignore[arg-type]


def test_put_without_overwrite_refuses_an_existing_key(storage_client: StorageClient) -> None:
    storage_client.put("once", b"original", metadata={"v": "1"})
    with pytest.raises(AlreadyExists):
        storage_client.put("once", b"replacement", metadata={"v": "2"}, overwrite=False)
    assert storage_client.get("once") == b"original"
    assert storage_client.stat("once").metadata == {"v": "1"}
    storage_client.put("fresh", b"new", overwrite=False)
    assert storage_client.get("fresh") == b"new"


def test_put_without_overwrite_lets_exactly_one_concurrent_writer_win(
    storage_client: StorageClient,
) -> None:
    def attempt(writer: int) -> bool:
        try:
            storage_client.put("contended", f"writer {writer}", overwrite=False)
        except AlreadyExists:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(16)))
    assert outcomes.count(True) == 1
    assert storage_client.get("contended") == f"writer {outcomes.index(True)}".encode()


def test_copy_keeps_bytes_content_type_and_metadata(storage_client: StorageClient) -> None:
    storage_client.put("src/a.csv", b"1,2", content_type="text/csv", metadata={"source": "test"})
    storage_client.put("dst/a.csv", b"old")
    storage_client.copy("src/a.csv", "dst/a.csv")
    info = storage_client.stat("dst/a.csv")
    assert storage_client.get("dst/a.csv") == b"1,2"
    assert (info.content_type, info.metadata) == ("text/csv", {"source": "test"})
    assert storage_client.get("src/a.csv") == b"1,2"
    with pytest.raises(NotFound):
        storage_client.copy("src/missing", "dst/missing")


def test_upload_and_download_files(storage_client: StorageClient, tmp_path: Path) -> None:
    payload = os.urandom(300_000)
    source = tmp_path / "in.bin"
    source.write_bytes(payload)
    storage_client.upload(source, "files/in.bin", content_type="application/x-test", metadata={"k": "v"})
    info = storage_client.stat("files/in.bin")
    assert (info.size, info.content_type, info.metadata) == (
        len(payload),
        "application/x-test",
        {"k": "v"},
    )
    target = tmp_path / "new" / "dir" / "out.bin"
    assert storage_client.download("files/in.bin", target) == target
    assert target.read_bytes() == payload
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.bin"]  # no temporary left


def test_object_handle_has_the_same_verbs(storage_client: StorageClient, tmp_path: Path) -> None:
    handle = storage_client.object("handle/obj.txt")
    assert (handle.key, handle.client, handle.bucket) == (
        "handle/obj.txt",
        storage_client,
        storage_client.bucket,
    )
    assert not handle.exists()
    handle.put("via handle", content_type="text/plain", metadata={"h": "1"})
    assert handle.get() == b"via handle"
    assert (handle.stat().content_type, handle.stat().metadata) == ("text/plain", {"h": "1"})
    with pytest.raises(AlreadyExists):
        handle.put(b"again", overwrite=False)
    source = tmp_path / "up.txt"
    source.write_bytes(b"uploaded")
    handle.upload(source, content_type="text/markdown")
    assert handle.download(tmp_path / "down.txt").read_bytes() == b"uploaded"
    assert handle.stat().content_type == "text/markdown"
    handle.delete(missing_ok=False)
    assert not handle.exists()
    with pytest.raises(NotFound):
        handle.delete(missing_ok=False)


def _fetch(url: str) -> bytes:
    """GET a presigned URL with a real client: requests for HTTP, urllib for file://."""
    if url.startswith("file://"):
        with urllib.request.urlopen(url) as response:
            return response.read()
    response = requests.get(url, timeout=30)
    assert response.status_code == 200, response.text
    return response.content


def test_presigned_get_serves_the_bytes(storage_client: StorageClient) -> None:
    storage_client.put("shared/report v1.txt", b"presigned bytes")
    if "GET" not in PRESIGN_METHODS[storage_client.provider]:
        with pytest.raises(PresignNotSupported):
            storage_client.get_presigned_url("shared/report v1.txt")
        return
    url = storage_client.get_presigned_url("shared/report v1.txt", expires_in=timedelta(minutes=5))
    assert _fetch(url) == b"presigned bytes"


def test_presigned_put_stores_the_bytes(storage_client: StorageClient) -> None:
    if "PUT" not in PRESIGN_METHODS[storage_client.provider]:
        with pytest.raises(PresignNotSupported):
            storage_client.get_presigned_url("incoming/upload.bin", method="PUT")
        return
    url = storage_client.get_presigned_url("incoming/upload.bin", expires_in=600, method="PUT")
    response = requests.put(url, data=b"sent by a browser", headers=storage_client.presigned_put_headers, timeout=30)
    assert response.status_code in (200, 201), response.text
    assert storage_client.get("incoming/upload.bin") == b"sent by a browser"


@pytest.mark.parametrize("expires_in", [0, -1, 7 * 24 * 3600 + 1, timedelta(days=8), timedelta(0)])
def test_presign_expiry_out_of_bounds_is_refused(storage_client: StorageClient, expires_in: int | timedelta) -> None:
    with pytest.raises(ValueError):
        storage_client.get_presigned_url("k", expires_in=expires_in)


def test_presign_accepts_the_seven_day_maximum_and_refuses_other_methods(
    storage_client: StorageClient,
) -> None:
    storage_client.put("k", b"v")
    with pytest.raises(ValueError):
        storage_client.get_presigned_url("k", method="DELETE")
    if "GET" not in PRESIGN_METHODS[storage_client.provider]:
        return
    for expiry in (timedelta(days=7), 7 * 24 * 3600, 1):
        assert _fetch(storage_client.get_presigned_url("k", expires_in=expiry)) == b"v"


def test_download_artifact_verifies_sha256(
    storage_client: StorageClient, artifact_uri: Callable[[str], str], tmp_path: Path
) -> None:
    payload = b"model weights, pretend"
    storage_client.put("models/v1/model.bin", payload)
    digest = hashlib.sha256(payload).hexdigest()
    uri = artifact_uri("models/v1/model.bin")

    good = download_artifact(uri, tmp_path / "good", sha256=digest.upper())
    assert good == tmp_path / "good" and good.read_bytes() == payload

    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    with pytest.raises(ChecksumMismatch):
        download_artifact(uri, bad_dir, sha256="0" * 64)
    assert list(bad_dir.iterdir()) == []


def test_download_artifact_without_dest_uses_the_cache(
    storage_client: StorageClient,
    artifact_uri: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STORAGE_ARTIFACT_CACHE", str(tmp_path / "cache"))
    storage_client.put("data/set.csv", b"a,b\n")
    path = download_artifact(artifact_uri("data/set.csv"))
    assert path.is_relative_to(tmp_path / "cache") and path.name == "set.csv"
    assert path.read_bytes() == b"a,b\n"


def test_download_artifact_of_a_missing_key_raises_not_found(
    storage_client: StorageClient, artifact_uri: Callable[[str], str], tmp_path: Path
) -> None:
    with pytest.raises(NotFound):
        download_artifact(artifact_uri("no/such/artifact"), tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_a_bucket_that_was_never_created(storage_client: StorageClient) -> None:
    """Clouds answer NotFound; local and memory buckets come into being when first used."""
    missing = create_storage_client(f"never-created-{uuid.uuid4().hex[:16]}")
    assert missing.provider == storage_client.provider
    with pytest.raises(NotFound):
        missing.get("k")
    assert missing.exists("k") is False
    if storage_client.provider in ("local", "memory"):
        assert list(missing.list()) == []
    else:
        with pytest.raises(NotFound):
            list(missing.list())


def test_get_with_a_range_returns_that_slice_only(storage_client: StorageClient) -> None:
    data = bytes(range(256)) * 4
    storage_client.put("ranged", data)
    for start, end in [(0, 1), (0, 10), (10, 20), (1000, None), (1000, 5000), (1023, 1024), (0, None), (512, None)]:
        assert storage_client.get("ranged", start=start, end=end) == data[start:end], (start, end)
    assert storage_client.get("ranged", start=len(data)) == b""
    assert storage_client.get("ranged", start=5000, end=6000) == b""
    assert storage_client.object("ranged").get(start=2, end=4) == data[2:4]
    storage_client.put("empty", b"")
    assert storage_client.get("empty", start=0, end=10) == b""
    with pytest.raises(NotFound):
        storage_client.get("missing", start=0, end=10)


def test_open_gives_a_seekable_stream_of_the_object(storage_client: StorageClient) -> None:
    data = os.urandom(300_000)
    storage_client.put("streamed.bin", data)
    with storage_client.open("streamed.bin", buffer_size=64 * 1024) as stream:
        assert stream.readable() and stream.seekable() and not stream.writable()
        assert stream.read(10) == data[:10]
        assert stream.seek(-8, io.SEEK_END) == len(data) - 8
        assert stream.read() == data[-8:]
        assert stream.read(1) == b""
        stream.seek(150_000)
        assert stream.read(100_000) == data[150_000:250_000]
        assert stream.tell() == 250_000
        stream.seek(0)
        assert stream.read() == data
    assert stream.closed
    storage_client.put("lines.txt", b"first\nsecond\n")
    with storage_client.object("lines.txt").open() as lines:
        assert list(lines) == [b"first\n", b"second\n"]
    with pytest.raises(NotFound):
        storage_client.open("missing")


LARGE = 12 * 1024 * 1024


def test_reading_the_first_bytes_of_a_large_object_does_not_transfer_it(
    storage_client: StorageClient, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cloud backends: bytes counted on the wire (a proxy in front of the emulator); local and
    memory: the peak memory of the read."""
    data = os.urandom(LARGE)
    storage_client.put("large.bin", data)
    if storage_client.provider in ("local", "memory"):
        tracemalloc.start()
        with storage_client.open("large.bin") as stream:
            assert stream.read(10) == data[:10]
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < LARGE // 4, f"{peak} bytes allocated to read 10"
        return
    server: Emulator = request.getfixturevalue(f"{storage_client.provider}_server")
    with counting_proxy(server.endpoint) as proxy:
        for name, value in server.env.items():
            monkeypatch.setenv(name, value.replace(server.endpoint, proxy.url))
        proxied = create_storage_client(storage_client.bucket)
        with proxied.open("large.bin") as stream:
            assert stream.read(10) == data[:10]
            stream.seek(-10, io.SEEK_END)
            assert stream.read() == data[-10:]
        assert proxied.get("large.bin", start=LARGE // 2, end=LARGE // 2 + 10) == data[LARGE // 2 : LARGE // 2 + 10]
    transferred = proxy.bytes_from_server
    assert 20 < transferred < DEFAULT_BUFFER_SIZE + 64 * 1024, f"{transferred} bytes for a 12 MiB object"
