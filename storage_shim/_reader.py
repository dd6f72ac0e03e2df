"""`client.open(key, "rb")`: a seekable binary stream that fetches an object in ranged reads.

The stream never holds more than one buffer of the object (plus what a caller asks one
`read(n)` for), so large objects can be read, searched and sliced without loading them whole:
reading a Parquet footer costs one `stat` and one ranged request, not the whole file.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from .backends.base import Backend

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

DEFAULT_BUFFER_SIZE = 1024 * 1024


class ObjectReader(io.RawIOBase):
    """Unbuffered, seekable reads of one object; `client.open` wraps it in an `io.BufferedReader`.

    The size is taken when the stream is opened (one `stat`): an object replaced while it is
    read may yield bytes of both versions, as with any ranged reader that does not pin a version.
    """

    def __init__(self, backend: Backend, key: str, size: int, chunk_size: int) -> None:
        super().__init__()
        self._backend = backend
        self._key = key
        self._size = size
        self._chunk_size = chunk_size
        self._position = 0

    @property
    def name(self) -> str:
        return self._key

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        self._check_open()
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._check_open()
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}.get(whence)
        if base is None:
            raise ValueError(f"invalid whence {whence!r}")
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self._position = base + offset
        return self._position

    def readinto(self, buffer: WriteableBuffer) -> int:
        """One ranged request for up to `len(buffer)` bytes from the current position."""
        self._check_open()
        view = memoryview(buffer).cast("B")
        end = min(self._position + len(view), self._size)
        if end <= self._position:
            return 0
        data = self._backend.get(self._key, self._position, end)
        view[: len(data)] = data
        self._position += len(data)
        return len(data)

    def readall(self) -> bytes:
        """The rest of the object in chunks of the buffer size (io's default would use 8 KiB requests)."""
        chunks = []
        while chunk := self.read(self._chunk_size):
            chunks.append(chunk)
        return b"".join(chunks)

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on a closed object stream")
