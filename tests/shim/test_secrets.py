"""No credential reaches text the shim shows: reprs, str, error messages and tracebacks.

Secrets are built at run time (never literals) so that a traceback's source lines cannot
contain them and make a check pass or fail for the wrong reason.
"""

from __future__ import annotations

import json
import secrets
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from storage_shim import PermissionDenied, StorageClient, StorageError, create_storage_client
from storage_shim._redact import redact
from tests.servers import Emulator, free_port
from tests.servers.azure import ACCOUNT_KEY, ACCOUNT_NAME, connection_string


def _secret(label: str) -> str:
    return f"{label}{secrets.token_hex(8)}"


def _shown(client: StorageClient) -> str:
    """Everything a client and what it holds print about themselves."""
    backend = client._backend
    return " ".join(
        [repr(client), str(client), repr(backend), str(backend), repr(backend.connection), str(backend.connection)]
    )


def _all_text(error: BaseException) -> str:
    """What a traceback of `error` prints, its causes included."""
    return "".join(traceback.format_exception(error))


def _raised(operation: Callable[[], object]) -> BaseException:
    with pytest.raises(Exception) as raised:
        operation()
    return raised.value


SECRET_SHAPES = {
    "s3 presigned url": ("https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA{s}&X-Amz-Signature={s}", "X-Amz-"),
    "s3 session token header": ("headers={{'X-Amz-Security-Token': b'{s}'}}", "X-Amz-Security-Token"),
    "boto3 option": ("aws_secret_access_key={s}", "aws_secret_access_key"),
    "gcs signed url": ("https://storage.googleapis.com/b/k?X-Goog-Credential=a&X-Goog-Signature={s}", "X-Goog"),
    "gcs key file": (
        '{{"private_key": "-----BEGIN PRIVATE KEY-----\\n{s}\\n-----END PRIVATE KEY-----\\n"}}',
        "private_key",
    ),
    "pem": ("-----BEGIN RSA PRIVATE KEY-----\n{s}\n-----END RSA PRIVATE KEY-----", ""),
    "azure sas": ("https://a.blob.core.windows.net/c/b?sv=2024-05-04&sp=r&sig={s}%3D", "sv=2024-05-04"),
    "azure connection string": ("AccountName=a;AccountKey={s}==;BlobEndpoint=https://a", "AccountName=a"),
    "azure sas connection string": ("BlobEndpoint=https://a;SharedAccessSignature=sv=1&sig={s}", "BlobEndpoint"),
    "oci par url": ("https://objectstorage.us-ashburn-1.oraclecloud.com/p/{s}/n/ns/b/b/o/k", "/n/ns/b/b/o/k"),
    "oci config": ("pass_phrase={s}", "pass_phrase"),
    "bearer token": ("Authorization: Bearer {s}", "Authorization"),
    "url password": ("s3://AKIA:{s}@bucket/key", "@bucket/key"),
}


@pytest.mark.parametrize("shape", SECRET_SHAPES)
def test_every_credential_shape_is_masked_and_the_rest_kept(shape: str) -> None:
    template, kept = SECRET_SHAPES[shape]
    secret = _secret("s")
    text = template.format(s=secret)
    masked = redact(text)
    assert secret not in masked
    assert kept in masked and "***" in masked


def test_error_messages_are_redacted_when_made() -> None:
    token = _secret("par")
    error = StorageError(f"GET https://objectstorage.example.com/p/{token}/n/ns/b/b/o/k failed", key="k")
    assert token not in str(error) and token not in repr(error)
    assert "/n/ns/b/b/o/k" in str(error)


@pytest.fixture
def aws_secrets(s3_server: Emulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    return {"aws_secret_access_key": _secret("awssecret"), "aws_session_token": _secret("awstoken")}


def _options(aws_secrets: dict[str, str]) -> dict[str, str]:
    return {"aws_access_key_id": "AKIATESTING", **aws_secrets}


def test_s3_clients_and_errors_hide_the_secret_key_and_session_token(aws_secrets: dict[str, str]) -> None:
    client = create_storage_client("s3://no-such-bucket", **_options(aws_secrets))
    error = _raised(lambda: client.get("k"))
    closed = create_storage_client("s3://b", endpoint_url=f"http://127.0.0.1:{free_port()}", **_options(aws_secrets))
    unreachable = _raised(lambda: closed.get("k"))
    for text in (_shown(client), _all_text(error), _all_text(unreachable)):
        assert not any(secret in text for secret in aws_secrets.values())


def test_azure_account_keys_and_sas_tokens_stay_hidden(azure_server: Emulator) -> None:
    container = f"secrets-{uuid.uuid4().hex[:12]}"
    keyed = create_storage_client(f"az://{container}", connection_string=connection_string(azure_server.endpoint))
    signature = _secret("sig")
    sas_only = create_storage_client(
        f"az://{container}",
        connection_string=f"BlobEndpoint={azure_server.endpoint}/{ACCOUNT_NAME};SharedAccessSignature=sv=2024&sig={signature}",
    )
    refused = _raised(lambda: sas_only.get("k"))
    assert isinstance(refused, StorageError)
    assert ACCOUNT_KEY not in _shown(keyed) and ACCOUNT_KEY[:20] not in _shown(keyed)
    assert signature not in _shown(sas_only) and signature not in _all_text(refused)


def test_gcs_key_material_stays_hidden(gcs_server: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in gcs_server.env.items():
        monkeypatch.setenv(name, value)
    key = json.loads(Path(gcs_server.env["GOOGLE_APPLICATION_CREDENTIALS"]).read_text())
    key_body = key["private_key"].splitlines()[1]
    client = create_storage_client("gs://bucket", credentials_file=gcs_server.env["GOOGLE_APPLICATION_CREDENTIALS"])
    assert key_body not in _shown(client)
    broken_body = _secret("MIIEvQ")
    key["private_key"] = f"-----BEGIN PRIVATE KEY-----\n{broken_body}\n-----END PRIVATE KEY-----\n"
    broken = tmp_path / "broken-key.json"
    broken.write_text(json.dumps(key))
    monkeypatch.delenv("STORAGE_EMULATOR_HOST")
    error = _raised(lambda: create_storage_client("gs://bucket", credentials_file=str(broken)))
    assert isinstance(error, PermissionDenied)
    assert broken_body not in _all_text(error)


def test_oci_key_files_stay_hidden(oci_server: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in oci_server.env.items():
        monkeypatch.setenv(name, value)
    config = Path(oci_server.env["OCI_CONFIG_FILE"]).read_text()
    key_file = next(line.split("=", 1)[1] for line in config.splitlines() if line.startswith("key_file="))
    key_body = Path(key_file).read_text().splitlines()[1]
    client = create_storage_client("oci://no-such-bucket")
    error = _raised(lambda: client.get("k"))
    assert key_body not in _shown(client) and key_body not in _all_text(error)
