"""The one rule set for bucket names and keys, checked before any request or file write.

Every backend gets the same checks, so a name that works on one provider is not a path
traversal on another (see "Names" in docs/storage_shim.md):

- a key is a non-empty `str` without NUL, at most 1024 UTF-8 bytes (prefix included);
- where a key becomes a file path (the local backend, download_artifact's cache and
  destination directories) it is `/`-separated segments, each non-empty, not `.` or `..`,
  without `\\`, and at most 250 UTF-8 bytes; so absolute keys and `a//b` are refused there;
- metadata names are ASCII letters, digits, `-` and `_` (lower-cased), values printable ASCII;
- a bucket name is one such segment that does not start with `.` (which keeps the local
  backend's `.shim` directory and every parent directory out of reach). Providers have
  stricter rules of their own, which they enforce.

Paths built from names are also resolved and checked to stay below their root, so a
symlink inside a bucket or the artifact cache cannot redirect a write elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from urllib.parse import SplitResult, unquote

from ._redact import redact
from .errors import InvalidKey

MAX_KEY_BYTES = 1024
_METADATA_NAME = re.compile(r"[A-Za-z0-9_-]+")
_METADATA_VALUE = re.compile(r"[\x20-\x7e]*")
# File names are limited to 255 bytes (ext4, XFS, APFS); the local backend names a key's
# metadata file after it plus ".json", so segments keep 5 bytes free.
MAX_SEGMENT_BYTES = 250


def check_key_text(key: str, *, allow_empty: bool) -> None:
    """Keys are non-empty str without NUL that encode as UTF-8 (no lone surrogates)."""
    if not isinstance(key, str):
        raise TypeError(f"keys are str, not {type(key).__name__}")
    if not key and not allow_empty:
        raise ValueError("empty key")
    if "\0" in key:
        raise ValueError(f"key {key!r} contains NUL")
    key.encode("utf-8")


def _bad_segment(segment: str) -> bool:
    return (
        segment in ("", ".", "..")
        or "\\" in segment
        or "\0" in segment
        or len(segment.encode("utf-8", "surrogatepass")) > MAX_SEGMENT_BYTES
    )


def safe_relative_path(key: str) -> PurePosixPath:
    """The key as a relative path that cannot leave its base directory; `InvalidKey` if it cannot be one."""
    segments = key.split("/")
    if any(_bad_segment(segment) for segment in segments):
        raise InvalidKey(
            f"key {key[:300]!r} cannot be stored as a file: absolute keys, empty, '.' and '..' segments, "
            f"backslashes, NUL and segments over {MAX_SEGMENT_BYTES} bytes are refused",
            key=key,
        )
    return PurePosixPath(*segments)


def check_bucket_name(name: str) -> str:
    """`name` if it is one safe path segment not starting with '.'; `ValueError` otherwise."""
    if not isinstance(name, str) or _bad_segment(name) or name.startswith(".") or "/" in name:
        shown = redact(repr(name)[:300])
        raise ValueError(
            f"bucket name {shown}: expected a non-empty name without '/', '\\', NUL or a leading '.', "
            f"at most {MAX_SEGMENT_BYTES} bytes"
        )
    return name


def uri_location(parts: SplitResult, uri: str) -> str:
    """The bucket part of a cloud URI (`bucket`, or `bucket@namespace` on OCI), decoded.

    A `user:password@` part is refused: credentials do not belong in a URI, which ends up
    in logs, and the shim never reads them from one.
    """
    if parts.password is not None or ":" in unquote(parts.netloc.partition("@")[0]):
        raise ValueError(f"{redact(uri)!r}: credentials do not belong in a storage URI; configure them instead")
    return unquote(parts.netloc)


def file_uri_path(parts: SplitResult, uri: str) -> str:
    """The absolute path a `file://` URI names: a local host, and every segment a safe one."""
    path = unquote(parts.path).rstrip("/")
    if parts.netloc not in ("", "localhost") or not path.startswith("/"):
        raise ValueError(f"{redact(uri)!r}: expected file:///absolute/path")
    try:
        safe_relative_path(path[1:])
    except InvalidKey:
        raise InvalidKey(
            f"{redact(uri)!r}: '.', '..' and empty path segments, backslashes, NUL and segments over "
            f"{MAX_SEGMENT_BYTES} bytes are refused in file:// URIs",
            key=path,
        ) from None
    return path


def confined(root: Path, relative: PurePosixPath) -> Path:
    """`root / relative`, refused (`InvalidKey`) if it resolves outside `root`, e.g. through a symlink."""
    path = root / relative
    if not path.resolve().is_relative_to(root.resolve()):
        raise InvalidKey(f"{relative} resolves outside {root}", key=str(relative))
    return path


def normalised_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """Metadata every provider can store: lower-case [a-z0-9_-] names, printable ASCII values.

    Names are lower-cased because S3 and OCI lower-case them anyway; refusing other
    characters up front means a put that works on one provider works on all.
    """
    result: dict[str, str] = {}
    for name, value in (metadata or {}).items():
        if not isinstance(name, str) or not _METADATA_NAME.fullmatch(name):
            raise ValueError(f"metadata name {name!r}: use ASCII letters, digits, '-' and '_'")
        if not isinstance(value, str) or not _METADATA_VALUE.fullmatch(value):
            raise ValueError(f"metadata value for {name!r} must be a printable ASCII str")
        if name.lower() in result:
            raise ValueError(f"metadata names differ only in case: {name!r}")
        result[name.lower()] = value
    return result
