"""Oracle Cloud Infrastructure Object Storage backend (the `oci` SDK).

Configuration follows the SDK's conventions; options override the environment:

- `auth` / OCI_CLI_AUTH: `api_key` (default: a config file profile), `instance_principal`
  or `resource_principal` (the SDK reads OCI_RESOURCE_PRINCIPAL_* itself).
- `config_file` / OCI_CONFIG_FILE (default ~/.oci/config) and `profile` /
  OCI_CONFIG_PROFILE, else OCI_CLI_PROFILE (default DEFAULT), for `api_key`.
- `region`: overrides the profile's or principal's region.
- `endpoint` / OCI_OBJECT_STORAGE_ENDPOINT: the service URL, e.g. a test server; by default
  the SDK derives it from the region. (The SDK itself reads no variable for it.)
- `namespace` / OCI_OBJECT_STORAGE_NAMESPACE, or `oci://bucket@namespace/...`: else it is
  looked up once per connection with GetNamespace.

Presigned URLs are pre-authenticated requests (PARs): each call creates one through the API
(so it needs PAR_MANAGE permission and is a network call), and the URL carries the PAR's
token in its path. OCI returns the token only when the PAR is created; it cannot be listed
again later, only deleted by its id in the console, CLI or SDK.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from types import ModuleType
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from .._files import CHUNK_SIZE
from .._redact import safe_cause
from ..errors import (
    AlreadyExists,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
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
    http_range,
    import_sdk,
)

EXTRA = "oci"
_OPTIONS = frozenset({"auth", "config_file", "profile", "region", "endpoint", "namespace"})
_AUTH_MODES = ("api_key", "instance_principal", "resource_principal")
_LIST_FIELDS = "name,size,etag,timeCreated,timeModified"
_PAR_ACCESS = {"GET": "ObjectRead", "PUT": "ObjectWrite"}
_WORK_REQUEST_DONE = ("COMPLETED", "FAILED", "CANCELED")
COPY_WAIT_SECONDS = 3600
_META_PREFIX = "opc-meta-"


class OCIConnection:
    """Configuration and signer resolved once; an ObjectStorageClient per thread.

    The SDK's clients keep a `requests` session, which is not documented as thread-safe, so
    each thread builds its own from the shared config and signer (principal signers refresh
    their tokens under a lock, and building one per client would leak tokens).
    """

    def __init__(
        self,
        sdk: ModuleType,
        config: dict[str, Any],
        signer: Any,
        endpoint: str | None,
        namespace: str | None,
        policy: NetworkPolicy,
    ) -> None:
        self.sdk = sdk
        self.config = config
        self.signer = signer
        self.endpoint = endpoint
        self._namespace = namespace
        self._request_options = {
            "timeout": (policy.connect_timeout, policy.read_timeout),
            "retry_strategy": _retry_strategy(sdk, policy),
        }
        self._namespace_lock = threading.Lock()
        self._local = threading.local()

    @property
    def client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            kwargs: dict[str, Any] = dict(self._request_options)
            if self.endpoint:
                kwargs["service_endpoint"] = self.endpoint
            if self.signer is not None:
                kwargs["signer"] = self.signer
            client = self._local.client = self.sdk.object_storage.ObjectStorageClient(self.config, **kwargs)
        return client

    @property
    def region(self) -> str:
        return str(self.config["region"])

    @property
    def namespace(self) -> str:
        """The configured namespace, else GetNamespace's answer, asked once and remembered."""
        with self._namespace_lock:
            if self._namespace is None:
                self._namespace = str(self.client.get_namespace().data)
            return self._namespace


def _credentials(sdk: ModuleType, auth: str, options: Mapping[str, Any]) -> tuple[dict[str, Any], Any]:
    """(config, signer) for an auth mode; the signer is None when the config file holds the key."""
    if auth == "api_key":
        location = options.get("config_file") or os.environ.get("OCI_CONFIG_FILE") or sdk.config.DEFAULT_LOCATION
        profile = (
            options.get("profile")
            or os.environ.get("OCI_CONFIG_PROFILE")
            or os.environ.get("OCI_CLI_PROFILE")
            or sdk.config.DEFAULT_PROFILE
        )
        return sdk.config.from_file(file_location=location, profile_name=profile), None
    if auth == "instance_principal":
        signer = sdk.auth.signers.InstancePrincipalsSecurityTokenSigner()
    else:
        signer = sdk.auth.signers.get_resource_principals_signer()
    return {"region": signer.region}, signer


