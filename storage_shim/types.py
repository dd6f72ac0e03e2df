"""Plain values the shim returns; no SDK types ever cross the API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class ObjectInfo:
    """What a backend knows about one stored object.

    - `key`: the object's key (relative to the client's prefix, if it has one).
    - `size`: length in bytes.
    - `etag`: the provider's entity tag without surrounding quotes; opaque, changes when the
      content changes, not comparable between providers (S3's is an MD5 only for simple puts).
    - `last_modified`: timezone-aware UTC datetime.
    - `content_type`: the stored MIME type; `None` in `list()` results (listing APIs do not
      all return it: call `stat()`).
    - `metadata`: user metadata with lower-case keys; `None` in `list()` results, a mapping
      (possibly empty) from `stat()`.
    """

    key: str
    size: int
    etag: str | None
    last_modified: datetime | None
    content_type: str | None = None
    metadata: Mapping[str, str] | None = None
