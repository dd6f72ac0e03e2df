"""The CI gate end to end: the real `cloudshift` command in temporary git repositories.

These run the CLI contract of docs/ci.md: `scan --baseline/--diff-base/--report-unused-ignores/
--force-exclude`, `baseline [-o FILE] [--update]`, every `--format`, and the pre-commit hook.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from .helpers import commit, git, write

PROJECT = Path(__file__).resolve().parents[2]
SCHEMA = PROJECT / "tests" / "data" / "sarif-schema-2.1.0.json"

APP = """\
import boto3

s3 = boto3.client("s3")


def save(data: bytes) -> None:
    s3.put_object(Bucket="reports", Key="daily.json", Body=data)


def load() -> bytes:
    return s3.get_object(Bucket="reports", Key="daily.json")["Body"].read()
"""

# The same two calls after someone moved things around: new code above, functions swapped,
# the put_object call reformatted over several lines with single quotes.
APP_MOVED = '''\
"""Reports storage."""

import json

import boto3

s3 = boto3.client("s3")
RETRIES = 3


def load() -> bytes:
    return s3.get_object(Bucket="reports", Key="daily.json")["Body"].read()


def parse(raw: bytes) -> dict:
    return json.loads(raw)


def save(data: bytes) -> None:
    s3.put_object(
        Bucket='reports',
        Key='daily.json',
        Body=data,
    )
'''

NEW_CALLS = """

def remove() -> None:
    s3.delete_object(Bucket="reports", Key="daily.json")


def save_again(data: bytes) -> None:
    s3.put_object(Bucket="reports", Key="daily.json", Body=data)
