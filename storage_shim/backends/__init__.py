"""Backend registry: provider names and URI schemes -> backend classes, imported lazily.

A backend module is imported only when its provider is first used, and a backend imports
its SDK only when it connects, so one provider's SDK is enough to use that provider.

Backend modules and the class each must define:

| provider | URI scheme | module                          | class          |
| -------- | ---------- | ------------------------------- | -------------- |
| local    | file       | storage_shim.backends.local     | LocalBackend   |
| memory   | memory     | storage_shim.backends.memory    | MemoryBackend  |
| s3       | s3         | storage_shim.backends.s3        | S3Backend      |
| gcs      | gs         | storage_shim.backends.gcs       | GCSBackend     |
| azure    | az         | storage_shim.backends.azure     | AzureBackend   |
| oci      | oci        | storage_shim.backends.oci       | OCIBackend     |
"""

from __future__ import annotations

import importlib

from .base import Backend

_CLASSES: dict[str, tuple[str, str]] = {
    "local": (".local", "LocalBackend"),
    "memory": (".memory", "MemoryBackend"),
    "s3": (".s3", "S3Backend"),
    "gcs": (".gcs", "GCSBackend"),
    "azure": (".azure", "AzureBackend"),
    "oci": (".oci", "OCIBackend"),
}

PROVIDERS: tuple[str, ...] = tuple(_CLASSES)

SCHEMES: dict[str, str] = {
    "file": "local",
    "memory": "memory",
    "s3": "s3",
    "gs": "gcs",
    "az": "azure",
    "oci": "oci",
}


def backend_class(provider: str) -> type[Backend]:
    """The backend class for a provider name; `ValueError` for an unknown name."""
    try:
        module_name, class_name = _CLASSES[provider]
    except KeyError:
        raise ValueError(f"unknown storage provider {provider!r}; expected one of {', '.join(PROVIDERS)}") from None
    cls: type[Backend] = getattr(importlib.import_module(module_name, __name__), class_name)
    return cls


def provider_for_scheme(scheme: str) -> str:
    """The provider name for a URI scheme; `ValueError` for an unknown scheme."""
    try:
        return SCHEMES[scheme]
    except KeyError:
        raise ValueError(
            f"unknown storage URI scheme {scheme!r}://; expected one of " + ", ".join(f"{name}://" for name in SCHEMES)
        ) from None
