"""Azure-specific behaviour of storage_shim, against Azurite over HTTP(S).

What every backend shares is in test_conformance.py. This file covers what only Azure has:
the emulator environment working for plain azure-storage-blob code, SAS URLs (refused by
Azurite when tampered with, scoped to their permission, PUT needing `x-ms-blob-type`), the
ways to configure the account, user delegation SAS with a token credential, and the
escaping of metadata names that Azure cannot store.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urlsplit

import pytest
import requests
from azure.storage.blob import (
    AccountSasPermissions,
    BlobServiceClient,
    ContentSettings,
    ResourceTypes,
    generate_account_sas,
)

from storage_shim import (
    MissingDependency,
    PresignNotSupported,
    StorageClient,
    create_storage_client,
)
from storage_shim.backends.azure import _decode_name, _encode_name
from tests.servers import Emulator
from tests.servers.azure import ACCOUNT_KEY, ACCOUNT_NAME, EmulatorTokenCredential


def _new_container(connection_string: str) -> str:
    """A new container, created the way application code does: from the connection string."""
    name = f"az-{uuid.uuid4().hex[:16]}"
    BlobServiceClient.from_connection_string(connection_string).create_container(name)
    return name


@pytest.fixture
def azure_env(azure_server: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    for name, value in azure_server.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("STORAGE_PROVIDER", "azure")
    return azure_server


@pytest.fixture
def container(azure_env: Emulator) -> str:
    return _new_container(os.environ["AZURE_STORAGE_CONNECTION_STRING"])


@pytest.fixture
def shim(container: str) -> StorageClient:
    return create_storage_client(container)


def test_fixture_environment_serves_plain_sdk_code_and_the_shim_sees_its_blobs(
    container: str,
) -> None:

    service = BlobServiceClient.from_connection_string(os.environ["AZURE_STORAGE_CONNECTION_STRING"])
    service.get_blob_client(container, "from-sdk/report.csv").upload_blob(
        b"a,b\n",
        content_settings=ContentSettings(content_type="text/csv"),
        metadata={"team": "data"},
    )
    shim = create_storage_client(container)
    info = shim.stat("from-sdk/report.csv")
    assert (info.size, info.content_type, info.metadata) == (4, "text/csv", {"team": "data"})

    shim.put("from-shim.json", b"{}", content_type="application/json", metadata={"owner": "ops"})
    properties = service.get_blob_client(container, "from-shim.json").get_blob_properties()
    assert (properties.content_settings.content_type, properties.metadata) == (
        "application/json",
        {"owner": "ops"},
    )


def test_sas_url_fetched_with_requests_returns_the_bytes(shim: StorageClient, azure_env: Emulator) -> None:
    shim.put("reports/q1 ü.txt", b"quarterly")
    url = shim.get_presigned_url("reports/q1 ü.txt", expires_in=timedelta(minutes=5))
    parts = urlsplit(url)
    assert url.startswith(f"{azure_env.endpoint}/{ACCOUNT_NAME}/{shim.bucket}/reports/q1%20%C3%BC.txt?")
    query = parse_qs(parts.query)
    assert (query["sp"], query["sr"]) == (["r"], ["b"])
    response = requests.get(url, timeout=30)
    assert (response.status_code, response.content) == (200, b"quarterly")


def test_tampered_sas_is_refused_by_azurite(shim: StorageClient) -> None:
    shim.put("secret", b"only with a valid SAS")
    url = shim.get_presigned_url("secret", expires_in=300)
    assert requests.get(url, timeout=30).status_code == 200
    tampered = {
        "signature": url.replace("sig=", "sig=A"),
        "widened permission": url.replace("sp=r&", "sp=rwd&"),
        "other blob": url.replace("/secret?", "/other?"),
        "no signature": url.split("&sig=")[0],
    }
    for change, tampered_url in tampered.items():
        response = requests.get(tampered_url, timeout=30)
        assert response.status_code == 403, f"{change}: {response.status_code} {response.text[:200]}"


def test_read_sas_cannot_write_and_write_sas_cannot_read(shim: StorageClient) -> None:
    shim.put("doc", b"original")
    read_url = shim.get_presigned_url("doc")
    response = requests.put(read_url, data=b"overwrite", headers=shim.presigned_put_headers, timeout=30)
    assert response.status_code == 403
    write_url = shim.get_presigned_url("doc", method="PUT")
    assert requests.get(write_url, timeout=30).status_code == 403
    assert shim.get("doc") == b"original"


def test_put_through_sas_needs_the_blob_type_header(shim: StorageClient) -> None:
    assert shim.presigned_put_headers == {"x-ms-blob-type": "BlockBlob"}
    url = shim.get_presigned_url("uploads/file.bin", method="PUT", expires_in=300)
    without_header = requests.put(url, data=b"no type", timeout=30)
    assert without_header.status_code == 400
    assert not shim.exists("uploads/file.bin")
    with_header = requests.put(url, data=b"typed", headers=shim.presigned_put_headers, timeout=30)
    assert with_header.status_code == 201, with_header.text
    assert shim.get("uploads/file.bin") == b"typed"


def test_expired_sas_is_refused(shim: StorageClient) -> None:
    """SAS expiry is in whole seconds, rounded up: a one-second URL is dead two seconds later."""
    shim.put("brief", b"x")
    url = shim.get_presigned_url("brief", expires_in=1)
    assert requests.get(url, timeout=30).status_code == 200
    time.sleep(2.5)
    assert requests.get(url, timeout=30).status_code == 403


@pytest.mark.parametrize(
    "names",
    [
        {"run-id": "7", "1st": "a", "_x": "b", "a_xb": "c"},
        {"x_x2d_": "literal escape text", "--": "dashes", "plain_name": "unchanged"},
    ],
)
def test_metadata_names_azure_cannot_store_round_trip(shim: StorageClient, names: dict[str, str]) -> None:
    shim.put("meta", b"m", metadata=names)
    assert shim.stat("meta").metadata == names


def test_metadata_name_escaping_keeps_identifiers_unchanged_and_is_reversible() -> None:
    assert _encode_name("owner") == "owner"
    assert _encode_name("plain_name") == "plain_name"
    assert _encode_name("run-id") == "run_x2d_id"
    assert _encode_name("1st") == "_x31_st"
    for name in ("a-b", "9", "_x", "x_x2d_", "__x", "-_x2d_-", "a_b_c", "x"):
        assert _decode_name(_encode_name(name)) == name


def test_account_url_with_account_key_from_the_environment(
    azure_env: Emulator, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Azure CLI's variables: account URL (or name) plus AZURE_STORAGE_KEY."""
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_URL", f"{azure_env.endpoint}/{ACCOUNT_NAME}")
    monkeypatch.setenv("AZURE_STORAGE_KEY", ACCOUNT_KEY)
    shim = create_storage_client(f"az://{container}")
    shim.put("by-key", b"k")
    assert requests.get(shim.get_presigned_url("by-key"), timeout=30).content == b"k"


