"""pytest plugin: Azurite's blob service (npm package `azurite`) as a child process.

Azurite checks Shared Key signatures and SAS tokens like Azure does, for the well-known
development account `devstoreaccount1`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Emulator
from tests.servers.process import emulator_process

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_NAME = "devstoreaccount1"
# Azurite's published development key; it authorises nothing outside the emulator.
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def azurite_program() -> str:
    """Path of `azurite-blob`: the project's npm cache first, then PATH."""
    local = REPO_ROOT / ".cache" / "node" / "node_modules" / ".bin" / "azurite-blob"
    if os.access(local, os.X_OK):
        return str(local)
    on_path = shutil.which("azurite-blob")
    if on_path:
        return on_path
    pytest.fail(
        "azurite-blob not found: run `bash scripts/test.sh`, or "
        "`npm install --prefix .cache/node azurite@3` in the repository root",
        pytrace=False,
    )


def connection_string(endpoint: str) -> str:
    """The connection string of the development account served at `endpoint`."""
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint={endpoint}/{ACCOUNT_NAME};"
    )


@pytest.fixture(scope="session")
def azure_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """A running Azurite blob service and AZURE_STORAGE_CONNECTION_STRING pointing at it.

    `--skipApiVersionCheck` lets a newer azure-storage-blob talk to it: the SDK's default
    service version is often newer than the Azurite release that understands it.
    """
    program = azurite_program()
    workdir: Path = tmp_path_factory.mktemp("azurite")

    def command(port: int) -> list[str]:
        return [
            program, "--inMemoryPersistence", "--disableTelemetry", "--loose", "--silent",
            "--skipApiVersionCheck", "--blobHost", "127.0.0.1", "--blobPort", str(port),
        ]

    with emulator_process("azurite-blob", command, workdir) as port:
        endpoint = f"http://127.0.0.1:{port}"
        yield Emulator(
            provider="azure",
            endpoint=endpoint,
            env={"AZURE_STORAGE_CONNECTION_STRING": connection_string(endpoint)},
        )
