"""The gate's composition: baseline, then changed lines, in a real git repository."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from cloudshift.config import load_settings
from cloudshift.engine.suppress import UnusedSuppression
from cloudshift.gate.baseline import BaselineError, write_baseline
from cloudshift.gate.compare import only_new, save_baseline, unused_suppressions
from cloudshift.gate.gitdiff import GitError
from cloudshift.gate.report import Report

from .helpers import commit, git, make_finding, write

GET = 's3.get_object(Bucket="b", Key="k")'
PUT = 's3.put_object(Bucket="b", Key="k", Body=b"")'


@pytest.fixture
def repo(make_repo: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    """main has app.py with one call on line 2; `feature` adds a call on line 4."""
    root = make_repo("project")
    write(root, "app.py", f"import boto3\n{GET}\n")
    write(root, "lib.py", f"{PUT}\n")
    commit(root, "base")
    git(root, "checkout", "-q", "-b", "feature")
    write(root, "app.py", f"import boto3\n{GET}\n\n{PUT}\n")
    commit(root, "feature adds a call")
    monkeypatch.chdir(root)
    return root


def scan_report() -> Report:
    findings = [
        make_finding("app.py", 2, 1, "aws-s3-get-object", GET),
        make_finding("app.py", 4, 1, "aws-s3-put-object", PUT),
        make_finding("lib.py", 1, 1, "aws-s3-put-object", PUT),
    ]
    return Report(findings=findings, files_scanned=["app.py", "lib.py"])


def test_without_options_nothing_changes(repo: Path) -> None:
    report = scan_report()
    assert only_new(report, load_settings(repo)) == report


def test_baseline_keeps_only_new_findings(repo: Path) -> None:
    write_baseline(repo / "baseline.json", [scan_report().findings[0]])
    report = only_new(scan_report(), load_settings(repo), baseline_file=Path("baseline.json"))
    assert [(f.path, f.line) for f in report.findings] == [("app.py", 4), ("lib.py", 1)]
    assert report.baseline is not None
    assert (report.baseline.existing, report.baseline.fixed) == (1, ())


def test_diff_base_keeps_findings_on_changed_lines(repo: Path) -> None:
    report = only_new(scan_report(), load_settings(repo), diff_base="main")
    assert [(f.path, f.line) for f in report.findings] == [("app.py", 4)]
    assert report.diff_base == "main"


def test_baseline_and_diff_base_combine(repo: Path) -> None:
    write_baseline(repo / "baseline.json", scan_report().findings[1:2])  # line 4 accepted
    report = only_new(scan_report(), load_settings(repo), baseline_file=Path("baseline.json"), diff_base="main")
    assert report.findings == []
    assert report.baseline is not None and report.baseline.existing == 1


def test_deselected_rules_are_not_called_fixed(repo: Path) -> None:
    write_baseline(repo / "baseline.json", scan_report().findings)
    write(repo, "pyproject.toml", '[tool.cloudshift.per-file-ignores]\n"lib.py" = ["aws-s3"]\n')
    settings = load_settings(repo).with_overrides(select=("aws-s3-get-object",))
    only_get = Report(findings=scan_report().findings[:1], files_scanned=["app.py", "lib.py"])
    report = only_new(only_get, settings, baseline_file=Path("baseline.json"))
    assert report.findings == []
    assert report.baseline is not None and report.baseline.fixed == ()


def test_errors_are_raised_not_swallowed(repo: Path) -> None:
    with pytest.raises(BaselineError):
        only_new(scan_report(), load_settings(repo), baseline_file=Path("missing.json"))
    with pytest.raises(GitError, match="unknown git revision 'nope'"):
        only_new(scan_report(), load_settings(repo), diff_base="nope")


def test_save_then_update_the_baseline(repo: Path) -> None:
    output = repo / ".cloudshift-baseline.json"
    settings = load_settings(repo)
    assert save_baseline(scan_report(), settings, output) == f"Wrote 3 findings to {output}."
    fixed_one_added_one = Report(
        findings=[
            make_finding("app.py", 2, 1, "aws-s3-get-object", GET),
            make_finding("app.py", 6, 1, "aws-s3-get-object", GET),  # a second GET: new
        ],
        files_scanned=["app.py"],
    )
    message = save_baseline(fixed_one_added_one, settings, output, update=True)
    assert message == (
        f"Updated {output}: 1 fixed finding dropped, 2 findings kept. 1 new finding not added: "
        f"fix them, or accept them with `cloudshift baseline -o {output}`."
    )
    entries = json.loads(output.read_text())["findings"]
    assert [(e["path"], e["line"]) for e in entries] == [("app.py", 2), ("lib.py", 1)]


def test_unused_suppressions_of_one_file() -> None:
    source = f"{GET}  # cloudshift: ignore\nx = 1  # cloudshift: ignore[aws]\n"
    used = make_finding("app.py", 1, 1, "aws-s3-get-object", GET)
    assert unused_suppressions("app.py", source, [used]) == [
        ("app.py", UnusedSuppression(2, "cloudshift: ignore[aws]"))
    ]
    assert unused_suppressions("app.py", source, []) == [
        ("app.py", UnusedSuppression(1, "cloudshift: ignore")),
        ("app.py", UnusedSuppression(2, "cloudshift: ignore[aws]")),
    ]
    assert unused_suppressions("app.py", None, []) == []
    assert unused_suppressions("app.py", "x = 1\n", []) == []
