"""A plain `cloudshift fix` of calls on clients that helpers in another module make, proven against moto.

One helper reads its endpoint from the program's own variable, another sets a literal region:
the fixes are safe only because the profile the fix writes carries those settings over, and
the fixed program (whose only shim configuration is that profile) must reach the same emulator
through it, return the same value and leave the same objects. A helper whose region is a
parameter cannot be recorded, so its call is left unsafe and unfixed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.proof.runner import run_side, side_environment
from tests.proof.stores import StoreFor, prepare, reset, snapshot, snapshot_differences

BUCKET = "proof-archive"
SEED = {f"{BUCKET}/old.txt": b"to be removed", f"{BUCKET}/kept.txt": b"kept"}
RENAMED = {"AWS_ENDPOINT_URL": "ARCHIVE_S3_ENDPOINT"}  # the emulator reaches the program only by its own name

CLIENTS = """\
import os

import boto3


def archive_client():
    return boto3.client("s3", endpoint_url=os.environ["ARCHIVE_S3_ENDPOINT"])


def regional_client():
    return boto3.client("s3", region_name="us-east-1", endpoint_url=os.environ["ARCHIVE_S3_ENDPOINT"])


def client_in(region):
    return boto3.client("s3", region_name=region, endpoint_url=os.environ["ARCHIVE_S3_ENDPOINT"])
"""

JOBS = """\
from clients import archive_client, client_in, regional_client


def main():
    archive_client().put_object(Bucket="proof-archive", Key="report.txt", Body=b"quarterly")
    body = archive_client().get_object(Bucket="proof-archive", Key="report.txt")["Body"].read()
    regional_client().delete_object(Bucket="proof-archive", Key="old.txt")
    kept = client_in("us-east-1").head_object(Bucket="proof-archive", Key="kept.txt")["ContentLength"]
    return {"body": body.decode(), "kept": kept}
"""


def cloudshift(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cloudshift", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def write_project(root: Path) -> Path:
    root.mkdir()
    (root / "clients.py").write_text(CLIENTS, encoding="utf-8")
    (root / "jobs.py").write_text(JOBS, encoding="utf-8")
    return root


def test_calls_on_clients_made_by_helpers_elsewhere_are_fixed_safely_and_behave_the_same(
    store_for: StoreFor, tmp_path: Path
) -> None:
    original = write_project(tmp_path / "original")
    fixed = write_project(tmp_path / "fixed")
    done = cloudshift("fix", "--exit-zero", ".", cwd=fixed)
    assert done.returncode == 0, done.stdout + done.stderr
    left = json.loads(cloudshift("scan", "--format", "json", "--exit-zero", ".", cwd=fixed).stdout)["findings"]
    assert [(f["path"], f["rule"], f["fix"]) for f in left] == [("jobs.py", "aws-s3-head-object", "unsafe")]
    assert "computed at run time" in left[0]["reason"]
    assert (fixed / "clients.py").read_text(encoding="utf-8") == CLIENTS
    assert "env:ARCHIVE_S3_ENDPOINT" in (fixed / "cloudshift-storage.toml").read_text(encoding="utf-8")

    emulator, store = store_for("s3")
    prepare(store, [BUCKET], SEED)
    env = side_environment(emulator, RENAMED)
    sdk_result = run_side(original / "jobs.py", env, original)
    sdk_objects = snapshot(store, [BUCKET])
    reset(store, sdk_objects, SEED)
    shim_result = run_side(fixed / "jobs.py", env, fixed)
    assert shim_result == sdk_result == {"body": "quarterly", "kept": 4}
    differences = snapshot_differences(sdk_objects, snapshot(store, [BUCKET]), ())
    assert not differences, "objects left behind differ (sdk vs shim):\n" + "\n".join(differences)
