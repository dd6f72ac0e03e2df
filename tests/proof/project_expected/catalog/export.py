"""Exports mirrored to Google Cloud Storage for the analytics team."""

from catalog.settings import EXPORT_BUCKET
from storage_shim import create_storage_client


def publish_export(name: str, csv_text: str) -> None:
    bucket = create_storage_client(EXPORT_BUCKET, storage_profile="gcs")
    blob = bucket.object(f"exports/{name}.csv")
    blob.put(csv_text, content_type="text/csv")


def read_export(name: str) -> str:
    blob = create_storage_client(EXPORT_BUCKET, storage_profile="gcs").object(f"exports/{name}.csv")
    return blob.get().decode("utf-8")


def export_names() -> list[str]:
    bucket = create_storage_client(EXPORT_BUCKET, storage_profile="gcs")
    return sorted(blob.key for blob in bucket.list(prefix="exports/"))


def has_export(name: str) -> bool:
    return create_storage_client(EXPORT_BUCKET, storage_profile="gcs").object(f"exports/{name}.csv").exists()
