"""The process-wide cache of SDK connections: bounded, keyed without secrets, never a global wait.

`create_storage_client` is meant to be called once per operation, so the SDK client behind
it is cached. Three properties matter for long-running services:

- **Bounded**: least recently used connections are dropped beyond `maxsize` (default 32,
  `STORAGE_SHIM_CACHE_SIZE`, or `set_connection_cache_size()`), so rotating credentials
  (a new session token every hour) does not grow memory for ever. A dropped connection
  lives on in the clients that still hold it.
- **No secrets in keys**: a key is an HMAC-SHA256 digest, under a random per-process key, of
  the provider, options and environment values, so neither the cache nor a memory dump
  of it holds a credential in the clear, and the digest cannot be checked against guesses
  outside the process. Option values that are not plain data (an azure-identity credential
  object) take part by identity and are kept alive with their entry, so an identity cannot
  be reused by another object while the entry exists.
- **No global wait**: the cache lock is held only to find or insert an entry; connecting
  happens under that entry's own lock, so one slow endpoint delays only the callers that
  want that same connection, and each connection is still built once.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

DEFAULT_SIZE = 32
SIZE_VARIABLE = "STORAGE_SHIM_CACHE_SIZE"
_PLAIN = (str, bytes, int, float, bool, type(None))
_DIGEST_KEY = secrets.token_bytes(32)


class _Entry:
    """One connection, built at most once by whichever caller gets there first."""

    def __init__(self, pinned: tuple[Any, ...]) -> None:
        self.lock = threading.Lock()
        self.pinned = pinned
        self.ready = False
        self.connection: Any = None

    def connection_from(self, connect: Callable[[], Any]) -> Any:
        with self.lock:
            if not self.ready:
                self.connection = connect()  # an exception leaves the entry empty: the next caller retries
                self.ready = True
            return self.connection


class ConnectionCache:
    """A least-recently-used map from key digests to SDK connections."""

    def __init__(self, maxsize: int) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self.maxsize = _checked_size(maxsize)

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._entries)

    def resize(self, maxsize: int) -> None:
        with self._lock:
            self.maxsize = _checked_size(maxsize)
            self._evict()

    def get(self, key: str, pinned: tuple[Any, ...], connect: Callable[[], Any]) -> Any:
        """The connection stored under `key`, made with `connect()` if there is none yet."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = _Entry(pinned)
                self._evict()
            else:
                self._entries.move_to_end(key)
        return entry.connection_from(connect)

    def _evict(self) -> None:
        while len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)


def cache_key(
    provider: str, options: Mapping[str, Any], environment: Iterable[str | None]
) -> tuple[str, tuple[Any, ...]]:
    """(digest, objects to keep alive) for a provider's options and environment values."""
    parts = [provider]
    pinned = []
    for name, value in sorted(options.items()):
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if isinstance(value, _PLAIN):
            parts.append(f"{name}={type(value).__name__}:{value!r}")
        else:
            parts.append(f"{name}=object:{id(value)}")
            pinned.append(value)
    parts.extend(repr(value) for value in environment)
    digest = hmac.new(_DIGEST_KEY, "\0".join(parts).encode("utf-8", "surrogatepass"), hashlib.sha256)
    return digest.hexdigest(), tuple(pinned)


def _checked_size(maxsize: int) -> int:
    if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
        raise ValueError(f"the connection cache size must be a positive int, got {maxsize!r}")
    return maxsize


def _initial_size() -> int:
    configured = os.environ.get(SIZE_VARIABLE)
    if not configured:
        return DEFAULT_SIZE
    try:
        return _checked_size(int(configured))
    except ValueError:
        raise ValueError(f"{SIZE_VARIABLE} must be a positive integer, got {configured!r}") from None


CONNECTIONS = ConnectionCache(_initial_size())


def set_connection_cache_size(maxsize: int) -> None:
    """How many SDK connections the process keeps (least recently used ones are dropped)."""
    CONNECTIONS.resize(maxsize)
