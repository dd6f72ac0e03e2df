"""Reproduce the storage_shim reliability issues (issue 12) and print what the shim does about them now.

    python benchmarks/shim_reliability.py

Runs on one machine with no cloud account: local and memory backends, botocore and the Azure
SDK without any server (client creation, a closed port, a loopback black hole). Sections:

1. rotated credentials: RSS growth and time per connection over 1,000 rotated S3 session
   tokens, with the bounded cache and with a cache too large to evict (as before the fix);
2. hostile URIs: how many download_artifact refuses, and files written outside the cache;
3. secrets: credentials found in reprs and error tracebacks;
4. timeouts: seconds until an unreachable endpoint fails, by policy;
5. partial files left by a killed write, presign expiries refused, create_storage_client cost
   with a small and a large environment;
6. streaming: peak memory to read 10 bytes of a 64 MiB object, with open() and with get().

Figures are reported, never asserted: the tests assert the behaviour.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import timeit
import traceback
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from storage_shim import StorageError, create_storage_client, download_artifact  # noqa: E402
from storage_shim._files import PARTIAL_PREFIX, PARTIAL_SUFFIX, STALE_PARTIAL_SECONDS  # noqa: E402
from tests.servers.unreachable import black_hole  # noqa: E402

MiB = 1024 * 1024
ROTATIONS = 1_000


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MiB


def rotation_child() -> None:
    """In a fresh process: connect with ROTATIONS rotated session tokens; print JSON figures."""
    os.environ.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    options = {"aws_access_key_id": "AKIAROTATING", "aws_secret_access_key": "rotating", "region_name": "us-east-1"}
    create_storage_client("s3://bucket", aws_session_token="warm-up", **options)
    before, start = rss_mib(), time.perf_counter()
    for rotation in range(ROTATIONS):
        create_storage_client("s3://bucket", aws_session_token=f"token-{rotation}", **options)
    figures = {"rss_growth_mib": rss_mib() - before, "ms_per_connect": (time.perf_counter() - start) / ROTATIONS * 1e3}
    print(json.dumps(figures))


def in_child(arguments: list[str], environment: dict[str, str]) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, *arguments], env={**os.environ, **environment}, capture_output=True, check=True
    )
    result: dict[str, Any] = json.loads(output.stdout)
    return result


def section_rotation() -> None:
    print(f"1. {ROTATIONS} rotated S3 session tokens (botocore clients, no requests)")
    for label, size in (("bounded cache (default 32)", "32"), ("cache never evicting", "1000000")):
        figures = in_child(["--rotation-child"], {"STORAGE_SHIM_CACHE_SIZE": size})
        print(f"   {label:28} RSS +{figures['rss_growth_mib']:6.0f} MiB, {figures['ms_per_connect']:5.1f} ms/connect")


HOSTILE = [
    "memory://b/..%2F..%2F..%2Fescaped",
    "memory://b/%2e%2e/%2e%2e/escaped",
    "memory://b/a/../../escaped",
    "memory://b//etc/escaped",
    "memory://b/a%5C..%5Cescaped",
    "memory://b/" + "n" * 251,
    "memory://%2e%2e/escaped",
    "memory://%2E%2E%2F%2E%2E%2F%2E%2E/escaped",
    "memory://..%5C..%5Cescaped/x",
    "memory://b/a%00b",
    "s3://AKIA:password@b/k",
    "file:///tmp/../../../../escaped",
    "file:///tmp/%2e%2e/%2e%2e/escaped",
    "file:///tmp//escaped",
]


def section_hostile_uris(workdir: Path) -> None:
    cache = workdir / "cache"
    os.environ["STORAGE_ARTIFACT_CACHE"] = str(cache)
    source = create_storage_client("memory://b")
    for uri in HOSTILE:  # store what each key names, so only validation can stop a download
        key = uri.split("://b/", 1)[1] if uri.startswith("memory://b/") else None
        if key and "%00" not in key:
            source.put(key.replace("%2F", "/").replace("%2e", ".").replace("%5C", "\\"), b"payload")
    refused = 0
    for uri in HOSTILE:
        try:
            download_artifact(uri)
        except ValueError:
            refused += 1
    outside = [p for p in workdir.rglob("*") if p.is_file() and not p.is_relative_to(cache)]
    print(f"2. hostile URIs: {refused}/{len(HOSTILE)} refused, {len(outside)} files written outside the cache")


def section_secrets() -> None:
    secret_key, token = "wJalrXUtnFEMI" + "K7MDENGbPxRfiCY", "FQoGZXIvYXdzE" + "token"
    account_key = base64.b64encode(b"account-key-" * 5).decode()
    leaks = 0
    azure = create_storage_client(
        "az://c", connection_string=f"AccountName=a;AccountKey={account_key};BlobEndpoint=http://127.0.0.1:9/a"
    )
    shown = [repr(azure), repr(azure._backend), repr(azure._backend.connection)]
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    s3 = create_storage_client(
        "s3://b",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="AKIAEXAMPLE",
        aws_secret_access_key=secret_key,
        aws_session_token=token,
        max_attempts=1,
    )
    try:
        s3.get("k")
    except StorageError as error:
        shown.append("".join(traceback.format_exception(error)))
    shown.append(str(StorageError("https://objectstorage.example.com/p/PARTOKEN123/n/ns/b/b/o/k?sig=SASSIG")))
    for text in shown:
        leaks += sum(secret in text for secret in (secret_key, token, account_key, "PARTOKEN123", "SASSIG"))
    print(f"3. secrets: {leaks} credentials found in {len(shown)} reprs, messages and tracebacks")


def failure_seconds(get: Callable[[str], object]) -> float:
    start = time.monotonic()
    try:
        get("k")
    except StorageError:
        return time.monotonic() - start
    raise AssertionError("the request did not fail")


def unreachable_clients(url: str, policy: dict[str, Any]) -> dict[str, Any]:
    """S3 and Azure clients whose requests go to `url` (credentials made up; nothing is sent)."""
    account_key = base64.b64encode(b"key").decode()
    return {
        "s3": create_storage_client(
            "s3://b",
            endpoint_url=url,
            aws_access_key_id="a",
            aws_secret_access_key="b",
            region_name="us-east-1",
            **policy,
        ),
        "azure": create_storage_client(
            "az://c", connection_string=f"AccountName=a;AccountKey={account_key};BlobEndpoint={url}/a", **policy
        ),
    }


def section_timeouts() -> None:
    print("4. an endpoint that never accepts connections (loopback black hole): seconds to fail")
    policies: list[dict[str, Any]] = [{"connect_timeout": 1, "max_attempts": 2}, {}]
    for policy in policies:
        label = ", ".join(f"{name}={value}" for name, value in policy.items()) or "default policy (10 s x 3 attempts)"
        with black_hole() as url:
            seconds = {name: failure_seconds(client.get) for name, client in unreachable_clients(url, policy).items()}
        print(f"   {label:36} " + ", ".join(f"{name} {value:5.1f} s" for name, value in seconds.items()))


def section_partials_presign_environment(workdir: Path) -> None:
    downloads = workdir / "downloads"
    downloads.mkdir()
    orphan = downloads / f"{PARTIAL_PREFIX}killed{PARTIAL_SUFFIX}"
    orphan.write_bytes(b"left by a killed download")
    old = time.time() - STALE_PARTIAL_SECONDS - 60
    os.utime(orphan, (old, old))
    client = create_storage_client("memory://partials")
    client.put("k", b"v")
    client.download("k", downloads / "k")
    print(f"5. orphaned partial file removed by the next download: {not orphan.exists()}")
    local = create_storage_client("expiry", provider="local", root=str(workdir / "local"))
    local.put("k", b"v")
    bad = [0, -1, 10**30, 604801, 1.5, float("nan"), float("inf"), timedelta(0), datetime.max, "3600"]
    refused = 0
    for expires_in in bad:
        try:
            local.get_presigned_url("k", expires_in=expires_in)  # type: ignore[arg-type]
        except (ValueError, TypeError):
            refused += 1
    print(f"   presign: {refused}/{len(bad)} bad expiries refused with ValueError/TypeError")
    for variables in (0, 500):
        figures = in_child(["--environment-child"], {f"SOME_APP_VARIABLE_{i}": "x" * 40 for i in range(variables)})
        print(f"   create_storage_client('b') with {figures['variables']} variables: {figures['us_per_call']:.0f} us")


def environment_child() -> None:
    os.environ["STORAGE_LOCAL_ROOT"] = tempfile.mkdtemp()
    create_storage_client("b")
    calls = 20_000
    seconds = timeit.timeit(lambda: create_storage_client("b"), number=calls)
    print(json.dumps({"variables": len(os.environ), "us_per_call": seconds / calls * 1e6}))


READS: dict[str, Callable[[Any], object]] = {
    "open().read(10)": lambda client: client.open("big.bin").read(10),
    "get(start=0, end=10)": lambda client: client.get("big.bin", start=0, end=10),
    "get() whole": lambda client: client.get("big.bin"),
}


def peak_mib(read: Callable[[Any], object], client: Any) -> float:
    tracemalloc.start()
    read(client)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / MiB


def section_streaming(workdir: Path) -> None:
    size = 64 * MiB
    data = os.urandom(size)
    print(f"6. reading 10 bytes of a {size // MiB} MiB object: peak memory")
    for client in (
        create_storage_client("big", provider="local", root=str(workdir / "big")),
        create_storage_client("memory://big"),
    ):
        client.put("big.bin", data)
        peaks = ", ".join(f"{label} {peak_mib(read, client):5.2f} MiB" for label, read in READS.items())
        print(f"   {client.provider:6} {peaks}")


def main() -> None:
    section_rotation()
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        section_hostile_uris(workdir)
        section_secrets()
        section_timeouts()
        section_partials_presign_environment(workdir)
        section_streaming(workdir)


if __name__ == "__main__":
    if sys.argv[1:] == ["--rotation-child"]:
        rotation_child()
    elif sys.argv[1:] == ["--environment-child"]:
        environment_child()
    else:
        main()
