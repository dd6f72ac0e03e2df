"""storage_shim: one small storage API over local files, memory, S3, GCS, Azure Blob and OCI.

    from storage_shim import create_storage_client
    client = create_storage_client("s3://my-bucket")   # or a bare name + STORAGE_PROVIDER
    client.put("reports/today.json", b"{}", content_type="application/json")

Which cloud is used is configuration, not code; see docs/storage_shim.md.
"""

from ._cache import set_connection_cache_size
from .artifacts import artifact_cache_dir, download_artifact
from .client import ObjectHandle, StorageClient, create_storage_client
from .errors import (
    AlreadyExists,
    ChecksumMismatch,
    InvalidKey,
    MissingDependency,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    PresignNotSupported,
    StorageError,
)
from .types import ObjectInfo

__all__ = [
    "AlreadyExists",
    "ChecksumMismatch",
    "InvalidKey",
    "MissingDependency",
    "NotFound",
    "ObjectHandle",
    "ObjectInfo",
    "PermissionDenied",
    "PreconditionFailed",
    "PresignNotSupported",
    "StorageClient",
    "StorageError",
    "artifact_cache_dir",
    "create_storage_client",
    "download_artifact",
    "set_connection_cache_size",
]
