"""Training data lives in Google Cloud Storage."""

from google.cloud import storage

DATA_BUCKET = "training-data"

client = storage.Client()


def upload_dataset(path: str, name: str) -> None:
    bucket = client.bucket(DATA_BUCKET)
    blob = bucket.blob(f"datasets/{name}.csv")
    blob.upload_from_filename(path, content_type="text/csv")


def read_labels(name: str) -> str:
    return client.bucket(DATA_BUCKET).blob(f"labels/{name}.txt").download_as_text()


def dataset_names(prefix: str = "datasets/") -> list[str]:
    return [blob.name for blob in client.list_blobs(DATA_BUCKET, prefix=prefix)]


def drop_dataset(name: str) -> None:
    bucket = client.bucket(DATA_BUCKET)
    bucket.delete_blob(f"datasets/{name}.csv")
