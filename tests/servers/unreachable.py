"""Loopback endpoints that never answer, for timeout tests: no packet leaves the machine.

- `black_hole()`: a listening socket whose accept queue is full and never drained, so the
  kernel drops new connection requests and a client's connect() waits until its timeout.
- `silent_server()`: accepts every connection and reads its request, but never answers, so
  a client waits for a response until its read timeout. It records each request's path.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field


@contextmanager
def black_hole() -> Iterator[str]:
    """The URL of an endpoint whose connections never complete."""
    with ExitStack() as stack:
        listener = stack.enter_context(socket.socket())
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)  # room for one pending connection, which the filler takes
        stack.enter_context(socket.create_connection(listener.getsockname()))
        host, port = listener.getsockname()
        yield f"http://{host}:{port}"


@dataclass
class SilentServer:
    url: str
    paths: list[str] = field(default_factory=list)  # of the requests received, query removed


def _request_path(connection: socket.socket) -> str:
    """The path of the request line the client sends first ("" if none comes)."""
    connection.settimeout(5)
    try:
        head = connection.recv(65536).split(b"\r\n", 1)[0].decode("latin-1")
    except OSError:
        return ""
    parts = head.split(" ")
    return parts[1].partition("?")[0] if len(parts) == 3 else ""


@contextmanager
def silent_server() -> Iterator[SilentServer]:
    """An endpoint that accepts connections and never sends a byte back."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    host, port = listener.getsockname()
    server = SilentServer(f"http://{host}:{port}")
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(connection)
            server.paths.append(_request_path(connection))

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()
