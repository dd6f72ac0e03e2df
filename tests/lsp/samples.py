"""Realistic boto3 code for the language server tests."""

REPORTS = '''\
"""Nightly report exports: publish, fetch and prune report files in S3."""

import json
import logging

import boto3

log = logging.getLogger(__name__)
s3 = boto3.client("s3")
REPORT_BUCKET = "acme-reports"


def publish(report: dict, name: str) -> None:
    body = json.dumps(report).encode("utf-8")
    s3.put_object(Bucket=REPORT_BUCKET, Key=f"daily/{name}.json", Body=body, ContentType="application/json")
    log.info("published %s", name)


def publish_encrypted(report: dict, name: str) -> None:
    body = json.dumps(report).encode("utf-8")
    s3.put_object(Bucket=REPORT_BUCKET, Key=f"secure/{name}.json", Body=body, ServerSideEncryption="aws:kms")


def fetch(name: str) -> dict:
    data = s3.get_object(Bucket=REPORT_BUCKET, Key=f"daily/{name}.json")["Body"].read()
    return json.loads(data)


def export_csv(path: str, name: str) -> None:
    s3.upload_file(path, REPORT_BUCKET, f"csv/{name}.csv", ExtraArgs={"ContentType": "text/csv"})


def prune(names: list[str]) -> None:
    s3.delete_objects(Bucket=REPORT_BUCKET, Delete={"Objects": [{"Key": f"daily/{n}.json"} for n in names]})


def retire(name: str) -> None:
    s3.delete_object(Bucket=REPORT_BUCKET, Key=f"daily/{name}.json")
'''

# Every call has a safe fix, so fixing them all also removes `import boto3` and the client.
# The label key holds characters outside ASCII and outside the BMP: columns differ per encoding.
MODEL_CACHE = '''\
"""Model cache: trained models live in S3 under a per-team prefix."""

import boto3

s3 = boto3.client("s3")


def save_model(bucket: str, team: str, path: str) -> None:
    s3.upload_file(path, bucket, f"models/{team}/model.pkl")


def load_model(bucket: str, team: str, target: str) -> None:
    s3.download_file(bucket, f"models/{team}/model.pkl", target)


def label(bucket: str, team: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=f"labels/{team}/étiquette-📦.txt")["Body"].read()
'''

# Half-typed: the user is in the middle of writing `archive`; the other calls are complete.
HALF_TYPED = """\
import boto3

s3 = boto3.client("s3")


def publish(bucket: str, key: str, body: bytes) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=body)


def archive(bucket: str, key: str) -> None:
    s3.copy_object(Bucket=bucket, Key=f"archive/{key}", CopySource={"Bucket": bucket, "Key":


def retire(bucket: str, key: str) -> None:
    s3.delete_object(Bucket=bucket, Key=key)
"""


def line_of(text: str, fragment: str) -> int:
    """The 0-based line holding `fragment` (exactly one must)."""
    lines = [number for number, line in enumerate(text.splitlines()) if fragment in line]
    assert len(lines) == 1, (fragment, lines)
    return lines[0]
