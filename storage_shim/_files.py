"""Local filesystem helpers shared by the client, download_artifact and the local backend."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .errors import ChecksumMismatch

CHUNK_SIZE = 1024 * 1024
PARTIAL_PREFIX = ".storage-shim-"
PARTIAL_SUFFIX = ".part"
STALE_PARTIAL_SECONDS = 3600
logger = logging.getLogger("storage_shim")


def new_partial(directory: Path) -> Path:
    """A name for a partial write in `directory`, recognisable as the shim's, after removing stale ones.

    Short and fixed-length, whatever the destination's name (which may be 250 bytes).
    """
    remove_stale_partials(directory)
    return directory / f"{PARTIAL_PREFIX}{secrets.token_hex(8)}{PARTIAL_SUFFIX}"


@functools.lru_cache(maxsize=1024)
def remove_stale_partials(directory: Path) -> None:
    """Delete partial writes that a killed process left in `directory`; once per directory and process.

    A partial file is stale when it has not been written to for an hour: a live writer
    touches it with every chunk (reads time out long before an hour), so only orphans are
    that old, whichever process or machine (a shared cache) left them.
    """
    cutoff = time.time() - STALE_PARTIAL_SECONDS
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return
    for entry in entries:
        if not (entry.name.startswith(PARTIAL_PREFIX) and entry.name.endswith(PARTIAL_SUFFIX)):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                os.unlink(entry.path)
                logger.info("removed a stale partial file left by an interrupted write: %s", entry.path)
        except FileNotFoundError:  # another process removed it first
            continue


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
    is atomic), named by `new_partial`, so one a killed process leaves is removed later.
    When `sha256` is given the temporary file is checked before the rename; on a mismatch,
    or any error, the temporary file is removed and `dest` is left as it was.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    temp = new_partial(dest.parent)
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
