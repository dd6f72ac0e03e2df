"""A plain `cloudshift fix` of calls on clients that helpers in another module make, proven against moto.

One helper reads its endpoint from the program's own variable, another sets a literal region:
the fixes are safe only because the profile the fix writes carries those settings over, and
the fixed program (whose only shim configuration is that profile) must reach the same emulator
through it, return the same value and leave the same objects. A helper whose region is a
parameter cannot be recorded, so its call is left unsafe and unfixed. A client built from a
settings module's constants (each read from one environment variable, credentials included) is
fixed safely too: the profile names those variables, and the fixed program reaches the emulator
only through them.
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


SETTINGS = """\
import os

ENDPOINT = os.getenv("ARCHIVE_S3_ENDPOINT", None)
REGION: str | None = os.environ.get("ARCHIVE_REGION")
KEY_ID = os.environ["ARCHIVE_KEY_ID"]
SECRET = os.getenv("ARCHIVE_SECRET")
"""

REPORTS = """\
import boto3

import settings
from settings import ENDPOINT, KEY_ID

REGION = settings.REGION


def main():
    s3 = boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url=ENDPOINT,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=settings.SECRET,
    )
    s3.put_object(Bucket="proof-archive", Key="report.txt", Body=b"quarterly")
    s3.delete_object(Bucket="proof-archive", Key="old.txt")
    return s3.get_object(Bucket="proof-archive", Key="report.txt")["Body"].read().decode()
"""
SETTINGS_RENAMED = {
    **RENAMED,
    "AWS_DEFAULT_REGION": "ARCHIVE_REGION",
    "AWS_ACCESS_KEY_ID": "ARCHIVE_KEY_ID",
    "AWS_SECRET_ACCESS_KEY": "ARCHIVE_SECRET",
}


def cloudshift(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cloudshift", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def write_project(root: Path, files: dict[str, str]) -> Path:
    root.mkdir()
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def run_both(store_for: StoreFor, original: Path, fixed: Path, renamed: dict[str, str]) -> tuple[object, object]:
    """main() of the original program and of the fixed one against the same seeded emulator; the objects
    each leaves behind must be the same."""
    emulator, store = store_for("s3")
    prepare(store, [BUCKET], SEED)
    env = side_environment(emulator, renamed)
    sdk_result = run_side(original, env, original.parent)
    sdk_objects = snapshot(store, [BUCKET])
    reset(store, sdk_objects, SEED)
    shim_result = run_side(fixed, env, fixed.parent)
    differences = snapshot_differences(sdk_objects, snapshot(store, [BUCKET]), ())
    assert not differences, "objects left behind differ (sdk vs shim):\n" + "\n".join(differences)
    return sdk_result, shim_result


def test_calls_on_clients_made_by_helpers_elsewhere_are_fixed_safely_and_behave_the_same(
    store_for: StoreFor, tmp_path: Path
) -> None:
    original = write_project(tmp_path / "original", {"clients.py": CLIENTS, "jobs.py": JOBS})
    fixed = write_project(tmp_path / "fixed", {"clients.py": CLIENTS, "jobs.py": JOBS})
    done = cloudshift("fix", "--exit-zero", ".", cwd=fixed)
    assert done.returncode == 0, done.stdout + done.stderr
    left = json.loads(cloudshift("scan", "--format", "json", "--exit-zero", ".", cwd=fixed).stdout)["findings"]
    assert [(f["path"], f["rule"], f["fix"]) for f in left] == [("jobs.py", "aws-s3-head-object", "unsafe")]
    assert "computed at run time" in left[0]["reason"]
    assert (fixed / "clients.py").read_text(encoding="utf-8") == CLIENTS
    assert "env:ARCHIVE_S3_ENDPOINT" in (fixed / "cloudshift-storage.toml").read_text(encoding="utf-8")

    sdk_result, shim_result = run_both(store_for, original / "jobs.py", fixed / "jobs.py", RENAMED)
    assert shim_result == sdk_result == {"body": "quarterly", "kept": 4}


def test_a_client_built_from_a_settings_modules_constants_is_fixed_safely_and_behaves_the_same(
    store_for: StoreFor, tmp_path: Path
) -> None:
    files = {"settings.py": SETTINGS, "reports.py": REPORTS}
    original = write_project(tmp_path / "original", files)
    fixed = write_project(tmp_path / "fixed", files)
    done = cloudshift("fix", "--exit-zero", ".", cwd=fixed)
    assert done.returncode == 0, done.stdout + done.stderr
    left = json.loads(cloudshift("scan", "--format", "json", "--exit-zero", ".", cwd=fixed).stdout)["findings"]
    assert left == []
    assert "boto3" not in (fixed / "reports.py").read_text(encoding="utf-8")
    profile = (fixed / "cloudshift-storage.toml").read_text(encoding="utf-8")
    for line in (
        'endpoint = "env:ARCHIVE_S3_ENDPOINT"',
        'region = "env:ARCHIVE_REGION"',
        'aws_access_key_id = "env:ARCHIVE_KEY_ID"',
        'aws_secret_access_key = "env:ARCHIVE_SECRET"',
    ):
        assert line in profile, profile

    sdk_result, shim_result = run_both(store_for, original / "reports.py", fixed / "reports.py", SETTINGS_RENAMED)
    assert shim_result == sdk_result == "quarterly"
