"""In-memory backend for tests: buckets live in the process, shared by every client.

`create_storage_client("memory://name")` in two places of one process sees the same objects;
nothing survives the process. Buckets exist as soon as they are named.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, BinaryIO

from ..errors import AlreadyExists, NotFound, PresignNotSupported
from ..types import ObjectInfo
from .base import Backend, NetworkPolicy, check_options


@dataclass(frozen=True)
class _Stored:
    data: bytes
    content_type: str
    metadata: Mapping[str, str]
    last_modified: datetime

    def info(self, key: str, *, full: bool) -> ObjectInfo:
        return ObjectInfo(
            key=key,
            size=len(self.data),
            etag=hashlib.md5(self.data, usedforsecurity=False).hexdigest(),
            last_modified=self.last_modified,
            content_type=self.content_type if full else None,
            metadata=dict(self.metadata) if full else None,
        )


class _Store:
    """Every memory bucket of the process, behind one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.buckets: dict[str, dict[str, _Stored]] = {}

    def bucket(self, name: str) -> dict[str, _Stored]:
        """The bucket's objects; call with `lock` held."""
        return self.buckets.setdefault(name, {})


_STORE = _Store()


class MemoryBackend(Backend):
    """Objects as bytes in a process-wide dictionary per bucket. No presigned URLs."""

    provider = "memory"
    connection: _Store

    @classmethod
    def connect(cls, options: Mapping[str, Any], policy: NetworkPolicy) -> _Store:
        check_options(cls.provider, options, frozenset())
        return _STORE

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
        stored = _Stored(body.read(size), content_type, dict(metadata), datetime.now(timezone.utc))
        with self.connection.lock:
            objects = self.connection.bucket(self.bucket)
            if not overwrite and key in objects:
                raise AlreadyExists(f"object {key!r} already exists", key=key, bucket=self.bucket)
            objects[key] = stored

    def get(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        return self._stored(key).data[start:end]

    def stat(self, key: str) -> ObjectInfo:
        return self._stored(key).info(key, full=True)

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        with self.connection.lock:
            snapshot = sorted(self.connection.bucket(self.bucket).items())
        for key, stored in snapshot:
            if key.startswith(prefix):
                yield stored.info(key, full=False)

    def delete(self, key: str) -> None:
        with self.connection.lock:
            self.connection.bucket(self.bucket).pop(key, None)

    def copy(self, src_key: str, dst_key: str) -> None:
        with self.connection.lock:
            objects = self.connection.bucket(self.bucket)
            if src_key not in objects:
                raise NotFound(f"no object {src_key!r}", key=src_key, bucket=self.bucket)
            source = objects[src_key]
            objects[dst_key] = _Stored(source.data, source.content_type, source.metadata, datetime.now(timezone.utc))

    def presign(self, key: str, *, method: str, expires: timedelta) -> str:
        raise PresignNotSupported(
            "memory buckets exist only inside this process; there is no URL to presign",
            key=key,
            bucket=self.bucket,
        )

    def _stored(self, key: str) -> _Stored:
        with self.connection.lock:
            stored = self.connection.bucket(self.bucket).get(key)
        if stored is None:
            raise NotFound(f"no object {key!r}", key=key, bucket=self.bucket)
        return stored