def test_connection_string_with_only_a_sas_works_but_cannot_presign(
    azure_env: Emulator, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:

    sas = generate_account_sas(
        ACCOUNT_NAME,
        ACCOUNT_KEY,
        ResourceTypes(container=True, object=True),
        AccountSasPermissions(read=True, write=True, list=True, create=True),
        datetime.now(timezone.utc) + timedelta(hours=1),
    )
    monkeypatch.setenv(
        "AZURE_STORAGE_CONNECTION_STRING",
        f"BlobEndpoint={azure_env.endpoint}/{ACCOUNT_NAME};SharedAccessSignature={sas}",
    )
    shim = create_storage_client(container)
    shim.put("via-sas", b"s")
    shim.copy("via-sas", "copied")  # the copy source is authorised by the same SAS
    assert [info.key for info in shim.list()] == ["copied", "via-sas"]
    with pytest.raises(PresignNotSupported, match="account key"):
        shim.get_presigned_url("via-sas")


def _resigned_in_azurite_format(url: str, delegation_key_value: str) -> str:
    """The URL with its SAS signed again in the newest user-delegation format Azurite knows.

    That format (service version 2025-07-05) lacks the signed-request-headers and
    signed-request-query lines that 2026-10-06 added; every field is taken from the URL.
    """
    base, _, query = url.partition("?")
    params = dict(parse_qsl(query, keep_blank_values=True))
    account, container, blob = unquote(urlsplit(base).path).lstrip("/").split("/", 2)
    fields = [
        params["sp"],
        params.get("st", ""),
        params["se"],
        f"/blob/{account}/{container}/{blob}",
        params["skoid"],
        params["sktid"],
        params["skt"],
        params["ske"],
        params["sks"],
        params["skv"],
        "",
        "",
        "",
        params.get("skdutid", ""),
        params.get("sduoid", ""),
        params.get("sip", ""),
        params.get("spr", ""),
        params["sv"],
        params["sr"],
        "",
        params.get("ses", ""),
        params.get("rscc", ""),
        params.get("rscd", ""),
        params.get("rsce", ""),
        params.get("rscl", ""),
        params.get("rsct", ""),
    ]
    digest = hmac.new(base64.b64decode(delegation_key_value), "\n".join(fields).encode(), hashlib.sha256)
    params["sig"] = base64.b64encode(digest.digest()).decode()
    return f"{base}?{urlencode(params)}"


def test_token_credential_authenticates_requests_and_presigns_with_a_user_delegation_key(
    azure_oauth_server: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bearer-token requests over HTTPS, and a SAS signed with a user delegation key.

    Azurite 3.35 cannot check this SAS as issued: azure-storage-blob 12.31 signs with
    service version 2026-10-06, whose user-delegation string-to-sign has two lines more
    than the newest format Azurite knows (2025-07-05), so Azurite refuses it with 403.
    Everything the URL carries (delegation key identity and validity, permission, expiry,
    resource) is proven instead by signing the same fields in Azurite's format, with the
    same delegation key (Azurite derives its keys deterministically from those fields),
    and fetching that.
    """
    for name, value in azure_oauth_server.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    credential = EmulatorTokenCredential()
    account_url = azure_oauth_server.env["AZURE_STORAGE_ACCOUNT_URL"]

    service = BlobServiceClient(account_url, credential=credential)
    name = f"az-{uuid.uuid4().hex[:16]}"
    service.create_container(name)

    shim = create_storage_client(f"az://{name}", account_url=account_url, credential=credential)
    shim.put("delegated ü.txt", b"via token", content_type="text/plain")
    shim.copy("delegated ü.txt", "copy.txt")
    assert shim.get("copy.txt") == b"via token"
    assert [info.key for info in shim.list()] == ["copy.txt", "delegated ü.txt"]

    url = shim.get_presigned_url("delegated ü.txt", expires_in=300)
    query = parse_qs(urlsplit(url).query)
    assert query["skoid"] == [EmulatorTokenCredential.object_id]
    assert query["sktid"] == [EmulatorTokenCredential.tenant_id]
    assert (query["sp"], query["sr"]) == (["r"], ["b"])
    readable = _in_azurite_format(service, url)
    response = requests.get(readable, timeout=30)
    assert (response.status_code, response.content) == (200, b"via token")
    assert requests.get(readable.replace("sig=", "sig=A"), timeout=30).status_code == 403

    writable = _in_azurite_format(service, shim.get_presigned_url("uploaded.txt", method="PUT"))
    response = requests.put(writable, data=b"put", headers=shim.presigned_put_headers, timeout=30)
    assert response.status_code == 201, response.text
    assert shim.get("uploaded.txt") == b"put"


def _in_azurite_format(service: BlobServiceClient, url: str) -> str:
    """`url` re-signed as Azurite can check it, with the delegation key the URL names."""
    query = parse_qs(urlsplit(url).query)
    start, expiry = _sas_time(query["skt"][0]), _sas_time(query["ske"][0])
    key = service.get_user_delegation_key(start, expiry)
    return _resigned_in_azurite_format(url, key.value)


def _sas_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def test_unconfigured_azure_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "AZURE_STORAGE_CONNECTION_STRING",
        "AZURE_STORAGE_ACCOUNT_URL",
        "AZURE_STORAGE_ACCOUNT",
    ):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(Exception, match="AZURE_STORAGE_CONNECTION_STRING"):
        create_storage_client("az://anything")


def test_missing_sdk_names_the_azure_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "azure.storage.blob", None)  # what an absent package looks like
    with pytest.raises(MissingDependency, match=r"pip install 'cloudshift\[azure\]'"):
        create_storage_client("az://any", account_name="not-cached-before")
