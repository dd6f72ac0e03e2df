"""Azure Blob Storage backend (azure-storage-blob); the bucket is a container.

Configuration, first match wins: the `connection_string` option; the `account_url` (or
`account_name`) option; AZURE_STORAGE_CONNECTION_STRING; AZURE_STORAGE_ACCOUNT_URL (or
AZURE_STORAGE_ACCOUNT, the Azure CLI's name for the account). With an account URL the
credential is the `credential` option (any azure-identity credential), else the
`account_key` option or AZURE_STORAGE_KEY, else azure-identity's DefaultAzureCredential
(environment service principal, workload or managed identity, Azure CLI login, ...).

Presigned URLs are SAS tokens: signed with the account key when there is one, else with a
user delegation key requested with the token credential (the identity needs the
"Storage Blob Delegator" role). A PUT to such a URL must send `x-ms-blob-type: BlockBlob`.

Azure metadata names must be C# identifiers, so the `-` the shim allows (and a leading
digit) is stored escaped as `_x2d_` (`_x3N_`) and decoded by `stat()`; see `_encode_name`.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, BinaryIO, ClassVar

from .._redact import safe_cause
from ..errors import (
    AlreadyExists,
    NotFound,
    PermissionDenied,
    PresignNotSupported,
    StorageError,
)
from ..types import ObjectInfo
from .base import (
    RANGE_NOT_SATISFIABLE,
    Backend,
    NetworkPolicy,
    as_utc,
    check_options,
    error_for_status,
    import_sdk,
)

EXTRA = "azure"
_OPTIONS = frozenset({"connection_string", "account_url", "account_name", "account_key", "credential"})
_COPY_POLL_SECONDS = 0.2
_CLOCK_SKEW = timedelta(minutes=5)
_MAX_SAS_LIFETIME = timedelta(days=7)  # Azure's limit for user delegation keys
_ESCAPED = re.compile(r"_x([0-9a-f]{2})_")


@dataclass(frozen=True)
class AzureConnection:
    """A BlobServiceClient (thread-safe by Azure SDK design) and what SAS signing needs.

    `account_key` signs SAS tokens directly; without it, a token credential
    (`uses_token`) can obtain a user delegation key; with neither, nothing can sign.
    """

    service: Any
    account_key: str | None = field(repr=False)
    uses_token: bool = False


class AzureBackend(Backend):
    """One Azure Blob container through a shared BlobServiceClient."""

    provider = "azure"
    extra = EXTRA
    env_vars = (
        "AZURE_STORAGE_CONNECTION_STRING",
        "AZURE_STORAGE_ACCOUNT_URL",
        "AZURE_STORAGE_ACCOUNT",
        "AZURE_STORAGE_KEY",
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        "AZURE_FEDERATED_TOKEN_FILE",
        "AZURE_AUTHORITY_HOST",
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "MSI_ENDPOINT",
        "MSI_SECRET",
    )
    presigned_put_headers: ClassVar[Mapping[str, str]] = {"x-ms-blob-type": "BlockBlob"}

    @classmethod
    def connect(cls, options: Mapping[str, Any], policy: NetworkPolicy) -> AzureConnection:
        check_options(cls.provider, options, _OPTIONS)
        blob = import_sdk("azure.storage.blob", EXTRA)
        connection_string = options.get("connection_string")
        account_url = options.get("account_url") or _url_for_account(options.get("account_name"))
        if not connection_string and not account_url:
            connection_string = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
            account_url = os.environ.get("AZURE_STORAGE_ACCOUNT_URL") or _url_for_account(
                os.environ.get("AZURE_STORAGE_ACCOUNT")
            )
        pipeline = _pipeline_options(blob, policy)
        with _translated(bucket=None, key=None):
            if connection_string:
                service = blob.BlobServiceClient.from_connection_string(connection_string, **pipeline)
                key = _connection_string_fields(connection_string).get("accountkey")
                return AzureConnection(service, key, uses_token=False)
            if account_url:
                return _connect_to_account_url(blob, account_url, options, pipeline)
        raise StorageError(
            "Azure storage is not configured: set AZURE_STORAGE_CONNECTION_STRING, or "
            "AZURE_STORAGE_ACCOUNT_URL (AZURE_STORAGE_ACCOUNT) with azure-identity credentials, "
            "or pass connection_string= / account_url="
        )

    def put(
        self,
        key: str,
        body: BinaryIO,
        size: int,
        *,
        content_type: str,
        metadata: Mapping[str, str],
        overwrite: bool,
    ) -> None:
        """One upload_blob; with `overwrite=False` Azure refuses an existing blob atomically."""
        content_settings = import_sdk("azure.storage.blob", EXTRA).ContentSettings
        exists_error = import_sdk("azure.core.exceptions", EXTRA).ResourceExistsError
        with self._translated(key):
            try:
                self._blob(key).upload_blob(
                    body,
                    length=size,
                    overwrite=overwrite,
                    content_settings=content_settings(content_type=content_type),
                    metadata={_encode_name(name): value for name, value in metadata.items()},
                )
            except exists_error as exc:
                if overwrite:
                    raise
                message = f"object {key!r} already exists"
                raise AlreadyExists(message, key=key, bucket=self.bucket) from exc

    def get(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        ranged = {} if start == 0 and end is None else {"offset": start, "length": None if end is None else end - start}
        response_error = import_sdk("azure.core.exceptions", EXTRA).HttpResponseError
        with self._translated(key):
            try:
                downloader = self._blob(key).download_blob(**ranged)
            except response_error as exc:
                if exc.status_code != RANGE_NOT_SATISFIABLE:
                    raise
                return b""
            content: bytes = downloader.readall()
        return content

    def download_to(self, key: str, fileobj: BinaryIO) -> None:
        """Streams the blob in chunks (parallel ranges for large blobs)."""
        with self._translated(key):
            self._blob(key).download_blob().readinto(fileobj)

    def stat(self, key: str) -> ObjectInfo:
        with self._translated(key):
            properties = self._blob(key).get_blob_properties()
        return ObjectInfo(
            key=key,
            size=properties.size,
            etag=_unquoted(properties.etag),
            last_modified=as_utc(properties.last_modified),
            content_type=properties.content_settings.content_type,
            metadata={_decode_name(name): value for name, value in (properties.metadata or {}).items()},
        )

    def exists(self, key: str) -> bool:
        with self._translated(key):
            return bool(self._blob(key).exists())

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """list_blobs pages (up to 5,000 names each), which Azure returns in name order."""
        container = self.connection.service.get_container_client(self.bucket)
        with self._translated(prefix):
            for item in container.list_blobs(name_starts_with=prefix or None):
                yield ObjectInfo(
                    key=item.name,
                    size=item.size,
                    etag=_unquoted(item.etag),
                    last_modified=as_utc(item.last_modified),
                )

    def delete(self, key: str) -> None:
        """Deletes the blob with its snapshots; a missing blob is not an error."""
        try:
            with self._translated(key):
                self._blob(key).delete_blob(delete_snapshots="include")
        except NotFound:
            return

    def copy(self, src_key: str, dst_key: str) -> None:
        """Copy Blob within the account, waiting while the copy is pending.

        A same-account source is authorised by the request's own credential (key, token
        or the connection string's SAS, which `url` carries); Azure usually finishes such
        a copy before answering.
        """
        destination = self._blob(dst_key)
        with self._translated(src_key):
            status = destination.start_copy_from_url(self._blob(src_key).url)["copy_status"]
            while status == "pending":
                time.sleep(_COPY_POLL_SECONDS)
                status = destination.get_blob_properties().copy.status
        if status != "success":
            message = f"copy of {src_key!r} to {dst_key!r} ended with status {status!r}"
            raise StorageError(message, key=dst_key, bucket=self.bucket)

    def presign(self, key: str, *, method: str, expires: timedelta) -> str:
        """A blob SAS: read for GET; create and write for PUT (send `x-ms-blob-type`)."""
        if not (self.connection.account_key or self.connection.uses_token):
            raise PresignNotSupported(
                "Azure SAS URLs need the account key (connection string or account_key) or a "
                "token credential for a user delegation key; this connection has neither "
                "(a connection string holding a SAS cannot sign new ones)",
                key=key,
                bucket=self.bucket,
            )
        return self._signed_url(key, read=method == "GET", expires=expires)

    def _signed_url(self, key: str, *, read: bool, expires: timedelta) -> str:
        """The blob's URL with a SAS for reading, or for creating and writing."""
        blob = import_sdk("azure.storage.blob", EXTRA)
        service = self.connection.service
        permission = blob.BlobSasPermissions(read=read, create=not read, write=not read)
        expiry = _sas_expiry(expires)
        with self._translated(key):
            if self.connection.account_key:
                signer = {"account_key": self.connection.account_key}
            else:
                start = datetime.now(timezone.utc) - _CLOCK_SKEW
                signer = {"user_delegation_key": service.get_user_delegation_key(start, expiry)}
            token = blob.generate_blob_sas(
                service.account_name,
                self.bucket,
                key,
                permission=permission,
                expiry=expiry,
                **signer,
            )
        return f"{self._blob(key).url}?{token}"

    def _blob(self, key: str) -> Any:
        return self.connection.service.get_blob_client(self.bucket, key)

    def _translated(self, key: str) -> Any:
        return _translated(bucket=self.bucket, key=key)


