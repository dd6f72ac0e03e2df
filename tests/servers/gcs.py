"""pytest plugin: gcp-storage-emulator (PyPI) as a child process, for GCS tests.

The emulator speaks the GCS JSON API (what google-cloud-storage uses) and serves
`/<bucket>/<object>` for signed-URL style GET and PUT, but does not check signatures
(see docs/storage_shim_gcs_azure.md). It is started through `gcs_emulator.py`, which adds
the `ifGenerationMatch` precondition on uploads that the emulator lacks.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Emulator
from tests.servers.process import emulator_process

PROJECT = "cloudshift-test"
LAUNCHER = Path(__file__).with_name("gcs_emulator.py")


def _emulator_command(port: int) -> list[str]:
    """The emulator's CLI (with the precondition check), in memory, on loopback."""
    return [
        sys.executable, str(LAUNCHER), "start", "--host=127.0.0.1", f"--port={port}",
        "--in-memory", "--quiet",
    ]


@pytest.fixture(scope="session")
def gcs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """A running GCS emulator and the environment that points google-cloud-storage at it.

    With STORAGE_EMULATOR_HOST set, `storage.Client()` uses anonymous credentials and takes
    its project from GOOGLE_CLOUD_PROJECT, exactly as application code would run against it.
    """
    workdir: Path = tmp_path_factory.mktemp("gcs-emulator")
    with emulator_process("gcp-storage-emulator", _emulator_command, workdir) as port:
        endpoint = f"http://127.0.0.1:{port}"
        yield Emulator(
            provider="gcs",
            endpoint=endpoint,
            env={"STORAGE_EMULATOR_HOST": endpoint, "GOOGLE_CLOUD_PROJECT": PROJECT},
        )
