"""The `cloudshift` command end to end, as a user runs it: exit codes, formats, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

S3_CODE = """\
import boto3

s3 = boto3.client("s3")


def save(key, data):
    s3.put_object(Bucket="reports", Key=key, Body=data, ContentType="text/csv")
"""


def cloudshift(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cloudshift", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(S3_CODE, encoding="utf-8")
    (tmp_path / "clean.py").write_text("print('no cloud here')\n", encoding="utf-8")
    return tmp_path


def test_scan_reports_path_line_column_rule(project: Path) -> None:
    done = cloudshift("scan", cwd=project)
    assert done.returncode == 1, done.stderr
    assert "app.py:7:5: aws-s3-put-object " in done.stdout


def test_scan_json_has_the_documented_fields(project: Path) -> None:
    done = cloudshift("scan", "--format", "json", ".", cwd=project)
    document = json.loads(done.stdout)
    [finding] = document["findings"]
    assert {k: finding[k] for k in ("path", "line", "column", "end_line", "end_column", "rule", "provider", "fix")} == {
        "path": "app.py",
        "line": 7,
        "column": 5,
        "end_line": 7,
        "end_column": 80,
        "rule": "aws-s3-put-object",
        "provider": "aws",
        "fix": "safe",
    }
    assert document["summary"]["findings"] == 1


def test_scan_clean_tree_exits_zero(project: Path) -> None:
    assert cloudshift("scan", "clean.py", cwd=project).returncode == 0


def test_missing_path_is_a_clear_usage_error(project: Path) -> None:
    done = cloudshift("scan", "nowhere", cwd=project)
    assert done.returncode == 2
    assert "nowhere" in done.stderr and "Traceback" not in done.stderr


def test_directory_without_python_files_says_so(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    done = cloudshift("scan", ".", cwd=tmp_path)
    assert done.returncode == 0
    assert "no Python files" in done.stderr


def test_non_utf8_file_is_reported_and_the_run_goes_on(project: Path) -> None:
    (project / "latin.py").write_bytes("x = 'caf\xe9'\n".encode("latin-1"))
    done = cloudshift("scan", ".", cwd=project)
    assert "latin.py" in done.stdout and "not valid utf-8" in done.stdout
    assert "app.py:7:5: aws-s3-put-object" in done.stdout
    assert "Traceback" not in done.stderr


def test_syntax_error_file_still_reports_its_complete_calls(project: Path) -> None:
    (project / "half.py").write_text(S3_CODE + "\ns3.get_object(Bucket=\n", encoding="utf-8")
    done = cloudshift("scan", "--format", "json", "half.py", cwd=project)
    document = json.loads(done.stdout)
    assert [f["rule"] for f in document["findings"]] == ["aws-s3-put-object"]
    assert document["findings"][0]["resolution"] == "partial"
    assert document["errors"][0]["path"] == "half.py"
    assert done.returncode == 1


def test_bad_rule_file_names_file_and_line(project: Path) -> None:
    rules = project / "myrules"
    rules.mkdir()
    (rules / "bad.yaml").write_text(
        "provider: aws\nservice: s3\nmodules: [boto3]\nobjects:\n  thing:\n    summary: x\n"
        "    created_by:\n      - call: boto3.thing\nrules:\n  - id: aws-thing-go\n    method: thing.go\n"
        "    message: go\n    fix:\n      - template: '{shim}()'\n        safety: maybe\n",
        encoding="utf-8",
    )
    done = cloudshift("scan", "--rules", "myrules", ".", cwd=project)
    assert done.returncode == 2
    assert "bad.yaml:15" in done.stderr and "maybe" in done.stderr


def test_fix_rewrites_in_place_and_is_idempotent(project: Path) -> None:
    done = cloudshift("fix", ".", cwd=project)
    assert done.returncode == 0, done.stderr
    fixed = (project / "app.py").read_text(encoding="utf-8")
    assert 'create_storage_client("reports", storage_profile="s3").put(key, data, content_type="text/csv")' in fixed
    assert "import boto3" not in fixed
    assert (project / "cloudshift-storage.toml").read_text() == (
        '[profiles.s3]\nprovider = "s3"\ncontent_type = "binary/octet-stream"\n'
    )
    again = cloudshift("fix", ".", cwd=project)
    assert again.returncode == 0 and (project / "app.py").read_text(encoding="utf-8") == fixed


CONFIGURED = """\
import os

import boto3
from botocore.config import Config