def _retry_strategy(sdk: ModuleType, policy: NetworkPolicy) -> Any:
    """At most `max_attempts` tries, 1 s doubling up to 8 s apart (the SDK's default: 8 tries, 10 minutes)."""
    if policy.max_attempts == 1:
        return sdk.retry.NoneRetryStrategy()
    return sdk.retry.RetryStrategyBuilder(
        max_attempts_check=True,
        max_attempts=policy.max_attempts,
        total_elapsed_time_check=False,
        retry_base_sleep_time_seconds=1,
        retry_max_wait_between_calls_seconds=8,
    ).get_retry_strategy()


class OCIBackend(Backend):
    """One OCI Object Storage bucket."""

    provider = "oci"
    extra = EXTRA
    env_vars = (
        "OCI_CLI_AUTH",
        "OCI_CONFIG_FILE",
        "OCI_CONFIG_PROFILE",
        "OCI_CLI_PROFILE",
        "OCI_OBJECT_STORAGE_ENDPOINT",
        "OCI_OBJECT_STORAGE_NAMESPACE",
        "OCI_RESOURCE_PRINCIPAL_VERSION",
        "OCI_RESOURCE_PRINCIPAL_RPST",
        "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM",
        "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM_PASSPHRASE",
        "OCI_RESOURCE_PRINCIPAL_REGION",
    )
    connection: OCIConnection

    @classmethod
    def connect(cls, options: Mapping[str, Any], policy: NetworkPolicy) -> OCIConnection:
        """Load the config or principal signer now, so a broken setup fails at client creation."""
        check_options(cls.provider, options, _OPTIONS)
        auth = options.get("auth") or os.environ.get("OCI_CLI_AUTH") or "api_key"
        if auth not in _AUTH_MODES:
            raise ValueError(f"unknown OCI auth {auth!r}; expected one of {', '.join(_AUTH_MODES)}")
        sdk = import_sdk("oci", EXTRA)
        try:
            config, signer = _credentials(sdk, auth, options)
            if options.get("region"):
                config["region"] = options["region"]
            sdk.config.validate_config(config, signer=signer)
        except (sdk.exceptions.ClientError, ValueError) as exc:
            raise PermissionDenied(f"OCI {auth} configuration is unusable: {exc}") from safe_cause(exc)
        endpoint = options.get("endpoint") or os.environ.get("OCI_OBJECT_STORAGE_ENDPOINT")
        namespace = options.get("namespace") or os.environ.get("OCI_OBJECT_STORAGE_NAMESPACE")
        return OCIConnection(sdk, config, signer, endpoint, namespace, policy)

    @classmethod
    def parse_bucket(cls, location: str) -> tuple[str, dict[str, Any]]:
        """`bucket@namespace` (OCI's own URI form) names the namespace too."""
        bucket, at, namespace = location.partition("@")
        return (bucket, {"namespace": namespace}) if at else (bucket, {})

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
        """One PutObject (up to OCI's 50 GiB); `overwrite=False` sends `if-none-match: *`."""
        condition = {} if overwrite else {"if_none_match": "*"}
        try:
            with self._translated(key):
                self.connection.client.put_object(
                    self.connection.namespace,
                    self.bucket,
                    key,
                    body,
                    content_length=size,
                    content_type=content_type,
                    opc_meta=dict(metadata),
                    **condition,
                )
        except PreconditionFailed as exc:
            raise AlreadyExists(f"object {key!r} already exists", key=key, bucket=self.bucket) from exc

    def get(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        byte_range = http_range(start, end)
        ranged = {"range": byte_range} if byte_range else {}
        with self._translated(key):
            try:
                content: bytes = self._get_object(key, **ranged).data.content
            except self.connection.sdk.exceptions.ServiceError as exc:
                if exc.status != RANGE_NOT_SATISFIABLE:
                    raise
                return b""
        return content

    def download_to(self, key: str, fileobj: BinaryIO) -> None:
        with self._translated(key):
            fileobj.writelines(self._get_object(key).data.iter_content(CHUNK_SIZE))

    def _get_object(self, key: str, **kwargs: Any) -> Any:
        return self.connection.client.get_object(self.connection.namespace, self.bucket, key, **kwargs)

    def stat(self, key: str) -> ObjectInfo:
        with self._translated(key):
            headers = self.connection.client.head_object(self.connection.namespace, self.bucket, key).headers
        last_modified = headers.get("last-modified")
        return ObjectInfo(
            key=key,
            size=int(headers["content-length"]),
            etag=headers.get("etag"),
            last_modified=parsedate_to_datetime(last_modified).astimezone(timezone.utc) if last_modified else None,
            content_type=headers.get("content-type"),
            metadata={
                name.lower()[len(_META_PREFIX) :]: value
                for name, value in headers.items()
                if name.lower().startswith(_META_PREFIX)
            },
        )

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """ListObjects pages (1,000 names each), followed through `next_start_with`."""
        start = None
        while True:
            with self._translated(prefix):
                page = self.connection.client.list_objects(
                    self.connection.namespace,
                    self.bucket,
                    prefix=prefix or None,
                    start=start,
                    fields=_LIST_FIELDS,
                ).data
            for summary in page.objects:
                yield ObjectInfo(
                    key=summary.name,
                    size=summary.size,
                    etag=summary.etag,
                    last_modified=as_utc(summary.time_modified or summary.time_created),
                )
            if not page.next_start_with:
                return
            start = page.next_start_with

    def delete(self, key: str) -> None:
        """Idempotent: OCI's 404 for a missing object is success here (a missing bucket is not)."""
        try:
            with self._translated(key):
                self.connection.client.delete_object(self.connection.namespace, self.bucket, key)
        except NotFound as exc:
            if getattr(exc.__cause__, "code", None) != "ObjectNotFound":
                raise

    def copy(self, src_key: str, dst_key: str) -> None:
        """CopyObject runs asynchronously in OCI: wait for its work request to finish."""
        models = self.connection.sdk.object_storage.models
        details = models.CopyObjectDetails(
            source_object_name=src_key,
            destination_region=self.connection.region,
            destination_namespace=self.connection.namespace,
            destination_bucket=self.bucket,
            destination_object_name=dst_key,
        )
        with self._translated(src_key):
            client = self.connection.client
            accepted = client.copy_object(self.connection.namespace, self.bucket, details)
            work_request_id = accepted.headers["opc-work-request-id"]
            finished = self.connection.sdk.wait_until(
                client,
                client.get_work_request(work_request_id),
                "status",
                _WORK_REQUEST_DONE,
                max_interval_seconds=5,
                max_wait_seconds=COPY_WAIT_SECONDS,
            )
            if finished.data.status != "COMPLETED":
                errors = client.list_work_request_errors(work_request_id).data
                reasons = "; ".join(f"{error.code}: {error.message}" for error in errors) or finished.data.status
                raise StorageError(
                    f"OCI copy of {src_key!r} to {dst_key!r} failed: {reasons}",
                    key=src_key,
                    bucket=self.bucket,
                )

    def presign(self, key: str, *, method: str, expires: timedelta) -> str:
        """Create a pre-authenticated request (an API call) and return its URL.

        The URL is the service endpoint (as the SDK resolved it for this very request) plus
        the PAR's access URI, which holds the token; OCI shows that token only now, never
        when PARs are listed later.
        """
        details = self.connection.sdk.object_storage.models.CreatePreauthenticatedRequestDetails(
            name=f"storage-shim-{method.lower()}",
            object_name=key,
            access_type=_PAR_ACCESS[method],
            time_expires=datetime.now(timezone.utc) + expires,
        )
        with self._translated(key):
            client = self.connection.client
            response = client.create_preauthenticated_request(self.connection.namespace, self.bucket, details)
        endpoint = urlsplit(response.request.url)
        return f"{endpoint.scheme}://{endpoint.netloc}{response.data.access_uri}"

    @contextmanager
    def _translated(self, key: str) -> Iterator[None]:
        """oci exceptions become shim errors (the original is kept as __cause__)."""
        exceptions = self.connection.sdk.exceptions
        try:
            yield
        except exceptions.ServiceError as exc:
            error_class = error_for_status(exc.status)
            raise error_class(
                f"OCI {exc.status} {exc.code or ''}: {exc.message}", key=key, bucket=self.bucket
            ) from safe_cause(exc)
        except (exceptions.ClientError, exceptions.BaseRequestException) as exc:
            raise StorageError(f"OCI request failed: {exc}", key=key, bucket=self.bucket) from safe_cause(exc)
