"""Local filesystem backend: the default, so rewritten code runs with no cloud at all.

Layout under the root (`STORAGE_LOCAL_ROOT`, default `./.storage`, or the `root` option):

    <root>/<bucket>/<key>                 the object's bytes, a plain file
    <root>/.shim/meta/<bucket>/<key>.json content type and metadata (the "sidecar")
    <root>/.shim/tmp/                     partial writes, renamed into place when complete

Sidecars and partial writes live outside the bucket directory, so they never appear in
`list()` and never collide with a key. Bucket names may not start with `.`, which keeps
`.shim` out of reach of any bucket.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from functools import wraps
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from .._files import CHUNK_SIZE, new_partial
from .._names import confined, safe_relative_path
from ..errors import (
    AlreadyExists,
    InvalidKey,
    NotFound,
    PermissionDenied,
    PresignNotSupported,
    StorageError,
)
from ..types import DEFAULT_CONTENT_TYPE, ObjectInfo
from .base import Backend, NetworkPolicy, check_options

DEFAULT_ROOT = ".storage"
_OPTIONS = frozenset({"root"})
_Method = TypeVar("_Method", bound=Callable[..., Any])


def _os_errors_translated(method: _Method) -> _Method:
    """Filesystem errors become shim errors, like every other backend's SDK errors."""

    @wraps(method)
    def wrapper(self: LocalBackend, key: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, key, *args, **kwargs)
        except StorageError:
            raise
        except PermissionError as exc:
            raise PermissionDenied(str(exc), key=key, bucket=self.bucket) from exc
        except OSError as exc:
            raise StorageError(str(exc), key=key, bucket=self.bucket) from exc

    return wrapper  # type: ignore[return-value]