s3 = boto3.client("s3", region_name="eu-west-1", endpoint_url=os.environ["S3_URL"])
tuned = boto3.client("s3", config=Config(retries={"max_attempts": 9}))


def save(key, data):
    s3.put_object(Bucket="reports", Key=key, Body=data, ContentType="text/csv")


def drop(bucket, key):
    tuned.delete_object(Bucket=bucket, Key=key)
    tuned.delete_object(Bucket=bucket, Key=key + ".bak")
"""


def test_fix_records_the_profiles_it_inferred_and_keeps_the_users(project: Path) -> None:
    (project / "app.py").write_text(CONFIGURED, encoding="utf-8")
    (project / "pyproject.toml").write_text(
        '[tool.cloudshift.storage.profiles.s3]\nprovider = "local"  # ours, for tests\n', encoding="utf-8"
    )
    done = cloudshift("fix", "--unsafe-fixes", ".", cwd=project)
    assert done.returncode == 0, done.stderr
    fixed = (project / "app.py").read_text(encoding="utf-8")
    assert 'create_storage_client("reports", storage_profile="s3-s3-url-eu-west-1").put(' in fixed
    assert 'create_storage_client(bucket, storage_profile="s3").delete(key)' in fixed
    assert (project / "pyproject.toml").read_text() == (
        '[tool.cloudshift.storage.profiles.s3]\nprovider = "local"  # ours, for tests\n\n'
        "[tool.cloudshift.storage.profiles.s3-s3-url-eu-west-1]\n"
        'provider = "s3"\nendpoint = "env:S3_URL"\nregion = "eu-west-1"\ncontent_type = "binary/octet-stream"\n'
    )
    assert not (project / "cloudshift-storage.toml").exists()
    assert "kept as they are: s3" in done.stderr
    assert "rely on" not in done.stderr  # the user's s3 profile is another provider's: moved on purpose
    assert "Unsafe fixes applied (--unsafe-fixes), by the reason behaviour may differ:\n" in done.stderr
    accepted = (
        "  [unsafe] the SDK object is created with config; the shim takes these from its configuration instead (2)"
    )
    assert done.stderr.rstrip().endswith(accepted)


def test_fix_names_settings_a_kept_profile_of_the_same_provider_leaves_out(project: Path) -> None:
    """A profile file from before S3's default content type was recorded: the fix says what to add."""
    (project / "cloudshift-storage.toml").write_text('[profiles.s3]\nprovider = "s3"\n', encoding="utf-8")
    (project / "app.py").write_text(
        'import boto3\n\ns3 = boto3.client("s3")\n\n\ndef save(key, data):\n'
        '    s3.put_object(Bucket="reports", Key=key, Body=data)\n',
        encoding="utf-8",
    )
    done = cloudshift("fix", ".", cwd=project)
    assert done.returncode == 0, done.stderr
    assert 'storage_profile="s3").put(key, data)' in (project / "app.py").read_text(encoding="utf-8")
    assert (project / "cloudshift-storage.toml").read_text() == '[profiles.s3]\nprovider = "s3"\n'
    assert (
        "They leave out settings the fixed calls rely on to behave as before; add them:\n"
        '  s3: content_type = "binary/octet-stream"\n' in done.stderr
    )


def test_fix_summary_groups_what_is_left_by_reason(project: Path) -> None:
    (project / "app.py").write_text(CONFIGURED, encoding="utf-8")
    done = cloudshift("fix", "--diff", ".", cwd=project)
    assert done.returncode == 1
    assert not (project / "cloudshift-storage.toml").exists()
    summary = done.stderr[done.stderr.index("Would fix") :]
    assert summary.splitlines()[:6] == [
        "Would fix 1 finding in 1 file.",
        "2 left for a human (2 unsafe, 0 manual):",
        "app.py: would fix 1, left 2",
        "  [unsafe] the SDK object is created with config; the shim takes these from its configuration instead",
        "    app.py:15:5: aws-s3-delete-object",
        "    app.py:16:5: aws-s3-delete-object",
    ]
    assert "Would add storage profiles to cloudshift-storage.toml" in summary
    assert "  [profiles.s3-s3-url-eu-west-1] provider = s3, endpoint = env:S3_URL, region = eu-west-1" in summary


def test_fix_keeps_crlf_bom_and_mode(project: Path) -> None:
    path = project / "app.py"
    path.write_bytes(b"\xef\xbb\xbf" + S3_CODE.replace("\n", "\r\n").encode("utf-8"))
    os.chmod(path, 0o750)
    assert cloudshift("fix", "app.py", cwd=project).returncode == 0
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    assert oct(path.stat().st_mode & 0o777) == oct(0o750)