def _connect_to_account_url(
    blob: Any, account_url: str, options: Mapping[str, Any], pipeline: Mapping[str, Any]
) -> AzureConnection:
    """A service client for an account URL, with an account key or a token credential."""
    credential = options.get("credential")
    account_key = options.get("account_key") or os.environ.get("AZURE_STORAGE_KEY")
    if credential is None and account_key:
        service = blob.BlobServiceClient(account_url, credential=account_key, **pipeline)
        return AzureConnection(service, account_key, uses_token=False)
    if credential is None:
        credential = import_sdk("azure.identity", EXTRA).DefaultAzureCredential()
    service = blob.BlobServiceClient(account_url, credential=credential, **pipeline)
    return AzureConnection(service, None, uses_token=hasattr(credential, "get_token"))


def _pipeline_options(blob: Any, policy: NetworkPolicy) -> dict[str, Any]:
    """The policy as azure-core transport timeouts and a storage retry policy.

    The storage SDK's default retry waits 15 s, then 18 s, then 24 s (about 80 s against an
    unreachable endpoint); this one waits about 3 s, then 5 s, then 9 s.
    """
    retry = blob.ExponentialRetry(
        initial_backoff=1, increment_base=2, retry_total=policy.max_attempts - 1, random_jitter_range=1
    )
    return {"connection_timeout": policy.connect_timeout, "read_timeout": policy.read_timeout, "retry_policy": retry}


