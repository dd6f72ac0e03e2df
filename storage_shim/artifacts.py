"""download_artifact: fetch one object by URI to a local file, verified and atomic."""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from ._files import normalised_sha256, sha256_of, write_atomically
from ._names import check_bucket_name, confined, file_uri_path, safe_relative_path, uri_location
from ._redact import redact
from .backends import provider_for_scheme
from .client import PathLike, create_storage_client
from .errors import NotFound


def download_artifact(uri: str, dest: PathLike | None = None, *, sha256: str | None = None) -> Path:
    """Download `uri` (`s3://`, `gs://`, `az://`, `oci://`, `memory://` bucket/key, or
    `file:///path`) and return the local path.

    `dest` is a file path, or an existing directory (the key's base name is kept); without it
    the file goes to the artifact cache (`STORAGE_ARTIFACT_CACHE`, default
    `$XDG_CACHE_HOME/storage_shim/artifacts` or `~/.cache/storage_shim/artifacts`) under
    `<provider>/<bucket>/<key>`. With `sha256`, a file already at the destination with that
    digest is reused without downloading, and a download whose digest differs raises
    `ChecksumMismatch` and leaves no file behind. Writes are atomic (temporary file + rename).
    """
    expected = normalised_sha256(sha256)
    parts = urlsplit(uri)
    provider = provider_for_scheme(parts.scheme)
    if provider == "local":
        source = file_uri_path(parts, uri)
        target = _destination(dest, PurePosixPath("local", source[1:]))
        return _fetch_file(Path(source), target, expected)
    location, key = uri_location(parts, uri), unquote(parts.path)[1:]  # the key keeps any further '/'
    if not location or not key:
        raise ValueError(f"{redact(uri)!r}: expected {parts.scheme}://bucket/key")
    target = _destination(dest, PurePosixPath(provider, check_bucket_name(location)) / safe_relative_path(key))
    if expected is not None and _already_there(target, expected):
        return target
    client = create_storage_client(f"{parts.scheme}://{parts.netloc}")
    return client.download(key, target, sha256=expected)


def artifact_cache_dir() -> Path:
    """Where download_artifact puts files when no destination is given."""
    configured = os.environ.get("STORAGE_ARTIFACT_CACHE")
    if configured:
        return Path(configured)
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home, "storage_shim", "artifacts")


def _destination(dest: PathLike | None, cache_path: PurePosixPath) -> Path:
    """Where the artifact goes: `dest`, a file in the directory `dest`, or a path confined to the cache."""
    if dest is None:
        return confined(artifact_cache_dir(), cache_path)
    target = Path(dest)
    return target / cache_path.name if target.is_dir() else target


def _already_there(target: Path, expected: str) -> bool:
    return target.is_file() and sha256_of(target) == expected


def _fetch_file(source: Path, target: Path, expected: str | None) -> Path:
    """A `file://` artifact: a verified, atomic copy of a local file."""
    if not source.is_file():
        raise NotFound(f"no file {source}", key=str(source))
    if expected is not None and _already_there(target, expected):
        return target

    def copy_into(out: BinaryIO) -> None:
        with source.open("rb") as src:
            shutil.copyfileobj(src, out)

    return write_atomically(target, copy_into, sha256=expected)
