"""Google Cloud Storage backend (google-cloud-storage).

Configuration is the SDK's own: Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS,
`gcloud auth application-default login`, the metadata server on Google Cloud), the project
from ADC or GOOGLE_CLOUD_PROJECT, and STORAGE_EMULATOR_HOST for an emulator. Options override
them: `project`, `credentials_file` (a service-account JSON key file).

Presigned URLs are V4 signed URLs, signed locally, so they need credentials holding a
private key (a service-account key); others raise `PresignNotSupported`. Under
STORAGE_EMULATOR_HOST requests are anonymous, as the SDK makes them there, while URLs are
signed with `credentials_file` or GOOGLE_APPLICATION_CREDENTIALS when that is a key.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from types import ModuleType
from typing import Any, BinaryIO

from .._redact import safe_cause
from ..errors import (
    AlreadyExists,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    PresignNotSupported,
    StorageError,
)
from ..types import ObjectInfo
from .base import (
    Backend,
    NetworkPolicy,
    as_utc,
    check_options,
    error_for_status,
    import_sdk,
)

EXTRA = "gcp"
_OPTIONS = frozenset({"project", "credentials_file", "endpoint"})
_SCOPES = ("https://www.googleapis.com/auth/devstorage.read_write",)
_CREATE_ONLY = 0  # if_generation_match=0: "only if no live object has this name"


@dataclass
class GCSConnection:
    """Credentials resolved once, and one `storage.Client` per thread.

    google-cloud-storage clients wrap a `requests` session, which is not documented as
    thread-safe; credentials are, so threads share them and nothing else. Under an
    emulator, URLs are signed with `signing_key_file`, read only when a URL is requested,
    so a GOOGLE_APPLICATION_CREDENTIALS that is not a service-account key breaks only that.
    """

    storage: ModuleType
    credentials: Any = field(repr=False)
    project: str | None
    policy: NetworkPolicy
    endpoint: str | None = None
    signing_key_file: str | None = None
    _per_thread: threading.local = field(default_factory=threading.local)

    def client(self) -> Any:
        client = getattr(self._per_thread, "client", None)
        if client is None:
            client_options = {"api_endpoint": self.endpoint} if self.endpoint else None
            client = self.storage.Client(
                project=self.project, credentials=self.credentials, client_options=client_options
            )
            self._per_thread.client = client
        return client

    def call_options(self) -> dict[str, Any]:
        """`timeout` and `retry` for one SDK call: google-cloud-storage takes them per call."""
        return {"timeout": (self.policy.connect_timeout, self.policy.read_timeout), "retry": _retry(self.policy)}

    def signing_credentials(self) -> Any:
        if self.signing_key_file:
            return _service_account(self.signing_key_file)
        return self.credentials


class GCSBackend(Backend):
    """One GCS bucket; each thread talks through its own client."""

    provider = "gcs"
    extra = EXTRA
    env_vars = (
        "GOOGLE_APPLICATION_CREDENTIALS",
        "GOOGLE_CLOUD_PROJECT",
        "GCLOUD_PROJECT",
        "GOOGLE_CLOUD_UNIVERSE_DOMAIN",
        "GOOGLE_API_USE_CLIENT_CERTIFICATE",
        "CLOUDSDK_CONFIG",
        "GCE_METADATA_HOST",
        "STORAGE_EMULATOR_HOST",
        "API_ENDPOINT_OVERRIDE",
    )

    @classmethod
    def connect(cls, options: Mapping[str, Any], policy: NetworkPolicy) -> GCSConnection:
        check_options(cls.provider, options, _OPTIONS)
        storage = import_sdk("google.cloud.storage", EXTRA)
        project, endpoint, key_file = options.get("project"), options.get("endpoint"), options.get("credentials_file")
        if os.environ.get("STORAGE_EMULATOR_HOST"):
            anonymous = import_sdk("google.auth.credentials", EXTRA).AnonymousCredentials()
            signing_key_file = key_file or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
            return GCSConnection(storage, anonymous, project, policy, endpoint, signing_key_file)
        with _translated(bucket=None, key=None):
            credentials, detected_project = _cloud_credentials(key_file)
        return GCSConnection(storage, credentials, project or detected_project, policy, endpoint)

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
        """One upload; `overwrite=False` sends `ifGenerationMatch=0`, checked atomically by GCS."""
        blob = self._blob(key)
        blob.metadata = dict(metadata)
        try:
            with self._translated(key):
                blob.upload_from_file(
                    body,
                    size=size,
                    content_type=content_type,
                    if_generation_match=None if overwrite else _CREATE_ONLY,
                    **self.connection.call_options(),
                )
        except PreconditionFailed as exc:
            message = f"object {key!r} already exists"
            raise AlreadyExists(message, key=key, bucket=self.bucket) from exc

    def get(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        """A ranged download has inclusive bounds in the SDK; the whole object is checksum-validated."""
        not_satisfiable = import_sdk("google.api_core.exceptions", EXTRA).RequestRangeNotSatisfiable
        last = None if end is None else end - 1
        with self._translated(key):
            try:
                content: bytes = self._blob(key).download_as_bytes(
                    start=start or None, end=last, **self.connection.call_options()
                )
            except not_satisfiable:
                return b""
        return content

    def download_to(self, key: str, fileobj: BinaryIO) -> None:
        """Streams in chunks, with the SDK's checksum validation."""
        with self._translated(key):
            self._blob(key).download_to_file(fileobj, **self.connection.call_options())

    def stat(self, key: str) -> ObjectInfo:
        with self._translated(key):
            blob = self._bucket().get_blob(key, **self.connection.call_options())
        if blob is None:
            message = f"no object {key!r} in bucket {self.bucket!r}"
            raise NotFound(message, key=key, bucket=self.bucket)
        return _object_info(blob, with_details=True)

    def exists(self, key: str) -> bool:
        with self._translated(key):
            return bool(self._blob(key).exists(**self.connection.call_options()))

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """objects.list pages, which GCS returns in UTF-8 byte order of names."""
        with self._translated(prefix):
            blobs = self.connection.client().list_blobs(
                self.bucket, prefix=prefix or None, **self.connection.call_options()
            )
            for blob in blobs:
                yield _object_info(blob, with_details=False)

    def delete(self, key: str) -> None:
        try:
            with self._translated(key):
                self._blob(key).delete(**self.connection.call_options())
        except NotFound:
            return

    def copy(self, src_key: str, dst_key: str) -> None:
        """objects.rewrite, repeated until done: unlike objects.copy it works for any size."""
        source = self._blob(src_key)
        destination = self._blob(dst_key)
        with self._translated(src_key):
            token, _, _ = destination.rewrite(source, **self.connection.call_options())
            while token is not None:
                token, _, _ = destination.rewrite(source, token=token, **self.connection.call_options())

    def presign(self, key: str, *, method: str, expires: timedelta) -> str:
        """A V4 signed URL, signed locally; under an emulator it points at the emulator."""
        signing = import_sdk("google.auth.credentials", EXTRA).Signing
        with self._translated(key):
            credentials = self.connection.signing_credentials()
        if not isinstance(credentials, signing):
            raise PresignNotSupported(_cannot_sign_reason(credentials), key=key, bucket=self.bucket)
        with self._translated(key):
            url: str = self._blob(key).generate_signed_url(
                version="v4", expiration=expires, method=method, credentials=credentials
            )
        return url

    def _bucket(self) -> Any:
        return self.connection.client().bucket(self.bucket)

    def _blob(self, key: str) -> Any:
        return self._bucket().blob(key)

    def _translated(self, key: str) -> Any:
        return _translated(bucket=self.bucket, key=key)