def _sas_expiry(expires: timedelta) -> datetime:
    """When a SAS made now for `expires` ends, in the whole seconds SAS times are written in.

    Rounded up, so a one-second URL is not already dead when it arrives; rounded down only
    where rounding up would pass Azure's seven-day limit.
    """
    now = datetime.now(timezone.utc)
    whole_seconds = (now + expires).replace(microsecond=0)
    rounded_up = whole_seconds + timedelta(seconds=1)
    return rounded_up if rounded_up - now <= _MAX_SAS_LIFETIME else whole_seconds


def _url_for_account(account_name: str | None) -> str | None:
    return f"https://{account_name}.blob.core.windows.net" if account_name else None


def _connection_string_fields(connection_string: str) -> dict[str, str]:
    """`Name=value;...` pairs with case-folded names (Azure treats them case-insensitively)."""
    fields = (part.split("=", 1) for part in connection_string.split(";") if "=" in part)
    return {name.strip().casefold(): value.strip() for name, value in fields}


def _encode_name(name: str) -> str:
    """A shim metadata name as a C# identifier, reversibly.

    `-`, a leading digit and an `_` followed by `x` are written `_xHH_` (HH: hex code), so
    every other name, including every valid identifier without `_x`, is stored unchanged.
    """
    escaped = []
    for index, char in enumerate(name):
        needs_escape = (
            char == "-" or (index == 0 and char.isdigit()) or (char == "_" and name[index + 1 : index + 2] == "x")
        )
        escaped.append(f"_x{ord(char):02x}_" if needs_escape else char)
    return "".join(escaped)


def _decode_name(name: str) -> str:
    """The inverse of `_encode_name`, lower-cased like every shim metadata name."""
    return _ESCAPED.sub(lambda match: chr(int(match.group(1), 16)), name).lower()


def _unquoted(etag: str | None) -> str | None:
    return etag.strip('"') if etag else etag


@contextmanager
def _translated(*, bucket: str | None, key: str | None) -> Iterator[None]:
    """azure-core exceptions become shim errors (the original is kept as __cause__)."""
    exceptions = import_sdk("azure.core.exceptions", EXTRA)
    try:
        yield
    except exceptions.ClientAuthenticationError as exc:
        raise PermissionDenied(f"Azure: {exc.message}", key=key, bucket=bucket) from safe_cause(exc)
    except exceptions.HttpResponseError as exc:
        error_class = error_for_status(exc.status_code)
        code = getattr(exc, "error_code", None) or exc.status_code
        raise error_class(f"Azure {code}: {exc.reason or exc.message}", key=key, bucket=bucket) from safe_cause(exc)
    except exceptions.AzureError as exc:
        raise StorageError(f"Azure request failed: {exc.message}", key=key, bucket=bucket) from safe_cause(exc)
