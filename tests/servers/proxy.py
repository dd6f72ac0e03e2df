"""A TCP forwarder on loopback that counts the bytes a server sends, to measure what a read transfers.

Point a client at `proxy.url` instead of the server's URL (for an `Emulator`, replace its
endpoint in every environment value): requests pass through unchanged, and
`proxy.bytes_from_server` says how much came back.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class CountingProxy:
    url: str
    bytes_from_server: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, size: int) -> None:
        with self.lock:
            self.bytes_from_server += size


def _pump(source: socket.socket, destination: socket.socket, counter: CountingProxy | None) -> None:
    """Copy bytes one way until either side closes; then close both so the other pump ends too."""
    with suppress(OSError):  # a side closed: the connection is over
        while chunk := source.recv(65536):
            if counter is not None:
                counter.count(len(chunk))
            destination.sendall(chunk)
    for end in (source, destination):
        with suppress(OSError):
            end.shutdown(socket.SHUT_RDWR)


@contextmanager
def counting_proxy(target_url: str) -> Iterator[CountingProxy]:
    """Forward every connection to `target_url`'s host and port, counting the server's bytes."""
    target = urlsplit(target_url)
    listener = socket.create_server(("127.0.0.1", 0))
    proxy = CountingProxy(f"{target.scheme}://127.0.0.1:{listener.getsockname()[1]}")
    sockets: list[socket.socket] = [listener]

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # the listener was closed: stop
                return
            server = socket.create_connection((target.hostname, target.port))
            sockets.extend((client, server))
            threading.Thread(target=_pump, args=(client, server, None), daemon=True).start()
            threading.Thread(target=_pump, args=(server, client, proxy), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        for sock in sockets:
            sock.close()
        thread.join(timeout=5)
