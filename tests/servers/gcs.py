"""pytest plugin: gcp-storage-emulator (PyPI) as a child process, for GCS tests.

The emulator speaks the GCS JSON API (what google-cloud-storage uses) and serves
`/<bucket>/<object>` for signed-URL style GET and PUT, but does not check signatures
(see docs/storage_shim_gcs_azure.md). It is started through `gcs_emulator.py`, which adds
the `ifGenerationMatch` precondition on uploads that the emulator lacks.

Signed URLs need a private key, so the session also writes a service-account JSON key made
up for the tests (valid nowhere) and serves its `token_uri` locally, so that code which
loads the key explicitly (`Client.from_service_account_json`) can talk to the emulator too.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.servers import Emulator
from tests.servers.process import emulator_process

PROJECT = "cloudshift-test"
SERVICE_ACCOUNT_EMAIL = f"storage-shim-tests@{PROJECT}.iam.gserviceaccount.com"
LAUNCHER = Path(__file__).with_name("gcs_emulator.py")


def _emulator_command(port: int) -> list[str]:
    """The emulator's CLI (with the precondition check), in memory, on loopback."""
    return [
        sys.executable,
        str(LAUNCHER),
        "start",
        "--host=127.0.0.1",
        f"--port={port}",
        "--in-memory",
        "--quiet",
    ]


def write_service_account_key(path: Path, token_uri: str) -> Path:
    """A service-account JSON key around a fresh RSA key, in the format Google issues."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    key = {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "storage-shim-tests",
        "private_key": pem,
        "client_email": SERVICE_ACCOUNT_EMAIL,
        "client_id": "100000000000000000001",
        "token_uri": token_uri,
    }
    path.write_text(json.dumps(key), encoding="utf-8")
    return path


class _TokenHandler(BaseHTTPRequestHandler):
    """Answers every OAuth 2.0 token request with a bearer token (the emulator ignores it)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps(
            {"access_token": "emulator-access-token", "expires_in": 3600, "token_type": "Bearer"}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the tests' output is not the place for access logs."""


@contextmanager
def _token_endpoint() -> Iterator[str]:
    """A loopback stand-in for Google's OAuth token endpoint; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/token"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def gcs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """A running GCS emulator and the environment that points google-cloud-storage at it.

    With STORAGE_EMULATOR_HOST set, `storage.Client()` uses anonymous credentials and takes
    its project from GOOGLE_CLOUD_PROJECT, exactly as application code would run against it.
    GOOGLE_APPLICATION_CREDENTIALS names the test service-account key, which the shim signs
    V4 URLs with.
    """
    workdir: Path = tmp_path_factory.mktemp("gcs-emulator")
    with (
        _token_endpoint() as token_uri,
        emulator_process("gcp-storage-emulator", _emulator_command, workdir) as port,
    ):
        endpoint = f"http://127.0.0.1:{port}"
        key_file = write_service_account_key(workdir / "service-account.json", token_uri)
        yield Emulator(
            provider="gcs",
            endpoint=endpoint,
            env={
                "STORAGE_EMULATOR_HOST": endpoint,
                "GOOGLE_CLOUD_PROJECT": PROJECT,
                "GOOGLE_APPLICATION_CREDENTIALS": str(key_file),
            },
        )
