"""Nightly backups: copies each report next to itself, with a client from catalog.clients."""

from catalog.clients import s3_client
from catalog.settings import REPORTS_BUCKET


def back_up(key: str) -> str:
    target = f"backups/{key}"
    source = {"Bucket": REPORTS_BUCKET, "Key": key}
    s3_client().copy_object(Bucket=REPORTS_BUCKET, Key=target, CopySource=source)
    return target
