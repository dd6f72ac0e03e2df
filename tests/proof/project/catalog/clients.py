"""A shared client factory, imported by modules that do not configure boto3 themselves."""

import boto3


def s3_client():
    """The S3 client the backup jobs share."""
    return boto3.client("s3")
