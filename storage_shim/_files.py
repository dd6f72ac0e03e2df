"""Local filesystem helpers shared by the client, download_artifact and the local backend."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .errors import ChecksumMismatch

CHUNK_SIZE = 1024 * 1024
PARTIAL_PREFIX = ".storage-shim-"
PARTIAL_SUFFIX = ".part"


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
    temp = dest.with_name(
        f"{PARTIAL_PREFIX}{secrets.token_hex(8)}{PARTIAL_SUFFIX}"
    )  # short: dest.name may be 250 bytes
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
