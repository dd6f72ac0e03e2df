"""Local servers the tests talk to over real HTTP on loopback: one module per provider.

Each module is a pytest plugin with a session-scoped fixture that yields an `Emulator`.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Emulator:
    """A running local server and the environment that points an SDK (and the shim) at it.

    `env` holds the variables that make both the provider's own SDK, configured the usual
    way, and `storage_shim` with `STORAGE_PROVIDER=<provider>` talk to this server. Tests
    that run code in a subprocess pass `env`; in-process tests use `monkeypatch.setenv`.
    """

    provider: str  # s3 | gcs | azure | oci
    endpoint: str  # base URL, e.g. http://127.0.0.1:51234
    env: dict[str, str] = field(default_factory=dict)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
