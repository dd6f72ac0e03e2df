"""Read and write Python source files without losing encoding, BOM, line endings or file mode."""

from __future__ import annotations

import codecs
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


def read_source(path: Path) -> SourceFile:
    """Decode a file the way Python would, keeping its newlines untouched."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SourceError(f"cannot read: {error.strerror or error}") from error
    return decode_source(data)


def decode_source(data: bytes) -> SourceFile:
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
    return SourceFile(text, "utf-8" if encoding == "utf-8-sig" else encoding, bom)


def write_source(path: Path, original: SourceFile, text: str) -> None:
    """Replace `path` atomically with `text`, in the original encoding, BOM and file mode."""
    data = text.encode(original.encoding)
    if original.bom:
        data = codecs.BOM_UTF8 + data
    mode = path.stat().st_mode & 0o7777
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".cloudshift", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
