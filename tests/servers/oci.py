"""pytest plugin: the local OCI Object Storage test server (tests/servers/oci_object_storage.py).

The server runs in a thread of the test process on a free loopback port. The fixture writes
an OCI config file with a freshly generated RSA key, so the real `oci` SDK signs requests
exactly as it does against Oracle Cloud; the server only checks that a signature is present.

Environment it yields (`Emulator.env`):

- ``OCI_CONFIG_FILE``: the generated config file. `oci.config.from_file()` with no arguments
  reads it only when ``~/.oci/config`` does not exist (the SDK's own rule); the shim always
  honours it.
- ``OCI_CONFIG_PROFILE``: ``DEFAULT`` (a name the shim reads; the SDK itself has none).
- ``OCI_OBJECT_STORAGE_ENDPOINT``: the server's base URL (plain HTTP), read by the shim. The
  SDK reads no variable for its endpoint; code may pass it as ``service_endpoint=``.
- ``OCI_OBJECT_STORAGE_NAMESPACE``: the server's namespace, read by the shim (which otherwise
  asks the server with GetNamespace).
- ``HTTPS_PROXY``/``https_proxy`` (the server) and ``REQUESTS_CA_BUNDLE`` (its session CA): SDK
  code that names no endpoint calls ``https://objectstorage.us-ashburn-1.oraclecloud.com``,
  and this routes it to the server (see tests/servers/oci_tls.py). Any other HTTPS host is
  refused by the proxy while this environment is applied.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.servers import Emulator
from tests.servers.oci_object_storage import (
    DEFAULT_NAMESPACE,
    OciObjectStorageHttpServer,
    endpoint_of,
    running_server,
)

REGION = "us-ashburn-1"
TENANCY = "ocid1.tenancy.oc1..aaaaaaaacloudshifttest"
USER = "ocid1.user.oc1..aaaaaaaacloudshifttest"


def write_private_key(path: Path) -> str:
    """Write a new unencrypted RSA key as PEM; returns the fingerprint OCI would show for it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.write_bytes(pem)
    path.chmod(0o600)
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return ":".join(f"{byte:02x}" for byte in hashlib.md5(public_der).digest())


def write_oci_config(directory: Path) -> Path:
    """An OCI config file (profile DEFAULT) with its own key, as `oci setup config` would write."""
    key_path = directory / "oci_api_key.pem"
    fingerprint = write_private_key(key_path)
    config_path = directory / "config"
    config_path.write_text(
        f"[DEFAULT]\nuser={USER}\nfingerprint={fingerprint}\ntenancy={TENANCY}\nregion={REGION}\nkey_file={key_path}\n",
        encoding="utf-8",
    )
    return config_path


def sdk_client(env: Mapping[str, str]) -> Any:
    """A real `oci` ObjectStorageClient configured from an emulator's environment, for tests."""
    import oci

    config = oci.config.from_file(env["OCI_CONFIG_FILE"], env["OCI_CONFIG_PROFILE"])
    return oci.object_storage.ObjectStorageClient(config, service_endpoint=env["OCI_OBJECT_STORAGE_ENDPOINT"])


def create_bucket(emulator: Emulator, name: str) -> None:
    """Create a bucket through the SDK, as a test's setup would on Oracle Cloud."""
    import oci

    client = sdk_client(emulator.env)
    details = oci.object_storage.models.CreateBucketDetails(name=name, compartment_id=TENANCY)
    client.create_bucket(emulator.env["OCI_OBJECT_STORAGE_NAMESPACE"], details)


def emulator_for(server: OciObjectStorageHttpServer, config_path: Path) -> Emulator:
    """The `Emulator` (endpoint and environment) for a running server and a config file."""
    endpoint = endpoint_of(server)
    env = {
        "OCI_CONFIG_FILE": os.fspath(config_path),
        "OCI_CONFIG_PROFILE": "DEFAULT",
        "OCI_OBJECT_STORAGE_ENDPOINT": endpoint,
        "OCI_OBJECT_STORAGE_NAMESPACE": server.state.namespace,
    }
    if server.certificate_authority is not None:
        ca_bundle = os.fspath(server.certificate_authority.bundle_path)
        env.update(HTTPS_PROXY=endpoint, https_proxy=endpoint, REQUESTS_CA_BUNDLE=ca_bundle)
    return Emulator(provider="oci", endpoint=endpoint, env=env)


@pytest.fixture(scope="session")
def oci_config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An OCI config file with a generated API key, shared by every OCI server of the session."""
    return write_oci_config(tmp_path_factory.mktemp("oci-config"))


@pytest.fixture(scope="session")
def oci_server(oci_config_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """The OCI Object Storage test server and the environment that points the SDK and shim at it."""
    with running_server(DEFAULT_NAMESPACE, tls_directory=tmp_path_factory.mktemp("oci-tls")) as server:
        yield emulator_for(server, oci_config_file)
