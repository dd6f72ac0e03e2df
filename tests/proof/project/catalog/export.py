"""Exports mirrored to Google Cloud Storage for the analytics team."""

from google.cloud import storage

from catalog.settings import EXPORT_BUCKET


def publish_export(name: str, csv_text: str) -> None:
    client = storage.Client()
    bucket = client.bucket(EXPORT_BUCKET)
    blob = bucket.blob(f"exports/{name}.csv")
    blob.upload_from_string(csv_text, content_type="text/csv")


def read_export(name: str) -> str:
    blob = storage.Client().bucket(EXPORT_BUCKET).blob(f"exports/{name}.csv")
    return blob.download_as_bytes().decode("utf-8")


def export_names() -> list[str]:
    bucket = storage.Client().bucket(EXPORT_BUCKET)
    return sorted(blob.name for blob in bucket.list_blobs(prefix="exports/"))


def has_export(name: str) -> bool:
    return storage.Client().bucket(EXPORT_BUCKET).blob(f"exports/{name}.csv").exists()
