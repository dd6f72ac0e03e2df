"""Build artifacts, stored the way MLflow's S3 artifact repository does it.

A module helper builds the client; it is passed by keyword to the helpers that use it.
"""

import mimetypes
import os

import boto3 as aws

from catalog.settings import ARTIFACTS_BUCKET
from storage_shim import create_storage_client


def _get_s3_client():
    return aws.client("s3")


def _upload_file(s3_client, local_file: str, bucket: str, key: str) -> None:
    content_type = mimetypes.guess_type(local_file)[0] or "application/octet-stream"
    create_storage_client(bucket, storage_profile="s3").upload(
        local_file, key, content_type=content_type
    )


def _download_file(s3_client, bucket: str, key: str, local_file: str) -> None:
    create_storage_client(bucket, storage_profile="s3").download(key, local_file)


def log_artifact(local_file: str, artifact_path: str) -> str:
    """Store a local file under artifacts/<artifact_path>/<file name>."""
    key = f"artifacts/{artifact_path}/{os.path.basename(local_file)}"
    s3_client = _get_s3_client()
    _upload_file(s3_client=s3_client, local_file=local_file, bucket=ARTIFACTS_BUCKET, key=key)
    return key


def fetch_artifact(key: str, destination: str) -> str:
    s3_client = _get_s3_client()
    _download_file(s3_client=s3_client, bucket=ARTIFACTS_BUCKET, key=key, local_file=destination)
    return destination