"""


def cloudshift(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cloudshift", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
    )


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """The line number of the nth line of `text` that contains `needle`."""
    numbers = [number for number, line in enumerate(text.splitlines(), 1) if needle in line]
    return numbers[nth - 1]


def findings(result: subprocess.CompletedProcess[str]) -> list[tuple[str, int, str]]:
    document = json.loads(result.stdout)
    return [(f["path"], f["line"], f["rule"]) for f in document["findings"]]


@pytest.fixture
def project(make_repo: Callable[[str], Path]) -> Path:
    repo = make_repo("project")
    write(repo, "reports/store.py", APP)
    write(repo, "pyproject.toml", '[project]\nname = "reports"\n')
    commit(repo, "base")
    return repo


def test_scan_fails_on_direct_calls_and_passes_when_clean(project: Path) -> None:
    result = cloudshift(project, "scan", ".")
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[:2] == [
        "reports/store.py:7:5: aws-s3-put-object S3 put_object called directly through boto3",
        "reports/store.py:11:12: aws-s3-get-object S3 get_object called directly through boto3",
    ]
    write(project, "reports/store.py", "def save() -> None:\n    pass\n")
    clean = cloudshift(project, "scan", ".")
    assert clean.returncode == 0, clean.stdout + clean.stderr


def test_baseline_then_move_code_then_add_calls(project: Path) -> None:
    recorded = cloudshift(project, "baseline", ".")
    assert recorded.returncode == 0, recorded.stderr
    baseline = project / ".cloudshift-baseline.json"
    assert len(json.loads(baseline.read_text())["findings"]) == 2

    assert cloudshift(project, "scan", ".", "--baseline", str(baseline)).returncode == 0
    write(project, "reports/store.py", APP_MOVED)
    moved = cloudshift(project, "scan", ".", "--baseline", str(baseline), "--format", "json")
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert findings(moved) == []

    write(project, "reports/store.py", APP_MOVED + NEW_CALLS)
    added = cloudshift(project, "scan", ".", "--baseline", str(baseline), "--format", "json")
    assert added.returncode == 1, added.stderr
    text = APP_MOVED + NEW_CALLS
    assert findings(added) == [
        ("reports/store.py", line_of(text, "delete_object"), "aws-s3-delete-object"),
        ("reports/store.py", line_of(text, "put_object", 2), "aws-s3-put-object"),
    ]
    assert json.loads(added.stdout)["summary"]["baseline"]["existing"] == 2


def test_fixed_findings_shrink_the_baseline(project: Path) -> None:
    assert cloudshift(project, "baseline", ".", "-o", "ci/baseline.json").returncode == 0
    write(project, "reports/store.py", APP.split("\n\ndef load")[0] + "\n")
    result = cloudshift(project, "scan", ".", "--baseline", "ci/baseline.json")
    assert result.returncode == 0
    assert "1 baseline entry fixed" in result.stdout
    assert "cloudshift baseline --update -o ci/baseline.json" in result.stdout
    updated = cloudshift(project, "baseline", ".", "-o", "ci/baseline.json", "--update")
    assert updated.returncode == 0, updated.stderr
    entries = json.loads((project / "ci/baseline.json").read_text())["findings"]
    assert [entry["rule"] for entry in entries] == ["aws-s3-put-object"]


def test_configured_baseline_is_used_without_the_flag(project: Path) -> None:
    write(project, "pyproject.toml", '[tool.cloudshift]\nbaseline = "ci/cloudshift.json"\n')
    assert cloudshift(project, "baseline", ".").returncode == 0
    assert (project / "ci" / "cloudshift.json").is_file()
    assert cloudshift(project, "scan", ".").returncode == 0
    write(project, "reports/store.py", APP + NEW_CALLS)
    assert cloudshift(project, "scan", ".").returncode == 1


def test_malformed_baseline_is_an_error(project: Path) -> None:
    write(project, "baseline.json", '{"version": 7, "findings": []}')
    result = cloudshift(project, "scan", ".", "--baseline", "baseline.json")
    assert result.returncode == 2
    assert "baseline.json: baseline version 7 is not supported" in result.stderr


def branch_with_new_calls(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, "reports/store.py", APP + NEW_CALLS)
    write(
        repo,
        "reports/extra.py",
        'import boto3\n\nboto3.client("s3").head_object(Bucket="b", Key="k")\n',
    )
    commit(repo, "feature: more storage calls")


def test_diff_base_reports_only_lines_the_branch_changed(project: Path) -> None:
    branch_with_new_calls(project)
    result = cloudshift(project, "scan", ".", "--diff-base", "main", "--format", "json")
    assert result.returncode == 1, result.stderr
    text = APP + NEW_CALLS
    new_put = ("reports/store.py", line_of(text, "put_object", 2), "aws-s3-put-object")
    assert findings(result) == [
        ("reports/extra.py", 3, "aws-s3-head-object"),
        ("reports/store.py", line_of(text, "delete_object"), "aws-s3-delete-object"),
        new_put,
    ]
    only_store = cloudshift(
        project,
        "scan",
        "reports/store.py",
        "--diff-base",
        "main",
        "--select",
        "aws-s3-put-object",
        "--format",
        "json",
    )
    assert findings(only_store) == [new_put]


def test_diff_base_in_a_shallow_clone_says_what_to_fetch(project: Path, tmp_path: Path) -> None:
    branch_with_new_calls(project)
    clone = tmp_path / "ci-checkout"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature", project.as_uri(), str(clone))
    result = cloudshift(clone, "scan", ".", "--diff-base", "origin/main")
    assert result.returncode == 2
    assert "git fetch --deepen=100 origin main:refs/remotes/origin/main" in result.stderr
    git(clone, "fetch", "-q", "--deepen=100", "origin", "main:refs/remotes/origin/main")
    fetched = cloudshift(clone, "scan", ".", "--diff-base", "origin/main", "--format", "json")
    assert fetched.returncode == 1, fetched.stderr
    assert len(findings(fetched)) == 3


def test_suppressions_and_per_file_ignores(project: Path) -> None:
    write(
        project,
        "pyproject.toml",
        '[tool.cloudshift.per-file-ignores]\n"tests/*.py" = ["aws-s3"]\n',
    )
    write(project, "tests/test_store.py", APP)
    get_call = 'return s3.get_object(Bucket="reports", Key="daily.json")'
    suppressed = APP.replace("Body=data)", "Body=data)  # cloudshift: ignore[aws-s3-put-object]").replace(
        get_call, f'note = "# cloudshift: ignore"\n    {get_call}'
    )
    write(project, "reports/store.py", suppressed + "\nx = 1  # cloudshift: ignore\n")
    result = cloudshift(project, "scan", ".", "--format", "json")
    assert findings(result) == [("reports/store.py", 12, "aws-s3-get-object")]
    assert json.loads(result.stdout)["summary"]["suppressed"] == 1

    unused = cloudshift(project, "scan", ".", "--report-unused-ignores")
    assert unused.returncode == 1
    assert "reports/store.py:14: unused suppression `# cloudshift: ignore`" in unused.stdout


def test_config_errors_and_unknown_keys(project: Path) -> None:
    write(project, "pyproject.toml", '[tool.cloudshift]\nselect = ["aws"]\nrespect-gitignore = "no"\n')
    result = cloudshift(project, "scan", ".")
    assert result.returncode == 2
    assert f"{project / 'pyproject.toml'}:3: 'respect-gitignore' must be true or false" in result.stderr
    write(project, "pyproject.toml", '[tool.cloudshift]\nselect = ["aws"]\nexclued = ["x"]\n')
    warned = cloudshift(project, "scan", ".")
    assert warned.returncode == 1
    assert f"{project / 'pyproject.toml'}:3: unknown key 'exclued'" in warned.stderr


def test_the_shim_and_its_vendored_copies_are_not_scanned(project: Path) -> None:
    shim_backend = 'import boto3\n\nboto3.client("s3").put_object(Bucket="b", Key="k", Body=b"")\n'
    write(project, "vendor/storage_shim/__init__.py", "")
    write(project, "vendor/storage_shim/backends/s3.py", shim_backend)
    result = cloudshift(project, "scan", ".", "--format", "json")
    assert {path for path, _, _ in findings(result)} == {"reports/store.py"}
    named = cloudshift(project, "scan", "vendor/storage_shim/backends/s3.py")
    assert named.returncode == 1  # named explicitly: scanned, as ruff does
    forced = cloudshift(project, "scan", "--force-exclude", "vendor/storage_shim/backends/s3.py")
    assert forced.returncode == 0, forced.stdout + forced.stderr


def test_every_format_from_the_command_line(project: Path) -> None:
    sarif = cloudshift(project, "scan", ".", "--format", "sarif", "--output", "out/cloudshift.sarif")
    assert sarif.returncode == 1
    assert sarif.stdout == ""
    document = json.loads((project / "out/cloudshift.sarif").read_text())
    validator = jsonschema.Draft4Validator(json.loads(SCHEMA.read_text()))
    assert [error.message for error in validator.iter_errors(document)] == []
    run = document["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert rules["aws-s3-put-object"]["help"]["text"]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]] == [
        "reports/store.py",
        "reports/store.py",
    ]

    github = cloudshift(project, "scan", ".", "--format", "github").stdout.splitlines()
    assert github[0] == (
        "::error file=reports/store.py,line=7,col=5,endLine=7,endColumn=65,"
        "title=aws-s3-put-object::S3 put_object called directly through boto3"
    )

    junit = ElementTree.fromstring(cloudshift(project, "scan", ".", "--format", "junit").stdout)
    assert junit.find("testsuite").get("failures") == "2"

    text = cloudshift(project, "scan", ".", "--exit-zero")
    assert text.returncode == 0
    assert text.stdout.splitlines()[-1].startswith("Found 2 findings in 1 file")


def test_pre_commit_hook_with_try_repo(project: Path, tmp_path: Path) -> None:
    """The hook as pre-commit installs it: from this repository, in its own virtualenv."""
    write(project, "vendor/storage_shim/__init__.py", "")
    write(project, "vendor/storage_shim/backends/s3.py", APP)
    write(project, "reports/clean.py", "def add(a: int, b: int) -> int:\n    return a + b\n")
    git(project, "add", "-A")
    environment = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}

    def try_repo(*files: str) -> subprocess.CompletedProcess[str]:
        command = [
            sys.executable,
            "-m",
            "pre_commit",
            "try-repo",
            str(PROJECT),
            "cloudshift",
            "--files",
            *files,
        ]
        return subprocess.run(command, cwd=project, capture_output=True, text=True, env=environment)

    failing = try_repo("reports/store.py", "vendor/storage_shim/backends/s3.py", "reports/clean.py")
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "reports/store.py:7:5: aws-s3-put-object" in failing.stdout
    assert "vendor/storage_shim" not in failing.stdout.split("Failed")[-1]
    passing = try_repo("reports/clean.py", "vendor/storage_shim/backends/s3.py")
    assert passing.returncode == 0, passing.stdout + passing.stderr