class LocalBackend(Backend):
    """Objects as files under `<root>/<bucket>/`; the bucket directory is created on first write."""

    provider = "local"
    env_vars = ("STORAGE_LOCAL_ROOT",)

    @classmethod
    def connect(cls, options: Mapping[str, Any], policy: NetworkPolicy) -> Path:
        """The root directory (relative roots follow the working directory at each use)."""
        check_options(cls.provider, options, _OPTIONS)
        return Path(options.get("root") or os.environ.get("STORAGE_LOCAL_ROOT") or DEFAULT_ROOT)

    @classmethod
    def parse_bucket(cls, location: str) -> tuple[str, dict[str, Any]]:
        """A `file:///dir/name` URI arrives as `/dir/name`: bucket `name` under root `/dir`."""
        if location.startswith("/"):
            path = Path(location)
            return path.name, {"root": str(path.parent)}
        return location, {}

    def __init__(self, bucket: str, connection: Path) -> None:
        """`bucket` is a checked name (see storage_shim._names): one segment, no leading '.'."""
        super().__init__(bucket, connection)
        root = connection.resolve()
        self._objects = root / bucket
        self._sidecars = root / ".shim" / "meta" / bucket
        self._partials = root / ".shim" / "tmp"

    @_os_errors_translated
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
        """Write to a partial file, then rename (overwrite) or hard-link (no overwrite) it in.

        A hard link fails if the name exists, which makes `overwrite=False` race-free.
        """
        path = self._object_path(key)
        partial = self._write_partial(body, size)
        try:
            self._make_parent(path, key)
            if overwrite:
                os.replace(partial, path)
            else:
                self._link_new(partial, path, key)
        finally:
            partial.unlink(missing_ok=True)
        self._write_sidecar(key, content_type, metadata)

    @_os_errors_translated
    def get(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        with self._open(key) as file:
            file.seek(start)
            return file.read(-1 if end is None else end - start)

    @_os_errors_translated
    def download_to(self, key: str, fileobj: BinaryIO) -> None:
        with self._open(key) as file:
            shutil.copyfileobj(file, fileobj, CHUNK_SIZE)

    @_os_errors_translated
    def stat(self, key: str) -> ObjectInfo:
        path = self._object_path(key)
        if not path.is_file():
            raise NotFound(f"no object {key!r}", key=key, bucket=self.bucket)
        content_type, metadata = self._read_sidecar(key)
        return _info(key, path.stat(), content_type, metadata)

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        start, start_key = self._listing_start(prefix)
        keys = sorted(key for key in self._walk(start, start_key) if key.startswith(prefix))
        for key in keys:
            try:
                yield _info(key, (self._objects / key).stat(), None, None)
            except FileNotFoundError:  # deleted while listing
                continue

    @_os_errors_translated
    def delete(self, key: str) -> None:
        path = self._object_path(key)
        if path.is_dir():
            return
        path.unlink(missing_ok=True)
        self._sidecar_path(key).unlink(missing_ok=True)
        _remove_empty_parents(path.parent, self._objects)
        _remove_empty_parents(self._sidecar_path(key).parent, self._sidecars)

    @_os_errors_translated
    def copy(self, src_key: str, dst_key: str) -> None:
        info = self.stat(src_key)
        with self._open(src_key) as body:
            self.put(
                dst_key,
                body,
                info.size,
                content_type=info.content_type or DEFAULT_CONTENT_TYPE,
                metadata=info.metadata or {},
                overwrite=True,
            )

    def presign(self, key: str, *, method: str, expires: timedelta) -> str:
        """A `file://` URL for GET (expiry is not enforced: it is a path); PUT is unsupported."""
        if method != "GET":
            raise PresignNotSupported(
                "the local backend presigns GET only (as a file:// URL)",
                key=key,
                bucket=self.bucket,
            )
        return self._object_path(key).as_uri()

    def _listing_start(self, prefix: str) -> tuple[Path, str]:
        """The deepest directory that holds every key under `prefix`, and its key prefix."""
        folder = prefix.rpartition("/")[0]
        try:
            return self._objects / safe_relative_path(folder), f"{folder}/"
        except InvalidKey:  # "" or a folder no key can be in: walk everything, filter
            return self._objects, ""

    def _object_path(self, key: str) -> Path:
        """The key's file, refusing any key that would resolve outside the bucket directory."""
        return confined(self._objects, safe_relative_path(key))

    def _sidecar_path(self, key: str) -> Path:
        relative = safe_relative_path(key)
        return self._sidecars / relative.parent / f"{relative.name}.json"

    def _open(self, key: str) -> BinaryIO:
        try:
            return self._object_path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise NotFound(f"no object {key!r}", key=key, bucket=self.bucket) from exc

    def _write_partial(self, body: BinaryIO, size: int) -> Path:
        self._partials.mkdir(parents=True, exist_ok=True)
        partial = new_partial(self._partials)
        with partial.open("xb") as out:
            remaining = size
            while remaining > 0:
                chunk = body.read(min(CHUNK_SIZE, remaining))
                if not chunk:
                    break
                out.write(chunk)
                remaining -= len(chunk)
        return partial

    def _make_parent(self, path: Path, key: str) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise StorageError(
                f"key {key!r}: a parent of it is stored as an object; local files cannot hold both 'a' and 'a/b'",
                key=key,
                bucket=self.bucket,
            ) from exc
        if path.is_dir():
            raise StorageError(
                f"key {key!r} is a prefix of other keys; local files cannot hold both 'a' and 'a/b'",
                key=key,
                bucket=self.bucket,
            )

    def _link_new(self, partial: Path, path: Path, key: str) -> None:
        try:
            os.link(partial, path)
        except FileExistsError as exc:
            raise AlreadyExists(f"object {key!r} already exists", key=key, bucket=self.bucket) from exc

    def _write_sidecar(self, key: str, content_type: str, metadata: Mapping[str, str]) -> None:
        sidecar = self._sidecar_path(key)
        sidecar.parent.mkdir(parents=True, exist_ok=True)
        partial = new_partial(self._partials)
        partial.write_text(json.dumps({"content_type": content_type, "metadata": dict(metadata)}))
        os.replace(partial, sidecar)

    def _read_sidecar(self, key: str) -> tuple[str, dict[str, str]]:
        """Content type and metadata; a file placed by hand has none: the defaults."""
        try:
            stored = json.loads(self._sidecar_path(key).read_text())
        except FileNotFoundError:
            return DEFAULT_CONTENT_TYPE, {}
        return stored["content_type"], stored["metadata"]

    def _walk(self, directory: Path, key_prefix: str) -> Iterator[str]:
        """Keys of the regular files below `directory`; symlinks are not followed."""
        try:
            entries = list(os.scandir(directory))
        except FileNotFoundError:
            return
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from self._walk(Path(entry.path), f"{key_prefix}{entry.name}/")
            elif entry.is_file(follow_symlinks=False):
                yield key_prefix + entry.name


def _info(key: str, st: os.stat_result, content_type: str | None, metadata: dict[str, str] | None) -> ObjectInfo:
    return ObjectInfo(
        key=key,
        size=st.st_size,
        etag=f"{st.st_mtime_ns:x}-{st.st_size:x}",
        last_modified=datetime.fromtimestamp(st.st_mtime, tz=timezone.utc),
        content_type=content_type,
        metadata=metadata,
    )


def _remove_empty_parents(directory: Path, stop: Path) -> None:
    """Remove directories emptied by a delete, up to (not including) `stop`."""
    while directory != stop and directory.is_relative_to(stop):
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent
