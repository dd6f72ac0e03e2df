"""The provider-neutral client: `create_storage_client`, `StorageClient` and `ObjectHandle`.

Everything that must behave the same on every provider lives here (argument validation,
key prefixes, metadata rules, atomic downloads, presign limits); backends only translate
single operations to their SDK.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import IO, Any, BinaryIO, cast
from urllib.parse import unquote, urlsplit

from ._cache import CONNECTIONS, cache_key
from ._files import normalised_sha256, write_atomically
from ._names import (
    MAX_KEY_BYTES,
    check_bucket_name,
    check_key_text,
    file_uri_path,
    normalised_metadata,
    uri_location,
)
from ._reader import DEFAULT_BUFFER_SIZE, ObjectReader
from ._redact import redact
from .backends import backend_class, provider_for_scheme
from .backends.base import Backend, NetworkPolicy
from .errors import NotFound
from .profiles import Profiles, backend_options, content_defaults, environment_overrides, find_profiles
from .types import DEFAULT_CONTENT_TYPE, ObjectInfo

PathLike = str | os.PathLike[str]
ContentDefaults = Callable[[str], tuple[str | None, Mapping[str, str]]]
Data = bytes | bytearray | memoryview | str | IO[bytes]
Expiry = int | timedelta | datetime

MAX_PRESIGN_EXPIRY = timedelta(days=7)
_EXPIRY_RANGE = "expires_in must be from 1 second to 7 days (604800 seconds)"
PRESIGN_METHODS = ("GET", "PUT")
SPOOL_MAX_MEMORY = 8 * 1024 * 1024


def create_storage_client(
    bucket_or_uri: str, provider: str | None = None, *, storage_profile: str | None = None, **options: Any
) -> StorageClient:
    """A client bound to one bucket; cheap enough to call once per operation.

    `bucket_or_uri` is a bare bucket name or a URI whose scheme picks the provider: `s3://`,
    `gs://`, `az://`, `oci://`, `file://`, `memory://`. A path after the bucket
    (`s3://bucket/team/a`, or `bucket/team/a`) becomes a key prefix: every key the client is
    given or returns is relative to `team/a/`. For `file:///some/dir` the whole path is the
    bucket's directory.

    The provider is the URI's or `provider`, else the storage profile's for this bucket and
    prefix (see `storage_shim.profiles`), else `STORAGE_PROVIDER`, else `local`. `storage_profile` names a
    `[profiles.NAME]` entry of the profile file that applies before the bucket's own entries
    (what `cloudshift fix` writes); a name no file defines is an error, never the local default. Options come
    from `options`, then `STORAGE_SHIM_<PROVIDER>_<SETTING>` variables, then the profile, then
    the SDK's own configuration (see docs/storage_shim.md).
    """
    explicit, location, prefix = _parse_location(bucket_or_uri, provider)
    profiles = Profiles() if location.startswith("/") else find_profiles()  # a file:// path names its own place
    name = location.partition("@")[0]  # profile entries name the bucket of OCI's bucket@namespace
    settings = profiles.settings(name, prefix, explicit, storage_profile)
    chosen = explicit or settings.get("provider") or os.environ.get("STORAGE_PROVIDER") or "local"
    cls = backend_class(chosen)
    bucket, implied = cls.parse_bucket(location)
    check_bucket_name(bucket)
    clash = sorted(set(implied) & set(options))
    if clash:
        raise ValueError(f"{redact(bucket_or_uri)!r} already sets option(s) {', '.join(clash)}")
    configured = backend_options(chosen, {**settings, **environment_overrides(chosen)})
    policy, remaining = NetworkPolicy.split({**configured, **implied, **options})
    connection = _connection(cls, remaining, policy)
    defaults: ContentDefaults | None = None
    if profiles.path is not None:
        defaults = partial(content_defaults, profiles, name, provider=explicit, profile=storage_profile)
    return StorageClient(cls(bucket, connection), prefix, defaults)


def _parse_location(bucket_or_uri: str, provider: str | None) -> tuple[str | None, str, str]:
    """(provider the caller chose, if any; bucket location; key prefix) from a bucket name or URI."""
    if "://" not in bucket_or_uri:
        bucket, _, prefix = bucket_or_uri.partition("/")
        return provider, bucket, _as_prefix(prefix)
    parts = urlsplit(bucket_or_uri)
    from_scheme = provider_for_scheme(parts.scheme)
    if provider is not None and provider != from_scheme:
        raise ValueError(f"provider {provider!r} contradicts the URI {redact(bucket_or_uri)!r}")
    if from_scheme == "local":
        return from_scheme, file_uri_path(parts, bucket_or_uri), ""
    return from_scheme, uri_location(parts, bucket_or_uri), _as_prefix(unquote(parts.path).lstrip("/"))


def _as_prefix(path: str) -> str:
    """A URI path as a key prefix: a folder, so it always ends with '/' (or is empty)."""
    path = path.strip("/")
    return f"{path}/" if path else ""


def _connection(cls: type[Backend], options: dict[str, Any], policy: NetworkPolicy) -> Any:
    """The shared SDK connection for a provider, its options, policy and the variables its SDK reads."""
    environment = map(os.environ.get, cls.env_vars)
    policy_options = {name: getattr(policy, name) for name in NetworkPolicy.OPTIONS}
    key, pinned = cache_key(cls.provider, {**options, **policy_options}, environment)
    return CONNECTIONS.get(key, pinned, partial(cls.connect, options, policy))


class StorageClient:
    """Object storage operations on one bucket, the same on every provider.

    Attributes: `bucket` (the bucket/container name), `provider` (`local`, `memory`, `s3`,
    `gcs`, `azure`, `oci`), `prefix` (key prefix from the URI, `""` if none), and
    `presigned_put_headers` (headers to send with a PUT to a presigned URL).
    Safe to share between threads.
    """

    def __init__(self, backend: Backend, prefix: str = "", defaults: ContentDefaults | None = None) -> None:
        """`defaults(key)` gives a profile's content type and metadata for new objects at `key`."""
        self._backend = backend
        self.prefix = prefix
        self._defaults = defaults

    @property
    def bucket(self) -> str:
        return self._backend.bucket

    @property
    def provider(self) -> str:
        return self._backend.provider

    @property
    def presigned_put_headers(self) -> Mapping[str, str]:
        return dict(self._backend.presigned_put_headers)

    def __repr__(self) -> str:
        prefix = f", prefix={self.prefix!r}" if self.prefix else ""
        return f"StorageClient(provider={self.provider!r}, bucket={self.bucket!r}{prefix})"

    def upload(
        self,
        local_path: PathLike,
        key: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Store a local file under `key`, replacing any object there."""
        full_key = self._full_key(key)
        content_type, stored_metadata = self._content(full_key, content_type, metadata)
        self._backend.upload_file(Path(local_path), full_key, content_type=content_type, metadata=stored_metadata)

    def download(self, key: str, local_path: PathLike, *, sha256: str | None = None) -> Path:
        """Write the object to `local_path` atomically (parents created); return the path.

        With `sha256` (hex), the content is verified first; a mismatch raises
        `ChecksumMismatch` and leaves `local_path` untouched.
        """
        fill = partial(self._backend.download_to, self._full_key(key))
        expected = normalised_sha256(sha256)
        return write_atomically(Path(local_path), fill, sha256=expected)

    def put(
        self,
        key: str,
        data: Data,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        overwrite: bool = True,
    ) -> None:
        """Store bytes, a str (as UTF-8) or a binary file object's remaining content.

        With `overwrite=False`, raise `AlreadyExists` instead of replacing an object.
        """
        full_key = self._full_key(key)
        content_type, stored_metadata = self._content(full_key, content_type, metadata)
        with _readable(data) as (body, size):
            self._backend.put(
                full_key, body, size, content_type=content_type, metadata=stored_metadata, overwrite=overwrite
            )

    def get(self, key: str, *, start: int = 0, end: int | None = None) -> bytes:
        """The object's content, or the bytes from `start` up to `end` (exclusive), as a slice would.

        Only that range is transferred. A range past the end of the object is cut short (empty
        if it starts there). `NotFound` if there is no object.
        """
        full_key = self._full_key(key)
        _check_range(start, end)
        return self._backend.get(full_key, start, end)

    def open(self, key: str, mode: str = "rb", *, buffer_size: int = DEFAULT_BUFFER_SIZE) -> io.BufferedReader:
        """A readable, seekable binary stream over the object, fetched `buffer_size` bytes at a time.

        For objects too large to `get` whole: reading the first bytes, or seeking to the end for
        a footer, transfers about one buffer. Opening stats the object (`NotFound` if missing);
        the stream sees the size it had then. Only mode "rb" exists: the store is read-only here.
        """
        if mode != "rb":
            raise ValueError(f"open() supports mode 'rb' only, not {mode!r}; use put() or upload() to write")
        if isinstance(buffer_size, bool) or not isinstance(buffer_size, int) or buffer_size < 1:
            raise ValueError(f"buffer_size must be a positive int, got {buffer_size!r}")
        full_key = self._full_key(key)
        size = self._backend.stat(full_key).size
        return io.BufferedReader(ObjectReader(self._backend, full_key, size, buffer_size), buffer_size)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object whose key starts with `prefix`, all pages, in key order.

        Results have `content_type` and `metadata` set to `None`; `stat()` returns them.
        """
        check_key_text(prefix, allow_empty=True)
        return map(self._relative, self._backend.list(self.prefix + prefix))

    def stat(self, key: str) -> ObjectInfo:
        """Size, etag, last modified, content type and metadata; `NotFound` if missing."""
        return self._relative(self._backend.stat(self._full_key(key)))

    def exists(self, key: str) -> bool:
        return self._backend.exists(self._full_key(key))

    def delete(self, key: str, *, missing_ok: bool = True) -> None:
        """Delete the object; with `missing_ok=False` a missing object raises `NotFound`.

        The missing check is a separate request before the delete, so two concurrent deletes
        with `missing_ok=False` may both succeed.
        """
        full_key = self._full_key(key)
        if not missing_ok and not self._backend.exists(full_key):
            raise NotFound(f"no object {key!r} to delete", key=key, bucket=self.bucket)
        self._backend.delete(full_key)

    def copy(self, src_key: str, dst_key: str) -> None:
        """Server-side copy within the bucket, with content type and metadata."""
        self._backend.copy(self._full_key(src_key), self._full_key(dst_key))

    def get_presigned_url(self, key: str, *, expires_in: Expiry = 3600, method: str = "GET") -> str:
        """A URL granting `method` (GET or PUT) on the key for `expires_in` (seconds or timedelta).

        A datetime is the moment the URL expires (naive means UTC, as google-cloud-storage reads
        it), so code that signed with an absolute expiry keeps its meaning after a rewrite.
        Expiry must be between one second and seven days. Raises `PresignNotSupported` where
        a backend cannot presign (see docs/storage_shim.md for each provider).
        """
        expires = _validated_expiry(expires_in)
        verb = method.upper() if isinstance(method, str) else method
        if verb not in PRESIGN_METHODS:
            raise ValueError(f"presign method must be GET or PUT, not {method!r}")
        return self._backend.presign(self._full_key(key), method=verb, expires=expires)

    def object(self, key: str) -> ObjectHandle:
        """A handle on one key with the same verbs, for code that passed SDK objects around."""
        self._full_key(key)
        return ObjectHandle(self, key)

    def _full_key(self, key: str) -> str:
        check_key_text(key, allow_empty=False)
        full_key = self.prefix + key
        if len(full_key.encode("utf-8")) > MAX_KEY_BYTES:
            raise ValueError(f"key {full_key!r} is longer than {MAX_KEY_BYTES} UTF-8 bytes")
        return full_key

    def _content(
        self, full_key: str, content_type: str | None, metadata: Mapping[str, str] | None
    ) -> tuple[str, dict[str, str]]:
        """What a new object stores: the given content type, else the profile's, else octet-stream;
        the profile's metadata updated with the given metadata."""
        default_type, default_metadata = self._defaults(full_key) if self._defaults else (None, {})
        stored_type = content_type or default_type or DEFAULT_CONTENT_TYPE
        return stored_type, {**normalised_metadata(default_metadata), **normalised_metadata(metadata)}

    def _relative(self, info: ObjectInfo) -> ObjectInfo:
        return replace(info, key=info.key[len(self.prefix) :]) if self.prefix else info


class ObjectHandle:
    """One key of a `StorageClient`: `.key`, `.client` and the client's verbs without the key."""

    def __init__(self, client: StorageClient, key: str) -> None:
        self.client = client
        self.key = key

    def __repr__(self) -> str:
        return f"ObjectHandle({self.client!r}, key={self.key!r})"

    @property
    def bucket(self) -> str:
        return self.client.bucket

    def upload(
        self,
        local_path: PathLike,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        self.client.upload(local_path, self.key, content_type=content_type, metadata=metadata)

    def download(self, local_path: PathLike, *, sha256: str | None = None) -> Path:
        return self.client.download(self.key, local_path, sha256=sha256)

    def put(
        self,
        data: Data,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        overwrite: bool = True,
    ) -> None:
        self.client.put(self.key, data, content_type=content_type, metadata=metadata, overwrite=overwrite)

    def get(self, *, start: int = 0, end: int | None = None) -> bytes:
        return self.client.get(self.key, start=start, end=end)

    def open(self, mode: str = "rb", *, buffer_size: int = DEFAULT_BUFFER_SIZE) -> io.BufferedReader:
        return self.client.open(self.key, mode, buffer_size=buffer_size)

    def stat(self) -> ObjectInfo:
        return self.client.stat(self.key)

    def exists(self) -> bool:
        return self.client.exists(self.key)

    def delete(self, *, missing_ok: bool = True) -> None:
        self.client.delete(self.key, missing_ok=missing_ok)

    def get_presigned_url(self, *, expires_in: Expiry = 3600, method: str = "GET") -> str:
        return self.client.get_presigned_url(self.key, expires_in=expires_in, method=method)


def _check_range(start: int, end: int | None) -> None:
    """`get` ranges are non-negative int offsets with `end` after `start`, like a forward slice."""
    for value in (start,) if end is None else (start, end):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"start and end are int byte offsets (end may be None), not {value!r}")
    if start < 0 or (end is not None and end <= start):
        raise ValueError(f"byte range start={start}, end={end}: need 0 <= start < end (end None: to the last byte)")


def _validated_expiry(expires_in: Expiry) -> timedelta:
    """The URL's lifetime, from one second to seven days (the longest SigV4 and GCS V4 signatures live).

    Seconds must be an int: a float would be truncated differently by each SDK, and NaN or
    infinity mean nothing. Range checks come before any conversion, so a huge number is a
    `ValueError`, not an `OverflowError` from timedelta.
    """
    if isinstance(expires_in, bool) or not isinstance(expires_in, (int, timedelta, datetime)):
        raise TypeError(
            "expires_in is an int number of seconds, a timedelta, or the datetime the URL ends, "
            f"not {type(expires_in).__name__} {expires_in!r}"
        )
    if isinstance(expires_in, datetime):
        ends = expires_in if expires_in.tzinfo is not None else expires_in.replace(tzinfo=timezone.utc)
        expires = ends - datetime.now(timezone.utc)
    elif isinstance(expires_in, int):
        if not 1 <= expires_in <= MAX_PRESIGN_EXPIRY.total_seconds():
            raise ValueError(f"{_EXPIRY_RANGE}, got {expires_in} seconds")
        expires = timedelta(seconds=expires_in)
    else:
        expires = expires_in
    if not timedelta(seconds=1) <= expires <= MAX_PRESIGN_EXPIRY:
        raise ValueError(f"{_EXPIRY_RANGE}, got {expires_in!r}")
    return expires


@contextmanager
def _readable(data: Data) -> Iterator[tuple[BinaryIO, int]]:
    """Any accepted `put` data as a seekable binary stream and the byte count that follows."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        yield io.BytesIO(raw), len(raw)
        return
    stream = _binary_stream(data)
    if _is_seekable(stream):
        start = stream.tell()
        size = stream.seek(0, io.SEEK_END) - start
        stream.seek(start)
        yield stream, size
        return
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY) as spool:
        shutil.copyfileobj(stream, spool)
        size = spool.tell()
        spool.seek(0)
        yield cast(BinaryIO, spool), size


def _binary_stream(data: object) -> BinaryIO:
    """`data` as a binary stream; typed callers cannot pass a text file, untyped ones can."""
    if isinstance(data, io.TextIOBase) or not hasattr(data, "read"):
        raise TypeError(f"put() takes bytes, str or a file object opened in binary mode, not {type(data).__name__}")
    return cast(BinaryIO, data)


def _is_seekable(stream: Any) -> bool:
    seekable = getattr(stream, "seekable", None)
    return bool(seekable and seekable())
