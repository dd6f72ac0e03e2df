"""Nightly backups of the feature store go to OCI Object Storage."""

import oci

config = oci.config.from_file()
object_storage = oci.object_storage.ObjectStorageClient(config)
namespace = object_storage.get_namespace().data


def backup(name: str, payload: bytes) -> None:
    object_storage.put_object(namespace, "feature-backups", name, payload)


def restore(name: str) -> bytes:
    return object_storage.get_object(namespace, "feature-backups", name).data.content


def remove(name: str) -> None:
    object_storage.delete_object(namespace, "feature-backups", name)