def _cloud_credentials(key_file: str | None) -> tuple[Any, str | None]:
    """Credentials and their project: a service-account key, else Application Default ones."""
    if key_file:
        credentials = _service_account(key_file)
        return credentials, credentials.project_id
    default: tuple[Any, str | None] = import_sdk("google.auth", EXTRA).default(scopes=_SCOPES)
    return default


def _retry(policy: NetworkPolicy) -> Any:
    """google-cloud-storage's own retry (its retryable errors, exponential backoff from 1 s to
    8 s), limited to `max_attempts` tries; None (no retry) for one.

    google-api-core's Retry bounds time, not tries, so its predicate also counts the failures
    it is asked about; a new Retry per call keeps each call's count. The SDK's predicate has
    no public accessor, hence `_predicate`.
    """
    if policy.max_attempts == 1:
        return None
    default = import_sdk("google.cloud.storage.retry", EXTRA).DEFAULT_RETRY
    retryable = default._predicate
    failures = itertools.count(1)

    def retry_this(error: Exception) -> bool:
        return bool(retryable(error)) and next(failures) < policy.max_attempts

    return default.with_predicate(retry_this).with_delay(initial=1.0, maximum=8.0)


def _service_account(key_file: str) -> Any:
    """Credentials from a service-account JSON key file; `PermissionDenied` if it is unusable."""
    service_account = import_sdk("google.oauth2.service_account", EXTRA)
    try:
        return service_account.Credentials.from_service_account_file(os.fspath(key_file), scopes=_SCOPES)
    except (OSError, ValueError) as exc:  # unreadable, not JSON, not a key, or a key that does not load
        raise PermissionDenied(f"{key_file} is not a usable service-account key: {exc}") from safe_cause(exc)


def _cannot_sign_reason(credentials: Any) -> str:
    kind = "no credentials" if credentials is None else type(credentials).__name__
    return (
        f"GCS V4 signed URLs are signed locally with a private key, and the current credentials "
        f"({kind}) have none: use a service-account JSON key (GOOGLE_APPLICATION_CREDENTIALS or "
        f"the credentials_file option)"
    )


def _object_info(blob: Any, *, with_details: bool) -> ObjectInfo:
    """A blob resource as ObjectInfo; content type and metadata only for `stat()`."""
    return ObjectInfo(
        key=blob.name,
        size=int(blob.size or 0),
        etag=blob.etag.strip('"') if blob.etag else None,
        last_modified=as_utc(blob.updated),
        content_type=blob.content_type if with_details else None,
        metadata={k.lower(): v for k, v in (blob.metadata or {}).items()} if with_details else None,
    )


@contextmanager
def _translated(*, bucket: str | None, key: str | None) -> Iterator[None]:
    """google-api-core and google-auth exceptions become shim errors (kept as __cause__)."""
    api = import_sdk("google.api_core.exceptions", EXTRA)
    auth = import_sdk("google.auth.exceptions", EXTRA)
    requests = import_sdk("requests", EXTRA)
    try:
        yield
    except api.GoogleAPICallError as exc:
        error_class = error_for_status(exc.code)
        raise error_class(f"GCS {exc.code}: {exc.message}", key=key, bucket=bucket) from safe_cause(exc)
    except auth.GoogleAuthError as exc:
        raise PermissionDenied(f"Google credentials: {exc}", key=key, bucket=bucket) from safe_cause(exc)
    except (api.GoogleAPIError, requests.RequestException) as exc:
        raise StorageError(f"GCS request failed: {exc}", key=key, bucket=bucket) from safe_cause(exc)
