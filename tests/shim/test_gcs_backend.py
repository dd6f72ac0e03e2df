"""GCS-specific behaviour of storage_shim, against gcp-storage-emulator over HTTP.

What every backend shares is in test_conformance.py. This file covers what only GCS has:
the emulator environment working for plain google-cloud-storage code, V4 signed URLs and
the credentials they need. (Create-only writes, `ifGenerationMatch=0` here, are covered by
the conformance suite's contention test.)

The emulator serves signed URLs without checking their signature, so the signature is
checked here instead: `verify_v4_signature` rebuilds the string to sign from the URL as
Google's V4 signing documentation describes and verifies it with the key's public half.
"""

from __future__ import annotations

import hashlib
import json
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from google.cloud import storage

from storage_shim import (
    MissingDependency,
    PermissionDenied,
    PresignNotSupported,
    create_storage_client,
)
from tests.servers import Emulator
from tests.servers.gcs import SERVICE_ACCOUNT_EMAIL, write_service_account_key


@pytest.fixture
def gcs_env(gcs_server: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    for name, value in gcs_server.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("STORAGE_PROVIDER", "gcs")
    return gcs_server


@pytest.fixture
def bucket(gcs_env: Emulator) -> str:
    """A new bucket, created the way application code does: `storage.Client()`."""
    name = f"gcs-{uuid.uuid4().hex[:16]}"
    storage.Client().create_bucket(name)
    return name


def _public_key(key_file: str) -> rsa.RSAPublicKey:
    private_pem = json.loads(Path(key_file).read_text())["private_key"].encode()
    private_key = serialization.load_pem_private_key(private_pem, password=None)
    assert isinstance(private_key, rsa.RSAPrivateKey)
    return private_key.public_key()


def verify_v4_signature(url: str, method: str, public_key: rsa.RSAPublicKey) -> dict[str, str]:
    """Check a V4 signed URL's RSA signature; return its query parameters.

    Raises `InvalidSignature` when the URL was not signed by the key or was altered.
    """
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    signature = bytes.fromhex(params.pop("X-Goog-Signature"))
    canonical_query = "&".join(
        f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}" for name, value in sorted(params.items())
    )
    signed_headers = params["X-Goog-SignedHeaders"]
    assert signed_headers == "host"
    canonical_request = "\n".join(
        [
            method,
            parts.path,
            canonical_query,
            f"host:{parts.netloc}\n",
            signed_headers,
            "UNSIGNED-PAYLOAD",
        ]
    )
    scope = params["X-Goog-Credential"].split("/", 1)[1]
    string_to_sign = "\n".join(
        [
            params["X-Goog-Algorithm"],
            params["X-Goog-Date"],
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    public_key.verify(signature, string_to_sign.encode(), padding.PKCS1v15(), hashes.SHA256())
    return params


def test_fixture_environment_serves_plain_sdk_code_and_the_shim_sees_its_objects(
    bucket: str,
) -> None:

    blob = storage.Client().bucket(bucket).blob("from-sdk/report.csv")
    blob.metadata = {"team": "data"}
    blob.upload_from_string(b"a,b\n", content_type="text/csv")

    shim = create_storage_client(bucket)
    info = shim.stat("from-sdk/report.csv")
    assert (info.size, info.content_type, info.metadata) == (4, "text/csv", {"team": "data"})

    shim.put("from-shim.json", b"{}", content_type="application/json", metadata={"run-id": "7"})
    stored = storage.Client().bucket(bucket).get_blob("from-shim.json")
    assert (stored.content_type, stored.metadata) == ("application/json", {"run-id": "7"})
    assert stored.download_as_bytes() == b"{}"


def test_sdk_code_that_loads_the_service_account_key_also_reaches_the_emulator(bucket: str, gcs_env: Emulator) -> None:

    client = storage.Client.from_service_account_json(gcs_env.env["GOOGLE_APPLICATION_CREDENTIALS"])
    client.bucket(bucket).blob("keyed").upload_from_string(b"with a bearer token")
    assert create_storage_client(bucket).get("keyed") == b"with a bearer token"


def test_presigned_get_is_a_v4_url_signed_by_the_service_account_key(bucket: str, gcs_env: Emulator) -> None:
    shim = create_storage_client(bucket)
    shim.put("signed/ü file.txt", b"signed bytes")
    url = shim.get_presigned_url("signed/ü file.txt", expires_in=timedelta(minutes=10))

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == gcs_env.endpoint
    assert parts.path == f"/{bucket}/signed/%C3%BC%20file.txt"
    params = verify_v4_signature(url, "GET", _public_key(gcs_env.env["GOOGLE_APPLICATION_CREDENTIALS"]))
    assert params["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
    assert params["X-Goog-Credential"].startswith(f"{SERVICE_ACCOUNT_EMAIL}/")
    assert params["X-Goog-Expires"] == "600"
    signed_at = datetime.strptime(params["X-Goog-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    assert abs(datetime.now(timezone.utc) - signed_at) < timedelta(minutes=1)

    response = requests.get(url, timeout=30)
    assert (response.status_code, response.content) == (200, b"signed bytes")


def test_signature_check_is_not_vacuous(bucket: str, gcs_env: Emulator) -> None:
    """An altered URL, or one signed for another method, fails the verification above."""
    shim = create_storage_client(bucket)
    public_key = _public_key(gcs_env.env["GOOGLE_APPLICATION_CREDENTIALS"])
    url = shim.get_presigned_url("k", expires_in=60)
    with pytest.raises(InvalidSignature):
        verify_v4_signature(url.replace("X-Goog-Expires=60", "X-Goog-Expires=604800"), "GET", public_key)
    with pytest.raises(InvalidSignature):
        verify_v4_signature(url, "PUT", public_key)


def test_presigned_put_is_signed_for_put_and_stores_the_bytes(bucket: str, gcs_env: Emulator) -> None:
    shim = create_storage_client(bucket)
    url = shim.get_presigned_url("uploads/new.bin", method="PUT", expires_in=300)
    verify_v4_signature(url, "PUT", _public_key(gcs_env.env["GOOGLE_APPLICATION_CREDENTIALS"]))
    response = requests.put(url, data=b"put through the URL", timeout=30)
    assert response.status_code == 200, response.text
    assert shim.get("uploads/new.bin") == b"put through the URL"


def test_presign_without_a_private_key_raises_presign_not_supported(
    bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    shim = create_storage_client(bucket)
    shim.put("k", b"v")  # the connection itself works: requests are anonymous
    with pytest.raises(PresignNotSupported, match="service-account JSON key"):
        shim.get_presigned_url("k")


def test_credentials_file_option_signs_urls_for_google_cloud_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside an emulator the key also authenticates requests; signing itself is offline."""
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    key_file = write_service_account_key(tmp_path / "key.json", "https://oauth2.googleapis.com/token")
    shim = create_storage_client("gs://some-bucket", credentials_file=str(key_file))
    url = shim.get_presigned_url("path/obj.txt", expires_in=3600)
    assert url.startswith("https://storage.googleapis.com/some-bucket/path/obj.txt?")
    params = verify_v4_signature(url, "GET", _public_key(str(key_file)))
    assert params["X-Goog-Expires"] == "3600"


def test_missing_sdk_names_the_gcp_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "google.cloud.storage", None)  # what an absent package looks like
    with pytest.raises(MissingDependency, match=r"pip install 'cloudshift\[gcp\]'"):
        create_storage_client("gs://any", project="not-cached-before")


def test_unusable_application_default_credentials_are_permission_denied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-such-key.json"))
    with pytest.raises(PermissionDenied, match=r"no-such-key\.json"):
        create_storage_client("gs://some-bucket")
