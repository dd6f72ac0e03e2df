"""Model artifact storage for the training pipeline (S3)."""

import json
import os

import boto3
from botocore.exceptions import ClientError

ARTIFACT_BUCKET = os.environ.get("ARTIFACT_BUCKET", "ml-artifacts")


class ArtifactStore:
    """Saves and loads model files and their metadata."""

    def __init__(self, bucket: str = ARTIFACT_BUCKET) -> None:
        self.bucket = bucket
        self._s3 = boto3.client("s3")

    def save_model(self, local_path: str, run_id: str) -> str:
        key = f"models/{run_id}/model.pkl"
        self._s3.upload_file(local_path, self.bucket, key, ExtraArgs={"ContentType": "application/octet-stream"})
        return key

    def save_metrics(self, run_id: str, metrics: dict) -> None:
        self._s3.put_object(
            Bucket=self.bucket,
            Key=f"metrics/{run_id}.json",
            Body=json.dumps(metrics).encode("utf-8"),
            ContentType="application/json",
        )

    def load_metrics(self, run_id: str) -> dict:
        body = self._s3.get_object(Bucket=self.bucket, Key=f"metrics/{run_id}.json")["Body"].read()
        return json.loads(body)

    def fetch_model(self, run_id: str, dest: str) -> None:
        self._s3.download_file(self.bucket, f"models/{run_id}/model.pkl", dest)

    def has_model(self, run_id: str) -> bool:
        try:
            self._s3.head_object(Bucket=self.bucket, Key=f"models/{run_id}/model.pkl")
            return True
        except ClientError:
            return False

    def share_link(self, run_id: str) -> str:
        return self._s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": f"models/{run_id}/model.pkl"},
            ExpiresIn=3600,
        )

    def forget(self, run_id: str) -> None:
        self._s3.delete_object(Bucket=self.bucket, Key=f"metrics/{run_id}.json")

    def lifecycle(self) -> None:
        self._s3.put_bucket_lifecycle_configuration(Bucket=self.bucket, LifecycleConfiguration={"Rules": []})
