"""Read and write Python source files without losing encoding, BOM, line endings or file mode."""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import io
import os
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path


class SourceError(Exception):
    """A file that cannot be read as Python source; the message names the problem."""


@dataclass(frozen=True)
class SourceFile:
    """A file's text and how to write it back exactly as it was encoded."""

    text: str
    encoding: str  # the codec the file declares (PEP 263) or utf-8
    bom: bool
    digest: str = ""  # of the bytes read, so a write can tell whether the file changed since


def content_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def read_source(path: Path, max_size: int = 0) -> SourceFile:
    """Decode a file the way Python would, keeping its newlines untouched.

    A file over `max_size` bytes (0: no limit) is refused unread: a generated file of megabytes
    costs minutes and gigabytes to analyse and holds no hand-written SDK call.
    """
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if max_size and size > max_size:
                raise SourceError(
                    f"skipped: {_megabytes(size)} is over the {_megabytes(max_size)} max-file-size "
                    "(raise it with --max-file-size or [tool.cloudshift] max-file-size, or exclude the file)"
                )
            data = handle.read()
    except OSError as error:
        raise SourceError(f"cannot read: {error.strerror or error}") from error
    return decode_source(data)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.3g} MB"


def decode_source(data: bytes) -> SourceFile:
    digest = content_digest(data)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        if "encoding problem" in str(error):  # a coding comment naming a codec Python does not know
            raise SourceError(f"unknown source encoding: {error}") from error
        encoding = "utf-8"  # undecodable bytes in the first two lines: the decode below names the line
    bom = data.startswith(codecs.BOM_UTF8)
    if bom:
        data = data[len(codecs.BOM_UTF8) :]
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise SourceError(
            f"line {line}: not valid {encoding} ({error.reason}); cloudshift reads Python source "
            "in its declared encoding (UTF-8 unless a coding comment says otherwise)"
        ) from error
    return SourceFile(text, "utf-8" if encoding == "utf-8-sig" else encoding, bom, digest)


class ChangedOnDisk(SourceError):
    """The file's bytes are no longer those that were read: someone edited it meanwhile."""


def write_source(path: Path, original: SourceFile, text: str) -> Path:
    """Replace the file at `path` atomically with `text`, in the original encoding, BOM, mode and owner.

    A symlink is written through: its target gets the text and the link stays a link. Just before
    the replace, the target is hashed again; if it no longer holds the bytes that were read,
    ChangedOnDisk is raised and nothing is written. Returns the file written (the link's target).
    Any other failure is a SourceError naming what could not be done.
    """
    data = text.encode(original.encoding)
    if original.bom:
        data = codecs.BOM_UTF8 + data
    try:
        target = Path(os.path.realpath(path, strict=True))
        _replace(target, data, original.digest)
    except OSError as error:
        raise SourceError(f"not written: {error.strerror or error}" + _naming(error)) from error
    return target


def _naming(error: OSError) -> str:
    return f" ({error.filename})" if error.filename else ""


def _replace(target: Path, data: bytes, digest: str) -> None:
    status = target.stat()
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".cloudshift", dir=target.parent)
    except OSError as error:  # name the folder, not the temporary file that could not be made in it
        folder = str(target.parent)
        raise OSError(error.errno, f"cannot create a file in the folder: {error.strerror}", folder) from error
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, status.st_mode & 0o7777)
        _keep_owner(temporary, status)
        if digest and content_digest(target.read_bytes()) != digest:
            raise ChangedOnDisk("not written: the file changed on disk after cloudshift read it; run fix again")
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _keep_owner(temporary: str, status: os.stat_result) -> None:
    """Give the new file the old one's owner and group where allowed (root fixing another user's tree)."""
    if (status.st_uid, status.st_gid) == (os.getuid(), os.getgid()):
        return
    with contextlib.suppress(PermissionError):
        os.chown(temporary, status.st_uid, status.st_gid)