def test_fix_diff_writes_nothing(project: Path) -> None:
    done = cloudshift("fix", "--diff", ".", cwd=project)
    assert done.returncode == 1
    assert "+from storage_shim import create_storage_client" in done.stdout
    assert (project / "app.py").read_text(encoding="utf-8") == S3_CODE


def test_fix_stdin_mode_writes_fixed_source_to_stdout(project: Path) -> None:
    done = cloudshift("fix", "--stdin-filename", "app.py", "-", cwd=project, stdin=S3_CODE)
    assert done.returncode == 0, done.stderr
    assert (
        'create_storage_client("reports", storage_profile="s3").put(key, data, content_type="text/csv")' in done.stdout
    )
    assert (project / "app.py").read_text(encoding="utf-8") == S3_CODE


def test_rules_list_works_from_an_installed_wheel(tmp_path: Path) -> None:
    """rules/ ships inside the wheel: list the rules from another folder, with only the wheel installed."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = wheels.glob("cloudshift-*.whl")
    assert any(
        name.startswith("cloudshift/bundled_rules/") and name.endswith(".yaml")
        for name in zipfile.ZipFile(wheel).namelist()
    )
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path.insert(0, {str(target)!r}); from cloudshift.cli import main; main()",
            "rules",
            "list",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "aws-s3-put-object" in done.stdout
    assert str(REPO) not in done.stdout


def test_scan_cache_gives_the_same_report_and_follows_edits(project: Path) -> None:
    first = cloudshift("scan", "--format", "json", ".", cwd=project)
    cache_files = list((project / ".cloudshift_cache").rglob("*.json"))
    assert len(cache_files) == 1, "one candidate file, one cache entry"
    assert (project / ".cloudshift_cache" / ".gitignore").read_text(encoding="utf-8").strip().endswith("*")
    second = cloudshift("scan", "--format", "json", ".", cwd=project)
    assert json.loads(second.stdout)["findings"] == json.loads(first.stdout)["findings"]
    cache_files[0].write_text("{not json", encoding="utf-8")  # a damaged entry is ignored, not trusted
    assert (
        json.loads(cloudshift("scan", "--format", "json", ".", cwd=project).stdout)["findings"]
        == json.loads(first.stdout)["findings"]
    )
    (project / "app.py").write_text(S3_CODE + "    s3.delete_object(Bucket='reports', Key=key)\n", encoding="utf-8")
    edited = json.loads(cloudshift("scan", "--format", "json", ".", cwd=project).stdout)
    assert [f["rule"] for f in edited["findings"]] == ["aws-s3-put-object", "aws-s3-delete-object"]


def test_no_cache_leaves_no_cache_folder(project: Path) -> None:
    assert cloudshift("scan", "--no-cache", ".", cwd=project).returncode == 1
    assert not (project / ".cloudshift_cache").exists()


def test_nesting_deeper_than_python_allows_is_a_syntax_error_not_a_crash(project: Path) -> None:
    """LibCST's native parser crashes on thousands of nested brackets; CPython refuses more than 200."""
    (project / "deep.py").write_text(S3_CODE + "x = " + "(" * 3000 + "1" + ")" * 3000 + "\n", encoding="utf-8")
    done = cloudshift("scan", "--format", "json", "deep.py", cwd=project)
    document = json.loads(done.stdout)
    assert "too many nested parentheses" in document["errors"][0]["message"]
    assert [(f["line"], f["rule"], f["resolution"]) for f in document["findings"]] == [
        (7, "aws-s3-put-object", "partial")
    ]
    assert done.returncode == 1


def test_a_site_inside_an_f_string_is_left_and_the_rest_of_the_file_fixed(project: Path) -> None:
    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "gcs-blob-download-as-text" / "inside-f-string"
    (project / "app.py").write_text((fixture / "input.py").read_text(encoding="utf-8"), encoding="utf-8")
    done = cloudshift("fix", "--unsafe-fixes", ".", cwd=project)
    assert done.returncode == 1
    assert (project / "app.py").read_text(encoding="utf-8") == (fixture / "expected.py").read_text(encoding="utf-8")
    assert "error" not in done.stderr
    assert "app.py: fixed 1, left 1\n  [manual] the call is inside an f-string" in done.stderr
