"""Local filesystem helpers shared by the client, download_artifact and the local backend."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from .errors import ChecksumMismatch, InvalidKey

CHUNK_SIZE = 1024 * 1024


def safe_relative_path(key: str) -> PurePosixPath:
    """The key as a relative path that cannot leave its base directory.

    Refuses absolute keys, `.` and `..` segments, empty segments (`a//b`, trailing `/`),
    backslashes and NUL, because a filesystem would reinterpret or collapse them.
    """
    segments = key.split("/")
    bad = [s for s in segments if s in ("", ".", "..") or "\\" in s or "\0" in s]
    if bad:
        raise InvalidKey(
            f"key {key!r} cannot be stored as a file: absolute keys, empty, '.' and '..' "
            "segments, backslashes and NUL are refused",
            key=key,
        )
    return PurePosixPath(*segments)


def normalised_sha256(sha256: str | None) -> str | None:
    """A user-supplied hex digest in lower case; `ValueError` if it is not one."""
    if sha256 is None:
        return None
    digest = sha256.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ValueError(f"sha256 must be 64 hex digits, got {sha256!r}")
    return digest


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's content, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_atomically(dest: Path, fill: Callable[[BinaryIO], None], *, sha256: str | None = None) -> Path:
    """Create `dest` from what `fill` writes, all or nothing.

    `fill` writes into a temporary file next to `dest` (same filesystem, so the final rename
    is atomic). When `sha256` is given the temporary file is checked before the rename; on a
    mismatch, or any error, the temporary file is removed and `dest` is left as it was.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    temp = dest.with_name(f".{dest.name}.{secrets.token_hex(6)}.part")
    try:
        with temp.open("xb") as file:
            fill(file)
        if sha256 is not None:
            actual = sha256_of(temp)
            if actual != sha256:
                raise ChecksumMismatch(f"sha256 of downloaded {dest.name} is {actual}, expected {sha256}")
        os.replace(temp, dest)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return dest
