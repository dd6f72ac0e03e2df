"""Run an emulator as a child process on a free loopback port, for the fixtures in this package.

Emulators that ship as command-line programs (gcp-storage-emulator, Azurite) run here. The
port comes from `free_port()`, which another process could grab before the emulator binds it,
so a start that fails is retried on a fresh port.
"""

from __future__ import annotations

import http.client
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.servers import free_port

START_ATTEMPTS = 3
READY_TIMEOUT_SECONDS = 30.0


class EmulatorStartError(RuntimeError):
    """The emulator did not answer HTTP on its port in time."""


@contextmanager
def emulator_process(
    name: str,
    command_for_port: Callable[[int], Sequence[str]],
    workdir: Path,
    *,
    tls: ssl.SSLContext | None = None,
) -> Iterator[int]:
    """Start `command_for_port(port)` in `workdir`, yield the port once it answers, then stop it.

    With `tls`, the server is probed over HTTPS with that client context.
    """
    failures: list[str] = []
    for _ in range(START_ATTEMPTS):
        port = free_port()
        log_path = workdir / f"{name}-{port}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(list(command_for_port(port)), cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
        try:
            if _wait_until_answering(process, port, tls):
                yield port
                return
            log_tail = log_path.read_text(errors="replace")[-2000:]
            failures.append(f"port {port}: {log_tail}")
        finally:
            _stop(process)
    attempts = "\n".join(failures)
    raise EmulatorStartError(f"{name} did not start after {START_ATTEMPTS} attempts:\n{attempts}")


def _wait_until_answering(process: subprocess.Popen[bytes], port: int, tls: ssl.SSLContext | None) -> bool:
    """Poll until any HTTP response comes back; False if the process died or time ran out."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if _answers_http(port, tls):
            return process.poll() is None  # not some other server that took the port first
        time.sleep(0.1)
    return False


def _answers_http(port: int, tls: ssl.SSLContext | None) -> bool:
    """True when something on the port speaks HTTP(S) (any status counts)."""
    connection = (
        http.client.HTTPSConnection("127.0.0.1", port, timeout=1, context=tls)
        if tls
        else http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    )
    try:
        connection.request("GET", "/")
        connection.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        connection.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the child, and kill it if it ignores the request."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
