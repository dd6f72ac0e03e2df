"""Direct SDK access to each emulator, for the proof's setup and its snapshots.

The proof never trusts the code under test to report what it stored: buckets are prepared
and read back here, through each provider's own SDK configured explicitly from the
emulator's environment (nothing in `os.environ` is changed, so the harness cannot leak
settings into other tests). A `Store` has five primitives; `prepare` and `snapshot` build
on them and run the per-object calls on a thread pool, since 1,000+ objects one request at
a time would dominate the suite's run time.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from tests.servers import Emulator

WORKERS = 10  # the SDKs' HTTP connection pools hold 10
SEED_CONTENT_TYPE = "text/plain"
PROVIDER_OF_RULE_PREFIX = {"aws-": "s3", "gcs-": "gcs", "azure-": "azure", "oci-": "oci"}


@dataclass(frozen=True)
class StoredObject:
    """What an object is, as far as the proof compares it."""

    sha256: str
    size: int
    content_type: str | None
    metadata: Mapping[str, str] = field(default_factory=dict)

    def without(self, ignored: Iterable[str]) -> dict[str, object]:
        """The compared fields as a dict, minus the ones a case may ignore."""
        fields = {
            "sha256": self.sha256,
            "size": self.size,
            "content_type": self.content_type,
            "metadata": dict(self.metadata),
        }
        for name in ignored:
            fields.pop(name, None)
        return fields


def stored(data: bytes, content_type: str | None, metadata: Mapping[str, str] | None) -> StoredObject:
    return StoredObject(hashlib.sha256(data).hexdigest(), len(data), content_type, dict(metadata or {}))


Snapshot = Mapping[str, StoredObject]


class Store(Protocol):
    """The SDK operations the proof needs on one provider's emulator."""

    def create_bucket_if_missing(self, bucket: str) -> None: ...

    def keys(self, bucket: str) -> list[str]: ...

    def put(self, bucket: str, key: str, data: bytes) -> None: ...

    def read(self, bucket: str, key: str) -> StoredObject: ...

    def delete(self, bucket: str, key: str) -> None: ...


StoreFor = Callable[[str], tuple[Emulator, Store]]


def provider_for_rule(rule_id: str) -> str:
    """The emulator a rule's fixtures run against, from the rule id's prefix."""
    for prefix, provider in PROVIDER_OF_RULE_PREFIX.items():
        if rule_id.startswith(prefix):
            return provider
    raise ValueError(f"rule {rule_id!r} has no known provider prefix")


def prepare(store: Store, buckets: Iterable[str], objects: Mapping[str, bytes]) -> None:
    """Create missing buckets, then make them hold exactly `objects`, as seeded."""
    buckets = list(buckets)
    for bucket in buckets:
        store.create_bucket_if_missing(bucket)
    reset(store, snapshot(store, buckets), objects)


def reset(store: Store, current: Mapping[str, StoredObject], objects: Mapping[str, bytes]) -> None:
    """From the `current` snapshot back to exactly `objects`, as if emptied and seeded again.

    Only what differs from the seed is deleted or written again: wiping and re-seeding
    1,000 keys per side would cost more than the rest of the proof (the GCS emulator
    rewrites its whole index on every write).
    """
    wanted = {path: stored(data, SEED_CONTENT_TYPE, {}) for path, data in objects.items()}
    stale = [split_path(path) for path in current if path not in wanted]
    _in_parallel(lambda item: store.delete(*item), stale)
    missing = [(path, objects[path]) for path, info in wanted.items() if current.get(path) != info]
    _in_parallel(lambda item: store.put(*split_path(item[0]), item[1]), missing)


def snapshot(store: Store, buckets: Iterable[str]) -> Snapshot:
    """Every object in the buckets, by `bucket/key`."""
    paths = [(bucket, key) for bucket in buckets for key in store.keys(bucket)]
    read = _in_parallel(lambda item: store.read(*item), paths)
    return {f"{bucket}/{key}": info for (bucket, key), info in zip(paths, read, strict=True)}


def snapshot_differences(sdk: Snapshot, shim: Snapshot, ignored: tuple[str, ...]) -> list[str]:
    """One line per object that differs; short even when a bucket holds thousands of keys."""
    lines = [f"{path}: only after the SDK run" for path in sorted(sdk.keys() - shim.keys())]
    lines += [f"{path}: only after the shim run" for path in sorted(shim.keys() - sdk.keys())]
    for path in sorted(sdk.keys() & shim.keys()):
        before, after = sdk[path].without(ignored), shim[path].without(ignored)
        lines += [
            f"{path}: {name} sdk={before[name]!r} shim={after[name]!r}"
            for name in before
            if before[name] != after[name]
        ]
    return lines


def split_path(path: str) -> tuple[str, str]:
    """`bucket/some/key` -> (`bucket`, `some/key`)."""
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise ValueError(f"{path!r} is not bucket/key")
    return bucket, key


def _in_parallel(call: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    if len(items) <= 1:
        return [call(item) for item in items]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(call, items))


