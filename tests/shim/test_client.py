"""create_storage_client: provider selection, URIs and prefixes, validation, connection caching."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from storage_shim import MissingDependency, StorageClient, create_storage_client
from storage_shim.backends import SCHEMES, provider_for_scheme
from storage_shim.backends.s3 import S3Backend
from tests.servers import Emulator


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.delenv("STORAGE_PROVIDER", raising=False)
    monkeypatch.setenv("STORAGE_LOCAL_ROOT", str(tmp_path / "root"))


@pytest.fixture
def s3_env(s3_server: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    return s3_server


def _connection(client: StorageClient) -> Any:
    return client._backend.connection


def test_a_bare_bucket_name_uses_local_files_by_default() -> None:
    client = create_storage_client("my-bucket")
    assert (client.provider, client.bucket, client.prefix) == ("local", "my-bucket", "")


def test_storage_provider_picks_the_backend_for_bare_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_PROVIDER", "memory")
    assert create_storage_client("my-bucket").provider == "memory"
    assert create_storage_client("my-bucket", provider="local").provider == "local"


def test_the_uri_scheme_wins_over_storage_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_PROVIDER", "local")
    assert create_storage_client("memory://my-bucket").provider == "memory"


def test_s3_uris_make_s3_clients(s3_env: Emulator) -> None:
    client = create_storage_client("s3://some-bucket")
    assert (client.provider, client.bucket) == ("s3", "some-bucket")


def test_every_documented_scheme_maps_to_a_provider() -> None:
    assert SCHEMES == {
        "file": "local",
        "memory": "memory",
        "s3": "s3",
        "gs": "gcs",
        "az": "azure",
        "oci": "oci",
    }
    assert [provider_for_scheme(s) for s in ("s3", "gs", "az", "oci", "file", "memory")] == [
        "s3",
        "gcs",
        "azure",
        "oci",
        "local",
        "memory",
    ]


@pytest.mark.parametrize(
    ("target", "provider"),
    [
        ("http://bucket", None),
        ("s3://bucket", "gcs"),
        ("my-bucket", "dropbox"),
        ("", None),
        ("s3:///key", None),
    ],
)
def test_bad_locations_and_providers_are_refused(target: str, provider: str | None) -> None:
    with pytest.raises(ValueError):
        create_storage_client(target, provider=provider)


def test_unknown_options_name_the_accepted_ones() -> None:
    with pytest.raises(TypeError, match="accepted: root"):
        create_storage_client("b", provider="local", rooot="/tmp")


def test_a_path_after_the_bucket_is_a_key_prefix() -> None:
    scoped = create_storage_client("memory://prefixed/team/a")
    whole = create_storage_client("memory://prefixed")
    assert scoped.prefix == "team/a/"
    scoped.put("x.txt", b"1")
    assert whole.get("team/a/x.txt") == b"1"
    whole.put("team/ab", b"not under the prefix")
    assert [i.key for i in scoped.list()] == ["x.txt"]
    assert scoped.stat("x.txt").key == "x.txt"
    assert scoped.object("x.txt").get() == b"1"
    assert create_storage_client("prefixed/team/a", provider="memory").get("x.txt") == b"1"


def test_file_uris_name_the_bucket_directory(tmp_path: Any) -> None:
    client = create_storage_client((tmp_path / "data" / "photos").as_uri())
    client.put("cat.jpg", b"meow")
    assert (client.provider, client.bucket) == ("local", "photos")
    assert (tmp_path / "data" / "photos" / "cat.jpg").read_bytes() == b"meow"
    with pytest.raises(ValueError):
        create_storage_client("file://otherhost/data/photos")


@pytest.mark.parametrize(
    ("key", "error"),
    [("", ValueError), ("a\0b", ValueError), ("k" * 1025, ValueError), (7, TypeError)],
)
def test_invalid_keys_are_refused_before_any_backend_call(key: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        create_storage_client("memory://keys").put(key, b"x")


@pytest.mark.parametrize(
    "metadata",
    [
        {"with space": "v"},
        {"ümlaut": "v"},
        {"k": "nön-ascii"},
        {"k": 1},
        {"Dup": "1", "dup": "2"},
        {"k": "line\nbreak"},
    ],
)
def test_metadata_every_provider_cannot_hold_is_refused(metadata: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        create_storage_client("memory://meta").put("k", b"x", metadata=metadata)


def test_metadata_names_are_lower_cased_like_s3_does() -> None:
    client = create_storage_client("memory://meta")
    client.put("k", b"x", metadata={"Run-ID": "7", "snake_case": "ok"})
    assert client.stat("k").metadata == {"run-id": "7", "snake_case": "ok"}


def test_sdk_connections_are_shared_per_provider_options_and_environment(
    s3_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = create_storage_client("s3://bucket-a")
    assert _connection(create_storage_client("s3://bucket-b")) is _connection(first)
    assert _connection(create_storage_client("s3://bucket-a", region_name="eu-west-1")) is not _connection(first)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    assert _connection(create_storage_client("s3://bucket-a")) is not _connection(first)


def test_concurrent_first_use_connects_once(s3_env: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = S3Backend.connect.__func__  # type: ignore[attr-defined]
    lock = threading.Lock()

    def counting_connect(cls: type[S3Backend], options: Any, policy: Any) -> Any:
        with lock:
            calls.append(1)
        return original(cls, options, policy)

    monkeypatch.setattr(S3Backend, "connect", classmethod(counting_connect))
    with ThreadPoolExecutor(max_workers=16) as pool:
        clients = list(pool.map(lambda _: create_storage_client("s3://b", region_name="ap-threaded-1"), range(64)))
    assert len(calls) == 1
    assert len({id(_connection(c)) for c in clients}) == 1


def test_a_missing_sdk_names_the_extra_to_install(s3_env: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in sys.modules if name.split(".")[0] in ("boto3", "botocore")]:
        monkeypatch.setitem(sys.modules, name, None)  # as if never installed, even if imported before
    monkeypatch.setitem(sys.modules, "boto3", None)
    monkeypatch.setitem(sys.modules, "botocore", None)
    with pytest.raises(MissingDependency, match=r"pip install 'cloudshift\[aws\]'") as raised:
        create_storage_client("s3://b", region_name="xx-missing-sdk-1")
    assert isinstance(raised.value, ImportError)


def test_importing_the_shim_imports_no_cloud_sdk() -> None:
    code = (
        "import sys, storage_shim\n"
        "storage_shim.create_storage_client('memory://m').put('k', b'v')\n"
        "sdks = ('boto3', 'botocore', 'google.cloud.storage', 'azure.storage.blob', 'oci')\n"
        "loaded = [m for m in sdks if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_repr_names_provider_bucket_and_prefix() -> None:
    assert repr(create_storage_client("memory://r/p")) == "StorageClient(provider='memory', bucket='r', prefix='p/')"


def test_presign_expiry_may_be_the_datetime_it_ends(tmp_path: Path) -> None:
    """GCS code signs with an absolute datetime; the rewrite passes it on and it keeps its meaning."""
    client = create_storage_client("dated", provider="local", root=str(tmp_path))
    client.put("report.txt", b"numbers")
    in_an_hour = datetime.now(timezone.utc) + timedelta(hours=1)
    assert client.get_presigned_url("report.txt", expires_in=in_an_hour).startswith("file://")
    naive_utc = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(hours=1)
    assert client.get_presigned_url("report.txt", expires_in=naive_utc).startswith("file://")
    with pytest.raises(ValueError):
        client.get_presigned_url("report.txt", expires_in=datetime.now(timezone.utc) - timedelta(minutes=1))
    with pytest.raises(ValueError):
        client.get_presigned_url("report.txt", expires_in=datetime.now(timezone.utc) + timedelta(days=8))


@pytest.mark.parametrize(
    "uri",
    [
        "memory://..",
        "memory://%2e%2e",
        "memory://.",
        "memory://.hidden",
        "memory://a%5Cb",
        "memory://a%2Fb",
        "memory://a%00b",
        "memory://" + "x" * 251,
        "..",
        "./x",
        "s3://user:password@bucket",
    ],
)
def test_bucket_names_follow_one_rule_on_every_provider(uri: str) -> None:
    with pytest.raises(ValueError) as raised:
        create_storage_client(uri, provider=None if "://" in uri else "memory")
    assert "password" not in str(raised.value)


@pytest.mark.parametrize(
    ("expires_in", "error"),
    [
        (0, ValueError),
        (-1, ValueError),
        (-(10**30), ValueError),
        (7 * 24 * 3600 + 1, ValueError),
        (10**30, ValueError),  # past timedelta's range: still a ValueError, not an OverflowError
        (timedelta(microseconds=999_999), ValueError),
        (timedelta.max, ValueError),
        (datetime.max, ValueError),
        (datetime.min, ValueError),
        (1.5, TypeError),
        (float("nan"), TypeError),
        (float("inf"), TypeError),
        ("3600", TypeError),
        (True, TypeError),
        (None, TypeError),
    ],
)
def test_bad_presign_expiries_are_refused_with_a_clear_error(
    tmp_path: Path, expires_in: Any, error: type[Exception]
) -> None:
    client = create_storage_client("expiry", provider="local", root=str(tmp_path))
    client.put("k", b"v")
    with pytest.raises(error, match="expires_in"):
        client.get_presigned_url("k", expires_in=expires_in)


@pytest.mark.parametrize("method", [None, 7, "DELETE", "get "])
def test_bad_presign_methods_are_value_errors(tmp_path: Path, method: Any) -> None:
    client = create_storage_client("expiry", provider="local", root=str(tmp_path))
    with pytest.raises(ValueError, match="GET or PUT"):
        client.get_presigned_url("k", method=method)


@pytest.mark.parametrize(
    ("start", "end", "error"),
    [
        (-1, None, ValueError),
        (5, 5, ValueError),
        (5, 2, ValueError),
        (1.0, None, TypeError),
        (0, 2.5, TypeError),
        (True, None, TypeError),
        (None, 3, TypeError),
    ],
)
def test_bad_ranges_are_refused_before_any_request(start: Any, end: Any, error: type[Exception]) -> None:
    client = create_storage_client("memory://ranges")
    client.put("k", b"0123456789")
    with pytest.raises(error):
        client.get("k", start=start, end=end)


@pytest.mark.parametrize(("mode", "buffer_size"), [("r", 1024), ("wb", 1024), ("rb", 0), ("rb", 1.5)])
def test_open_reads_binary_only_with_a_positive_buffer(mode: str, buffer_size: Any) -> None:
    client = create_storage_client("memory://ranges")
    client.put("k", b"0123456789")
    with pytest.raises(ValueError):
        client.open("k", mode, buffer_size=buffer_size)
