"""Timeouts and retries: an endpoint that never answers fails within the configured time, on every cloud.

The endpoints are on loopback (tests/servers/unreachable.py) and reached through the real
SDKs: a black hole tests the connect timeout, a silent server the read timeout and the
number of attempts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from storage_shim import StorageClient, StorageError, create_storage_client
from tests.servers import Emulator, free_port
from tests.servers.azure import connection_string
from tests.servers.unreachable import black_hole, silent_server

CLOUDS = ("s3", "gcs", "azure", "oci")
POLICY = {"connect_timeout": 0.5, "read_timeout": 0.5, "max_attempts": 2}
MAX_BACKOFF = 5.0  # the longest first retry delay among the four mappings (Azure: 3 s +- 1 s)


def _client_for(provider: str, url: str, server: Emulator, options: dict[str, Any]) -> StorageClient:
    """A client of `provider` whose requests all go to `url`, credentials from the emulator's setup."""
    if provider == "s3":
        return create_storage_client("s3://bucket", endpoint_url=url, **options)
    if provider == "gcs":
        return create_storage_client("gs://bucket", endpoint=url, **options)
    if provider == "azure":
        return create_storage_client("az://container", connection_string=connection_string(url), **options)
    return create_storage_client("oci://bucket", endpoint=url, **options)


@pytest.fixture(params=CLOUDS)
def cloud(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Emulator]:
    """A provider and its emulator's environment (for credentials; requests go elsewhere)."""
    provider: str = request.param
    server: Emulator = request.getfixturevalue(f"{provider}_server")
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    return provider, server


def _failure_time(operation: Callable[[], object]) -> float:
    start = time.monotonic()
    with pytest.raises(StorageError):
        operation()
    return time.monotonic() - start


def test_an_endpoint_that_never_accepts_fails_within_the_connect_timeout(cloud: tuple[str, Emulator]) -> None:
    provider, server = cloud
    with black_hole() as url:
        client = _client_for(provider, url, server, POLICY)
        elapsed = _failure_time(lambda: client.get("key"))
    attempts_time = POLICY["max_attempts"] * POLICY["connect_timeout"]
    assert attempts_time * 0.9 <= elapsed < attempts_time + MAX_BACKOFF, f"{provider}: {elapsed:.1f} s"


def test_an_endpoint_that_never_answers_fails_within_the_read_timeout_after_max_attempts(
    cloud: tuple[str, Emulator],
) -> None:
    provider, server = cloud
    with silent_server() as silent:
        client = _client_for(provider, silent.url, server, POLICY)
        elapsed = _failure_time(lambda: client.get("key"))
    attempts_time = POLICY["max_attempts"] * POLICY["read_timeout"]
    assert attempts_time * 0.9 <= elapsed < attempts_time + MAX_BACKOFF, f"{provider}: {elapsed:.1f} s"
    object_requests = [path for path in silent.paths if path.endswith("/key")]  # GCS also looks up the bucket
    assert len(object_requests) == POLICY["max_attempts"], silent.paths


def test_one_attempt_against_a_closed_port_fails_at_once(cloud: tuple[str, Emulator]) -> None:
    provider, server = cloud
    client = _client_for(provider, f"http://127.0.0.1:{free_port()}", server, {"max_attempts": 1})
    assert _failure_time(lambda: client.get("key")) < 2.0


@pytest.mark.parametrize(
    "options",
    [
        {"connect_timeout": 0},
        {"read_timeout": -1},
        {"read_timeout": float("nan")},
        {"connect_timeout": "10"},
        {"max_attempts": 0},
        {"max_attempts": 2.5},
        {"max_attempts": True},
    ],
)
def test_bad_policies_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        create_storage_client("memory://policy", **options)