class S3Store:
    def __init__(self, emulator: Emulator) -> None:
        import boto3

        env = emulator.env
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name=env["AWS_DEFAULT_REGION"],
        )

    def create_bucket_if_missing(self, bucket: str) -> None:
        existing = {b["Name"] for b in self.client.list_buckets().get("Buckets", [])}
        if bucket not in existing:
            self.client.create_bucket(Bucket=bucket)

    def keys(self, bucket: str) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return [entry["Key"] for page in pages for entry in page.get("Contents", [])]

    def put(self, bucket: str, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=bucket, Key=key, Body=data, ContentType=SEED_CONTENT_TYPE)

    def read(self, bucket: str, key: str) -> StoredObject:
        response = self.client.get_object(Bucket=bucket, Key=key)
        return stored(response["Body"].read(), response.get("ContentType"), response.get("Metadata"))

    def delete(self, bucket: str, key: str) -> None:
        self.client.delete_object(Bucket=bucket, Key=key)


class GcsStore:
    def __init__(self, emulator: Emulator) -> None:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        self.client = storage.Client(
            project=emulator.env["GOOGLE_CLOUD_PROJECT"],
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": emulator.env["STORAGE_EMULATOR_HOST"]},
        )

    def create_bucket_if_missing(self, bucket: str) -> None:
        if self.client.lookup_bucket(bucket) is None:
            self.client.create_bucket(bucket)

    def keys(self, bucket: str) -> list[str]:
        return [blob.name for blob in self.client.list_blobs(bucket)]

    def put(self, bucket: str, key: str, data: bytes) -> None:
        blob = self.client.bucket(bucket).blob(key)
        blob.upload_from_string(data, content_type=SEED_CONTENT_TYPE)

    def read(self, bucket: str, key: str) -> StoredObject:
        blob = self.client.bucket(bucket).blob(key)
        data = blob.download_as_bytes()  # also loads the blob's properties
        return stored(data, blob.content_type, blob.metadata)

    def delete(self, bucket: str, key: str) -> None:
        self.client.bucket(bucket).blob(key).delete()


class AzureStore:
    def __init__(self, emulator: Emulator) -> None:
        from azure.storage.blob import BlobServiceClient

        connection = emulator.env["AZURE_STORAGE_CONNECTION_STRING"]
        self.service = BlobServiceClient.from_connection_string(connection)

    def create_bucket_if_missing(self, bucket: str) -> None:
        container = self.service.get_container_client(bucket)
        if not container.exists():
            container.create_container()

    def keys(self, bucket: str) -> list[str]:
        return list(self.service.get_container_client(bucket).list_blob_names())

    def put(self, bucket: str, key: str, data: bytes) -> None:
        from azure.storage.blob import ContentSettings

        blob = self.service.get_blob_client(bucket, key)
        blob.upload_blob(data, content_settings=ContentSettings(content_type=SEED_CONTENT_TYPE))

    def read(self, bucket: str, key: str) -> StoredObject:
        downloader = self.service.get_blob_client(bucket, key).download_blob()
        properties = downloader.properties
        data = downloader.readall()
        return stored(data, properties.content_settings.content_type, properties.metadata)

    def delete(self, bucket: str, key: str) -> None:
        self.service.get_blob_client(bucket, key).delete_blob()


class OciStore:
    """OCI clients are not shared between threads: each pool thread gets its own."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.namespace = emulator.env["OCI_OBJECT_STORAGE_NAMESPACE"]
        self._local = threading.local()

    @property
    def client(self) -> Any:
        from tests.servers.oci import sdk_client

        if not hasattr(self._local, "client"):
            self._local.client = sdk_client(self.emulator.env)
        return self._local.client

    def create_bucket_if_missing(self, bucket: str) -> None:
        import oci

        from tests.servers.oci import create_bucket

        try:
            self.client.get_bucket(self.namespace, bucket)
        except oci.exceptions.ServiceError as error:
            if error.status != 404:
                raise
            create_bucket(self.emulator, bucket)

    def keys(self, bucket: str) -> list[str]:
        names: list[str] = []
        start = None
        while True:
            page = self.client.list_objects(self.namespace, bucket, start=start).data
            names += [entry.name for entry in page.objects]
            start = page.next_start_with
            if not start:
                return names

    def put(self, bucket: str, key: str, data: bytes) -> None:
        self.client.put_object(self.namespace, bucket, key, data, content_type=SEED_CONTENT_TYPE)

    def read(self, bucket: str, key: str) -> StoredObject:
        response = self.client.get_object(self.namespace, bucket, key)
        headers = {name.lower(): value for name, value in response.headers.items()}
        metadata = {name[len("opc-meta-") :]: value for name, value in headers.items() if name.startswith("opc-meta-")}
        return stored(response.data.content, headers.get("content-type"), metadata)

    def delete(self, bucket: str, key: str) -> None:
        self.client.delete_object(self.namespace, bucket, key)


STORES: dict[str, Callable[[Emulator], Store]] = {
    "s3": S3Store,
    "gcs": GcsStore,
    "azure": AzureStore,
    "oci": OciStore,
}
