"""Evaluation reports are published to Azure Blob Storage for the analytics team."""

import os

from azure.storage.blob import BlobServiceClient, ContentSettings


def service() -> BlobServiceClient:
    return BlobServiceClient.from_connection_string(os.environ["AZURE_STORAGE_CONNECTION_STRING"])


def publish(report_html: str, run_id: str) -> None:
    blob = service().get_blob_client(container="reports", blob=f"{run_id}/index.html")
    blob.upload_blob(report_html, overwrite=True, content_settings=ContentSettings(content_type="text/html"))


def fetch(run_id: str) -> bytes:
    container = service().get_container_client("reports")
    return container.download_blob(f"{run_id}/index.html").readall()


def published_runs() -> list[str]:
    container = service().get_container_client("reports")
    return [blob.name for blob in container.list_blobs(name_starts_with="")]
