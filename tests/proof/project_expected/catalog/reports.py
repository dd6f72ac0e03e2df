"""Product reports: one JSON document per product, kept by a small store class."""

import json

import boto3

from catalog.settings import REPORTS_BUCKET
from storage_shim import create_storage_client


class ReportStore:
    """Reads and writes reports; the S3 client lives on the instance."""

    def __init__(self, bucket: str = REPORTS_BUCKET) -> None:
        self.bucket = bucket
        self.s3 = boto3.client("s3")

    def save(self, product: str, report: dict) -> str:
        key = f"reports/{product}.json"
        body = json.dumps(report, sort_keys=True).encode("utf-8")
        create_storage_client(self.bucket, storage_profile="s3").put(key, body, content_type="application/json")
        return key

    def load(self, product: str) -> dict:
        response = self.s3.get_object(Bucket=self.bucket, Key=f"reports/{product}.json")
        return json.loads(response["Body"].read())

    def products(self) -> list[str]:
        # Every page: a catalog easily holds more than 1,000 reports.
        names = []
        for entry in create_storage_client(self.bucket, storage_profile="s3").list("reports/"):
            names.append(entry.key[len("reports/") : -len(".json")])
        return names

    def remove(self, product: str) -> None:
        create_storage_client(self.bucket, storage_profile="s3").delete(f"reports/{product}.json")
