"""pytest plugin: Azurite's blob service (npm package `azurite`) as a child process.

Azurite checks Shared Key signatures and SAS tokens like Azure does, for the well-known
development account `devstoreaccount1`. `azure_server` is plain HTTP with the account key;
`azure_oauth_server` is HTTPS with bearer tokens, for token credentials and user
delegation SAS.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import shutil
import ssl
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

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


def azurite_command(port: int, *extra: str) -> list[str]:
    """Azurite's blob service in memory on loopback.

    `--skipApiVersionCheck` lets a newer azure-storage-blob talk to it: the SDK's default
    service version is often newer than the Azurite release that understands it.
    """
    return [
        azurite_program(),
        "--inMemoryPersistence",
        "--disableTelemetry",
        "--loose",
        "--silent",
        "--skipApiVersionCheck",
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        *extra,
    ]


@pytest.fixture(scope="session")
def azure_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """A running Azurite blob service and AZURE_STORAGE_CONNECTION_STRING pointing at it."""
    azurite_program()  # fail early with the install hint
    workdir: Path = tmp_path_factory.mktemp("azurite")
    with emulator_process("azurite-blob", azurite_command, workdir) as port:
        endpoint = f"http://127.0.0.1:{port}"
        yield Emulator(
            provider="azure",
            endpoint=endpoint,
            env={"AZURE_STORAGE_CONNECTION_STRING": connection_string(endpoint)},
        )


def write_self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files: (certificate, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    certificate_path = directory / "azurite-cert.pem"
    key_path = directory / "azurite-key.pem"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return certificate_path, key_path


class EmulatorTokenCredential:
    """An azure-core TokenCredential whose tokens Azurite's `--oauth basic` mode accepts.

    Azurite checks a bearer token's issuer, audience and lifetime but not its signature, so
    the token is a well-formed JWT with an unverifiable signature. Valid nowhere else.
    """

    tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    object_id = "0f0f0f0f-1111-2222-3333-444455556666"

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        now = int(time.time())
        claims = {
            "aud": "https://storage.azure.com",
            "iss": f"https://sts.windows.net/{self.tenant_id}/",
            "iat": now,
            "nbf": now - 60,
            "exp": now + 3600,
            "oid": self.object_id,
            "tid": self.tenant_id,
        }
        return AccessToken(_unsigned_jwt(claims), now + 3600)


def _unsigned_jwt(claims: dict[str, Any]) -> str:
    def encode(part: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()

    return f"{encode({'alg': 'RS256', 'typ': 'JWT'})}.{encode(claims)}.{encode({'unsigned': True})}"


@pytest.fixture(scope="session")
def azure_oauth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """Azurite over HTTPS with bearer-token authentication (`--oauth basic`).

    Token credentials only travel over HTTPS, so this instance has a self-signed certificate,
    trusted through REQUESTS_CA_BUNDLE (which azure-core's transport and requests honour).
    Authenticate with `EmulatorTokenCredential`; the shared key works too.
    """
    workdir: Path = tmp_path_factory.mktemp("azurite-oauth")
    certificate, key = write_self_signed_certificate(workdir)
    tls = ssl.create_default_context(cafile=str(certificate))

    def command(port: int) -> list[str]:
        return azurite_command(port, "--oauth", "basic", "--cert", str(certificate), "--key", str(key))

    with emulator_process("azurite-blob-oauth", command, workdir, tls=tls) as port:
        endpoint = f"https://127.0.0.1:{port}"
        yield Emulator(
            provider="azure",
            endpoint=endpoint,
            env={
                "AZURE_STORAGE_ACCOUNT_URL": f"{endpoint}/{ACCOUNT_NAME}",
                "REQUESTS_CA_BUNDLE": str(certificate),
            },
        )
