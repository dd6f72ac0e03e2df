"""`cloudshift fix` on a whole, realistic project (tests/proof/project/), checked end to end.

The project is copied to a temporary folder and fixed by the real command in a subprocess.
The result must match the hand-reviewed golden files (tests/proof/project_expected/ holds
every file the fix changes; all others must stay byte for byte), parse, import the shim
once where it is used and no SDK name that is no longer used, be a fixed point, and still
do what it did: its entry point runs against moto and the GCS emulator before and after,
with equal output and equal objects left behind.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.proof.runner import side_environment
from tests.proof.stores import Snapshot, StoreFor, prepare, snapshot, snapshot_differences

HERE = Path(__file__).resolve().parent
PROJECT = HERE / "project"
EXPECTED = HERE / "project_expected"
REPO_ROOT = HERE.parents[1]
SDK_MODULES = ("boto3", "botocore", "google.cloud", "azure.storage", "oci")
SHIM_IMPORT = "create_storage_client"
# The entry point's workflows, each with the emulator it talks to and the buckets it uses.
WORKFLOWS = {
    "s3": ("catalog-reports", "catalog-artifacts"),
    "gcs": ("catalog-exports",),
}
# What the fix must leave, reviewed like the golden files: the response dict is used, and
# the copy source is a variable.
CACHES = {"__pycache__", ".cloudshift_cache"}
PROFILE_FILE = "cloudshift-storage.toml"  # the storage profiles the fixed calls name
LEFT_FOR_A_HUMAN = [
    "catalog/backups.py:10:5: aws-s3-copy-object [manual]",
    "catalog/reports.py:25:20: aws-s3-get-object [manual]",
]


@dataclass(frozen=True)
class FixedProject:
    original: Path
    fixed: Path
    output: subprocess.CompletedProcess[str]


def run_cloudshift(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it, from the project's root."""
    return subprocess.run(
        [sys.executable, "-m", "cloudshift", *args],
        cwd=cwd,
        env=tool_environment(),
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def tool_environment() -> dict[str, str]:
    """The tool needs no cloud settings: only the repository on the import path."""
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONDONTWRITEBYTECODE": "1"}


def project_files(root: Path) -> dict[str, bytes]:
    """The project's own files (not Python's or cloudshift's caches), by relative path."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not set(path.relative_to(root).parts) & CACHES
    }


@pytest.fixture(scope="module")
def fixed_project(tmp_path_factory: pytest.TempPathFactory) -> FixedProject:
    base = tmp_path_factory.mktemp("project")
    original, fixed = base / "original", base / "fixed"
    shutil.copytree(PROJECT, original, ignore=shutil.ignore_patterns(*CACHES))
    shutil.copytree(PROJECT, fixed, ignore=shutil.ignore_patterns(*CACHES))
    output = run_cloudshift("fix", "--unsafe-fixes", ".", cwd=fixed)
    return FixedProject(original, fixed, output)


def test_fix_reports_what_is_left_for_a_human(fixed_project: FixedProject) -> None:
    output = fixed_project.output
    summary = output.stdout + output.stderr
    assert output.returncode == 1, summary
    assert left_findings(summary) == LEFT_FOR_A_HUMAN, summary


def left_findings(summary: str) -> list[str]:
    """`path:line:col: rule [safety]` for each finding the summary lists under a `  [safety] reason` heading."""
    found, safety = [], ""
    for line in summary.splitlines():
        if re.match(r"  \[(unsafe|manual)\] ", line):
            safety = line.split("]")[0].strip() + "]"
        elif line.startswith("    ") and safety:
            found.append(f"{line.strip()} {safety}")
        else:
            safety = ""
    return found


def test_fix_writes_the_reviewed_golden_files(fixed_project: FixedProject) -> None:
    before, after = project_files(PROJECT), project_files(fixed_project.fixed)
    golden = project_files(EXPECTED)
    assert sorted(set(after) - set(before)) == [PROFILE_FILE], "the fix added or removed other files than its profiles"
    changed = sorted(name for name in after if after[name] != before.get(name))
    assert changed == sorted(golden), "the fix changed other files than the golden ones"
    for name, text in golden.items():
        assert after[name].decode() == text.decode(), f"{name} differs from project_expected/"


def test_fix_leaves_files_without_fixable_findings_byte_for_byte(
    fixed_project: FixedProject,
) -> None:
    scan = run_cloudshift("scan", "--no-cache", "--format", "json", ".", cwd=fixed_project.original)
    with_findings = {finding["path"] for finding in json.loads(scan.stdout)["findings"]}
    before, after = project_files(PROJECT), project_files(fixed_project.fixed)
    changed = {name for name in after if name != PROFILE_FILE and after[name] != before[name]}
    assert changed <= with_findings


def test_every_fixed_file_parses(fixed_project: FixedProject) -> None:
    for path in fixed_project.fixed.rglob("*.py"):
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_shim_is_imported_once_exactly_where_it_is_used(fixed_project: FixedProject) -> None:
    for path in fixed_project.fixed.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports = [
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "storage_shim"
            for alias in node.names
        ]
        used = SHIM_IMPORT in names_read(tree)
        assert imports == ([SHIM_IMPORT] if used else []), path.name


def test_no_sdk_import_is_left_unused(fixed_project: FixedProject) -> None:
    for path in fixed_project.fixed.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        unused = sorted(set(sdk_imports(tree)) - names_read(tree))
        assert not unused, f"{path.name}: unused SDK import(s) {', '.join(unused)}"


def test_a_second_fix_changes_nothing(fixed_project: FixedProject, tmp_path: Path) -> None:
    again = tmp_path / "again"
    shutil.copytree(fixed_project.fixed, again)
    run_cloudshift("fix", "--unsafe-fixes", ".", cwd=again)
    assert project_files(again) == project_files(fixed_project.fixed)


@pytest.mark.parametrize("workflow", sorted(WORKFLOWS))
def test_the_entry_point_behaves_the_same_after_the_fix(
    fixed_project: FixedProject, store_for: StoreFor, workflow: str
) -> None:
    before, objects_before = run_entry_point(fixed_project.original, workflow, store_for)
    after, objects_after = run_entry_point(fixed_project.fixed, workflow, store_for)
    assert after == before
    differences = snapshot_differences(objects_before, objects_after, ())
    assert not differences, "objects differ (before vs after the fix):\n" + "\n".join(differences)


def run_entry_point(root: Path, workflow: str, store_for: StoreFor) -> tuple[object, Snapshot]:
    """`python -m catalog <workflow>` from empty buckets: its JSON output and what it stored."""
    emulator, store = store_for(workflow)
    buckets = WORKFLOWS[workflow]
    prepare(store, buckets, {})
    completed = subprocess.run(
        [sys.executable, "-m", "catalog", workflow],
        cwd=root,
        env=side_environment(emulator),
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, f"{root.name}: {completed.stderr}"
    return json.loads(completed.stdout), snapshot(store, buckets)


def names_read(tree: ast.AST) -> set[str]:
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def sdk_imports(tree: ast.AST) -> list[str]:
    """The names a module binds by importing an SDK (`import boto3 as aws` binds `aws`)."""
    bound = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bound += [
                alias.asname or alias.name.partition(".")[0]
                for alias in node.names
                if alias.name.startswith(SDK_MODULES)
            ]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(SDK_MODULES):
            bound += [alias.asname or alias.name for alias in node.names]
    return bound
