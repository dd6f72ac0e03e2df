"""The interface every storage backend implements, and helpers they share.

A backend is a small class bound to one bucket. The `StorageClient` in `storage_shim.client`
does everything that is the same for every provider before it calls a backend:

- keys are validated (non-empty `str`, no NUL, at most 1024 UTF-8 bytes) and any client
  prefix is already applied: a backend sees the full object key;
- `content_type` is always a concrete string (`application/octet-stream` when the caller gave
  none);
- `metadata` keys are already lower-cased and limited to ASCII letters, digits, `-` and `_`
  (values: printable ASCII). A backend must store and return exactly these keys and values;
  if its store cannot hold a character (e.g. Azure metadata names cannot contain `-`), it
  encodes it reversibly and decodes it in `stat()`;
- presign arguments are validated: `method` is `"GET"` or `"PUT"`, `expires` is a
  `timedelta` of at least one second and at most seven days;
- `delete(missing_ok=False)`, `exists`, atomic downloads to files and the object handle are
  built on the methods below.

Contract shared by every method:

- Errors are instances of `storage_shim.errors` classes, raised `from` the SDK exception;
  an SDK exception never escapes. A missing object *or a missing bucket* is `NotFound`,
  HTTP 401/403 is `PermissionDenied`, HTTP 412 is `PreconditionFailed`, anything else is
  `StorageError` (`error_for_status` maps an HTTP status for you).
- A backend instance may be used from several threads at once, and the `connection`
  returned by `connect()` is shared by every backend instance with the same provider and
  options, in every thread. If an SDK client is not thread-safe, `connect()` returns
  something that makes it so (for example a `threading.local` holder).
- SDKs are imported inside methods or `connect()` through `import_sdk()`, never at module
  import time, so `import storage_shim` works with no cloud SDK installed.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any, BinaryIO, ClassVar

from ..errors import (
    MissingDependency,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    StorageError,
)
from ..types import ObjectInfo

RANGE_NOT_SATISFIABLE = 416
MAX_TIMEOUT = 3600.0
MAX_ATTEMPTS = 20


@dataclass(frozen=True)
class NetworkPolicy:
    """How long a request may wait and how often it is tried: the same options for every cloud.

    - `connect_timeout`: seconds to establish a connection (default 10);
    - `read_timeout`: seconds to wait for the next bytes of a response (default 60);
    - `max_attempts`: tries per request, the first included (default 3; 1 disables retries).

    Each backend maps these onto its SDK's own settings (see docs/storage_shim.md), so an
    unreachable endpoint fails after about `max_attempts * connect_timeout` seconds plus
    a few seconds of backoff, instead of each SDK's own, much longer, defaults.
    """

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 3

    OPTIONS: ClassVar[tuple[str, ...]] = ("connect_timeout", "read_timeout", "max_attempts")

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "read_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_TIMEOUT:
                raise ValueError(f"{name} must be a number of seconds above 0 and at most {MAX_TIMEOUT}, got {value!r}")
        attempts = self.max_attempts
        if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= MAX_ATTEMPTS:
            raise ValueError(f"max_attempts must be an int from 1 to {MAX_ATTEMPTS}, got {attempts!r}")

    @classmethod
    def split(cls, options: Mapping[str, Any]) -> tuple[NetworkPolicy, dict[str, Any]]:
        """The policy named in `options`, and the options left for the backend."""
        chosen = {name: options[name] for name in cls.OPTIONS if name in options}
        return cls(**chosen), {name: value for name, value in options.items() if name not in cls.OPTIONS}


class Backend(ABC):
    """One provider's storage operations for one bucket (container on Azure).

    Subclasses set the class attributes, implement `connect()` and the abstract methods, and
    may override the non-abstract ones when their SDK has a better path (streaming,
    multipart).
    """

    provider: ClassVar[str]
    """Provider name as used by STORAGE_PROVIDER: local, memory, s3, gcs, azure or oci."""

    extra: ClassVar[str | None] = None
    """The pip extra that installs this backend's SDK (`aws`, `gcp`, `azure`, `oci`)."""

    env_vars: ClassVar[tuple[str, ...]] = ()
    """The environment variables `connect()` and the SDK read when a connection is made.

    Their current values are part of the connection cache key, so changing the environment
    (rotated credentials, tests) yields a new connection instead of a stale one. Exact
    names, not prefixes: looking up a few names costs microseconds, scanning a large
    environment on every `create_storage_client` call did not.
    """

    presigned_put_headers: ClassVar[Mapping[str, str]] = {}
    """Headers an HTTP client must send with a PUT to a presigned URL of this provider.

    Empty for most; Azure needs `x-ms-blob-type: BlockBlob`.
    """

    @classmethod
    @abstractmethod
    def connect(cls, options: Mapping[str, Any], policy: NetworkPolicy) -> Any:
        """Build the SDK client (or session) for these options and the SDK's own configuration.

        `policy` holds the timeouts and attempts every request must respect; backends without
        a network ignore it.

        Called once per provider, options and `env_vars` values, then cached and
        shared between threads (see the module docstring). `options` are the keyword
        arguments given to `create_storage_client`, plus any that `parse_bucket` returned.
        Unknown option names raise `TypeError` naming the accepted ones.
        """

    @classmethod
    def parse_bucket(cls, location: str) -> tuple[str, dict[str, Any]]:
        """Split the bucket part of a URI (`oci://bucket@namespace/...`) into name and options.

        The default takes the whole location as the bucket name.
        """
        return location, {}

    def __init__(self, bucket: str, connection: Any) -> None:
        """Cheap: bind an already-connected SDK client to a bucket; no network calls."""
        self.bucket = bucket
        self.connection = connection

    def __repr__(self) -> str:
        """The bucket only: a connection may hold credentials."""
        return f"{type(self).__name__}(bucket={self.bucket!r})"

    @abstractmethod
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
        """Store `size` bytes read from `body` under `key`, replacing content type and metadata.

        `body` is a readable, seekable binary stream positioned at the first byte to store
        (not necessarily offset 0: an SDK retry may seek back to that position, not to 0).
        With `overwrite=False` an existing object is left untouched and `AlreadyExists` is
        raised; use the provider's conditional write when it has one, so there is no race.
        """

    @abstractmethod
    def get(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        """Bytes `start` up to `end` (exclusive; None: to the last) of the object, as a slice gives them.

        `start >= 0` and `end > start` are already checked. Only that range is transferred. A
        range past the end of the object is cut short, or empty if it starts at or after the
        end (an HTTP 416 answer is not an error here). `NotFound` if the object does not exist.
        """

    def download_to(self, key: str, fileobj: BinaryIO) -> None:
        """Write the object's content into `fileobj` (binary, writable, seekable, empty).

        `NotFound` if it does not exist. The caller makes the write atomic (it writes to a
        temporary file and renames it), so a backend may stream in chunks. The default
        reads the whole object into memory; override it when the SDK can stream.
        """
        fileobj.write(self.get(key))

    def upload_file(self, path: Path, key: str, *, content_type: str, metadata: Mapping[str, str]) -> None:
        """Store the file at `path` under `key`, overwriting. Override for multipart uploads."""
        with path.open("rb") as body:
            size = path.stat().st_size
            self.put(key, body, size, content_type=content_type, metadata=metadata, overwrite=True)

    @abstractmethod
    def stat(self, key: str) -> ObjectInfo:
        """The object's size, etag, time, content type and metadata; `NotFound` if missing."""

    def exists(self, key: str) -> bool:
        """Whether an object is stored under `key`. Override if the SDK has a cheaper call."""
        try:
            self.stat(key)
        except NotFound:
            return False
        return True

    @abstractmethod
    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Every object whose key starts with `prefix` (`""`: all), lazily, across all pages.

        A flat listing (no delimiter, no "directories"), in ascending key order as Python
        sorts `str` (the same as UTF-8 byte order, which is what S3, GCS, Azure and OCI
        return). `content_type` and `metadata` are `None` in the results, on every
        backend, so code cannot come to depend on a provider that happens to list them.
        """

    @abstractmethod
    def delete(self, key: str) -> None:
        """Delete the object. Idempotent: deleting a missing key is not an error."""

    @abstractmethod
    def copy(self, src_key: str, dst_key: str) -> None:
        """Server-side copy within the bucket, keeping content type and metadata.

        Overwrites `dst_key`. `NotFound` if `src_key` does not exist.
        """

    @abstractmethod
    def presign(self, key: str, *, method: str, expires: timedelta) -> str:
        """A URL that lets any HTTP client `GET` or `PUT` this key until `expires` from now.

        `method` is `"GET"` or `"PUT"`; `expires` is a validated `timedelta` (1 s .. 7 days).
        A PUT through the URL creates or replaces the object (sending the headers in
        `presigned_put_headers`). Raise `PresignNotSupported` with a reason when the backend
        or its credentials cannot sign (e.g. GCS credentials without a private key).
        """


def import_sdk(module: str, extra: str) -> ModuleType:
    """Import an SDK module, or explain which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependency(
            f"this storage backend needs the '{module}' package: pip install 'cloudshift[{extra}]'"
        ) from exc


def error_for_status(status: int | None) -> type[StorageError]:
    """The shim error class for an HTTP status code from a provider's API."""
    if status == 404:
        return NotFound
    if status in (401, 403):
        return PermissionDenied
    if status == 412:
        return PreconditionFailed
    return StorageError


def http_range(start: int, end: int | None) -> str | None:
    """The HTTP Range header value for a `get` range; None for the whole object."""
    if start == 0 and end is None:
        return None
    return f"bytes={start}-{'' if end is None else end - 1}"


def check_options(provider: str, options: Mapping[str, Any], accepted: frozenset[str]) -> None:
    """Refuse option names a backend does not know, listing the ones it does."""
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise TypeError(
            f"unknown {provider} storage option(s) {', '.join(unknown)}; "
            f"accepted: {', '.join(sorted(accepted)) or 'none'}"
        )


def as_utc(moment: datetime | None) -> datetime | None:
    """A provider timestamp as the timezone-aware UTC datetime `ObjectInfo` promises."""
    if moment is None:
        return None
    if moment.tzinfo is None:  # SDKs that return naive datetimes mean UTC
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
