"""The connection cache: bounded memory under rotated credentials, no secrets in keys, no global wait."""

from __future__ import annotations

import base64
import gc
import threading
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

import storage_shim._cache
import storage_shim.client
from storage_shim import create_storage_client, set_connection_cache_size
from storage_shim._cache import DEFAULT_SIZE, ConnectionCache
from storage_shim.backends.local import LocalBackend
from tests.servers import Emulator

ROTATIONS = 1_000
MiB = 1024 * 1024


@pytest.fixture(autouse=True)
def cache(monkeypatch: pytest.MonkeyPatch) -> ConnectionCache:
    """An empty process cache of the default size for each test."""
    fresh = ConnectionCache(DEFAULT_SIZE)
    monkeypatch.setattr(storage_shim._cache, "CONNECTIONS", fresh)
    monkeypatch.setattr(storage_shim.client, "CONNECTIONS", fresh)
    return fresh


def _account_key(rotation: int) -> str:
    """A distinct, well-formed (base64, 64 bytes) Azure account key per rotation."""
    return base64.b64encode(rotation.to_bytes(64, "big")).decode()


def _azure_client(rotation: int) -> Any:
    connection_string = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey={_account_key(rotation)};BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;"
    )
    return create_storage_client("az://container", connection_string=connection_string)


def _traced_growth(first: int, last: int) -> int:
    """Bytes still allocated after connecting with rotations first..last-1 (warm cache before)."""
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    for rotation in range(first, last):
        _azure_client(rotation)
    gc.collect()
    return tracemalloc.get_traced_memory()[0] - before


def test_rotated_credentials_keep_memory_flat(cache: ConnectionCache) -> None:
    """1,000 rotated account keys: memory stops growing once the cache is full.

    Each Azure connection holds about 45 KB, so an unbounded cache grows by ~45 MB here.
    """
    tracemalloc.start()
    try:
        _traced_growth(0, DEFAULT_SIZE * 2)  # fill the cache and warm the SDK's own caches
        growth = _traced_growth(DEFAULT_SIZE * 2, DEFAULT_SIZE * 2 + ROTATIONS)
    finally:
        tracemalloc.stop()
    assert len(cache) == DEFAULT_SIZE
    assert growth < 2 * MiB, f"{growth / MiB:.1f} MiB kept after {ROTATIONS} rotations"


def test_cache_keys_hold_no_secret(cache: ConnectionCache) -> None:
    for rotation in range(3):
        _azure_client(rotation)
    keys = cache.keys()
    assert len(keys) == 3
    for key in keys:
        assert len(key) == 64 and all(c in "0123456789abcdef" for c in key)
        assert not any(_account_key(r) in key or _account_key(r)[:16] in key for r in range(3))


def test_the_cache_size_is_configurable_and_least_recently_used_go_first(
    cache: ConnectionCache, tmp_path: Path
) -> None:
    def connection(root: str) -> Any:
        return create_storage_client("b", provider="local", root=str(tmp_path / root))._backend.connection

    set_connection_cache_size(2)
    first, second = connection("1"), connection("2")
    assert connection("1") is first  # now the most recently used
    connection("3")  # evicts "2"
    assert len(cache) == 2
    assert connection("1") is first
    assert connection("2") is not second
    with pytest.raises(ValueError):
        set_connection_cache_size(0)


def test_a_slow_connect_does_not_block_other_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    slow_root = str(tmp_path / "slow")
    entered = threading.Event()
    release = threading.Event()
    original = LocalBackend.connect.__func__  # type: ignore[attr-defined]

    def connect(cls: type[LocalBackend], options: Any, policy: Any) -> Any:
        if options.get("root") == slow_root:
            entered.set()
            release.wait(timeout=30)
        return original(cls, options, policy)

    monkeypatch.setattr(LocalBackend, "connect", classmethod(connect))
    slow = threading.Thread(target=create_storage_client, args=("b",), kwargs={"provider": "local", "root": slow_root})
    slow.start()
    try:
        assert entered.wait(timeout=10)
        fast = threading.Thread(
            target=create_storage_client, args=("b",), kwargs={"provider": "local", "root": str(tmp_path / "fast")}
        )
        fast.start()
        fast.join(timeout=5)
        assert not fast.is_alive(), "a connection for another key waited for the slow one"
        assert slow.is_alive()
    finally:
        release.set()
        slow.join(timeout=10)


def test_a_failed_connect_is_not_cached() -> None:
    cache = ConnectionCache(4)
    attempts: list[int] = []

    def failing() -> Any:
        attempts.append(1)
        raise OSError("endpoint down")

    for _ in range(2):
        with pytest.raises(OSError):
            cache.get("k", (), failing)
    assert cache.get("k", (), lambda: "connected") == "connected"
    assert len(attempts) == 2


def test_s3_connections_share_the_service_models(s3_server: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full cache of S3 connections costs a few MB, not 12 MB per connection (one loader each)."""
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    tracemalloc.start()
    try:
        for rotation in range(DEFAULT_SIZE + 8):
            create_storage_client("s3://bucket", aws_session_token=f"token-{rotation}")
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held < 40 * MiB, f"{DEFAULT_SIZE} S3 connections hold {held / MiB:.0f} MiB"
