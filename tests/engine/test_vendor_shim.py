"""A team that vendors the shim: `vendor-shim`, `shim-module`, and rewritten code running on the copy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

APP = """\
import boto3

s3 = boto3.client("s3")


def save(key, data):
    s3.put_object(Bucket="reports", Key=key, Body=data, ContentType="text/plain")


def load(key):
    return s3.get_object(Bucket="reports", Key=key)["Body"].read()
"""


def cloudshift(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cloudshift", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_vendored_shim_is_imported_excluded_and_runs(tmp_path: Path) -> None:
    package = tmp_path / "myapp"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "reports.py").write_text(APP, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.cloudshift]\nshim-module = "myapp.storage_shim"\n', encoding="utf-8"
    )

    vendored = cloudshift("vendor-shim", "myapp", cwd=tmp_path)
    assert vendored.returncode == 0, vendored.stderr
    assert 'shim-module = "myapp.storage_shim"' in vendored.stdout
    assert (package / "storage_shim" / "backends" / "s3.py").is_file()
    assert cloudshift("vendor-shim", "myapp", cwd=tmp_path).returncode == 2  # never overwrites a copy

    scanned = cloudshift("scan", ".", cwd=tmp_path)
    assert "storage_shim" not in scanned.stdout, "the vendored shim's own SDK calls are excluded"
    assert "myapp/reports.py:7:5: aws-s3-put-object" in scanned.stdout

    assert cloudshift("fix", ".", cwd=tmp_path).returncode == 0
    fixed = (package / "reports.py").read_text(encoding="utf-8")
    assert "from myapp.storage_shim import create_storage_client" in fixed
    assert "boto3" not in fixed
    assert (tmp_path / "cloudshift-storage.toml").read_text() == (
        '[profiles.s3]\nprovider = "s3"\ncontent_type = "binary/octet-stream"\n'
    )

    # The rewritten code runs on the vendored copy alone (the installed storage_shim is made unimportable),
    # with no cloud at all: a test profile file gives the profile the fix named the local backend.
    local = tmp_path / "local-storage.toml"
    local.write_text(f'[profiles.s3]\nprovider = "local"\nroot = {str(tmp_path / "data")!r}\n', encoding="utf-8")
    program = (
        "sys.modules['storage_shim'] = None; from myapp import reports; "
        "assert reports.create_storage_client.__module__ == 'myapp.storage_shim.client'; "
        "reports.save('a.txt', b'hello'); print(reports.load('a.txt').decode())"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("STORAGE_")}
    environment.update(STORAGE_SHIM_CONFIG=str(local), PYTHONPATH=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(tmp_path)!r}); " + program],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "hello"
