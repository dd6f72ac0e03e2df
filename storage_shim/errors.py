"""One error family for every backend, so callers never catch SDK exceptions.

Every backend translates its SDK's errors into these classes (``raise ... from sdk_error``),
so the original exception stays available as ``__cause__`` for debugging, unless its message
shows a credential (see `_redact.safe_cause`). Messages are redacted when an error is made,
so no credential reaches `str()`, `repr()`, a traceback or a log line through them.
"""

from __future__ import annotations

from ._redact import redact


class StorageError(Exception):
    """Base class of every error the shim raises for a storage operation.

    `key` and `bucket` say which object was involved, when one was.
    """

    def __init__(self, message: str, *, key: str | None = None, bucket: str | None = None) -> None:
        super().__init__(redact(message))
        self.key = key
        self.bucket = bucket


class NotFound(StorageError, FileNotFoundError):
    """The object (or its bucket) does not exist.

    Also a `FileNotFoundError`, so code written for local files keeps working.
    """


class PermissionDenied(StorageError, PermissionError):
    """The credentials in use may not perform this operation (HTTP 401/403)."""


class PreconditionFailed(StorageError):
    """A conditional request's condition did not hold (HTTP 412)."""


class AlreadyExists(PreconditionFailed, FileExistsError):
    """`put(..., overwrite=False)` found an object already stored under the key."""


class PresignNotSupported(StorageError):
    """This backend (or its credentials) cannot produce a presigned URL; the message says why."""


class InvalidKey(StorageError, ValueError):
    """The key cannot be stored by this backend (e.g. `../` or an absolute path on local files)."""


class ChecksumMismatch(StorageError):
    """A downloaded artifact's sha256 differs from the expected one; nothing was left on disk."""


class MissingDependency(StorageError, ImportError):
    """The provider's SDK is not installed; the message names the extra that installs it."""
