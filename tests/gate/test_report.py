"""Every output format, parsed back and checked; SARIF against the official 2.1.0 schema."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import jsonschema
import pytest

from cloudshift.engine.suppress import UnusedSuppression
from cloudshift.gate.baseline import BaselineEntry, fingerprints_for
from cloudshift.gate.report import (
    FINGERPRINT_KEY,
    FORMATS,
    BaselineOutcome,
    Report,
    escape_data,
    escape_property,
    exit_code,
    render,
)
from cloudshift.model import FileError, Safety

from .helpers import make_finding

SCHEMA = Path(__file__).parent.parent / "data" / "sarif-schema-2.1.0.json"
RULE_DOCS = {
    "aws-s3-put-object": ("S3 put_object call", "Use StorageClient.put_bytes instead."),
    "gcp-storage-upload-from-filename": (
        "GCS upload_from_filename call",
        "Use StorageClient.upload instead.",
        "https://example.invalid/rules/gcp",
    ),
}


@pytest.fixture
def report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Report:
    """Findings in two files (one with a space in its name), an error, an unused suppression."""
    monkeypatch.chdir(tmp_path)
    findings = [
        make_finding("src/jobs/sync job.py", 12, 9, "aws-s3-put-object"),
        make_finding(
            "src/app.py",
            3,
            5,
            "gcp-storage-upload-from-filename",
            'blob.upload_from_filename("a,b:c")',
            message="direct GCS call: 100% of uploads\nuse the shim, please",
            provider="gcp",
            fix=Safety.MANUAL,
            end_line=4,
            end_column=20,
        ),
        make_finding("src/app.py", 1, 1, "azure-blob-upload-blob", "bc.upload_blob(data)"),
    ]
    return Report(
        findings=findings,
        errors=[FileError("src/broken.py", "invalid syntax", 7, 3)],
        files_scanned=["src/app.py", "src/broken.py", "src/clean.py", "src/jobs/sync job.py"],
        suppressed=2,
        unused_ignores=[("src/clean.py", UnusedSuppression(4, "cloudshift: ignore[aws]"))],
        baseline=BaselineOutcome(
            ".cloudshift-baseline.json",
            existing=5,
            fixed=[BaselineEntry("f" * 32, "aws-s3-get-object", "src/old.py", 9, "s3.get_object()")],
        ),
    )


def test_text(report: Report) -> None:
    assert render("text", report).splitlines() == [
        "src/app.py:1:1: azure-blob-upload-blob direct S3 put_object call",
        "src/app.py:3:5: gcp-storage-upload-from-filename direct GCS call: 100% of uploads",
        "use the shim, please",
        "src/jobs/sync job.py:12:9: aws-s3-put-object direct S3 put_object call",
        "src/broken.py:7:3: error: invalid syntax",
        "src/clean.py:4: unused suppression `# cloudshift: ignore[aws]`",
        "Found 3 new findings in 2 files (4 files scanned, 5 already in the baseline, "
        "2 suppressed, 1 file could not be analysed).",
        "1 baseline entry fixed since the baseline was written: run "
        "`cloudshift baseline --update -o .cloudshift-baseline.json` to drop them.",
    ]


def test_text_when_clean() -> None:
    clean = Report(findings=[], files_scanned=["a.py", "b.py"], diff_base="origin/main")
    assert render("text", clean) == (
        "No new findings (2 files scanned, only lines changed since the merge base with origin/main).\n"
    )


def test_json(report: Report) -> None:
    document = json.loads(render("json", report))
    assert [f["path"] for f in document["findings"]] == [
        "src/app.py",
        "src/app.py",
        "src/jobs/sync job.py",
    ]
    assert document["findings"][1] == report.findings[1].to_json()
    assert document["errors"] == [{"path": "src/broken.py", "line": 7, "column": 3, "message": "invalid syntax"}]
    assert document["unused_ignores"] == [{"path": "src/clean.py", "line": 4, "text": "cloudshift: ignore[aws]"}]
    summary = document["summary"]
    assert summary["files"] == 4
    assert summary["findings"] == 3
    assert summary["errors"] == 1
    assert summary["suppressed"] == 2
    assert summary["by_provider"] == {"aws": 2, "gcp": 1}
    assert summary["by_fix"] == {"manual": 1, "safe": 2}
    assert summary["by_rule"]["aws-s3-put-object"] == 1
    assert summary["baseline"]["existing"] == 5
    assert summary["baseline"]["fixed"][0]["path"] == "src/old.py"


def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA.read_text())
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def test_sarif_is_valid_against_the_official_schema(report: Report, tmp_path: Path) -> None:
    document = json.loads(render("sarif", report, rule_docs=RULE_DOCS, root=tmp_path))
    errors = [error.message for error in sarif_validator().iter_errors(document)]
    assert errors == []


def test_the_schema_check_is_real(report: Report, tmp_path: Path) -> None:
    document = json.loads(render("sarif", report, rule_docs=RULE_DOCS, root=tmp_path))
    document["runs"][0]["results"][0]["level"] = "fatal"
    del document["runs"][0]["tool"]["driver"]["name"]
    messages = [error.message for error in sarif_validator().iter_errors(document)]
    assert any("'fatal' is not one of" in message for message in messages)
    assert any("'name' is a required property" in message for message in messages)


def test_sarif_has_what_github_code_scanning_reads(report: Report, tmp_path: Path) -> None:
    document = json.loads(render("sarif", report, rule_docs=RULE_DOCS, root=tmp_path))
    assert document["version"] == "2.1.0"
    (run,) = document["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "cloudshift"
    rules = driver["rules"]
    assert [rule["id"] for rule in rules] == [
        "aws-s3-put-object",
        "azure-blob-upload-blob",  # undocumented: described from its finding
        "gcp-storage-upload-from-filename",
    ]
    for rule in rules:
        assert rule["shortDescription"]["text"]
        assert rule["fullDescription"]["text"]
        assert rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] == "error"
    assert rules[0]["help"]["text"] == "Use StorageClient.put_bytes instead."
    assert rules[2]["helpUri"] == "https://example.invalid/rules/gcp"
    assert "helpUri" not in rules[0]

    fingerprints = fingerprints_for(report.findings, tmp_path)
    by_uri = {}
    for result in run["results"]:
        rule = rules[result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]
        assert result["level"] == "error"
        location = result["locations"][0]["physicalLocation"]
        by_uri[(location["artifactLocation"]["uri"], location["region"]["startLine"])] = result
        assert not location["artifactLocation"]["uri"].startswith(("/", "file:"))
    assert sorted(by_uri) == [("src/app.py", 1), ("src/app.py", 3), ("src/jobs/sync%20job.py", 12)]
    multi_line = by_uri[("src/app.py", 3)]
    assert multi_line["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 3,
        "startColumn": 5,
        "endLine": 4,
        "endColumn": 20,
    }
    assert multi_line["message"]["text"] == report.findings[1].message
    assert multi_line["partialFingerprints"] == {FINGERPRINT_KEY: fingerprints[report.findings[1]]}
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    (notification,) = invocation["toolExecutionNotifications"]
    assert notification["message"]["text"] == "invalid syntax"


def test_sarif_paths_are_relative_to_the_root_given(tmp_path: Path) -> None:
    """Run from a subfolder of the checkout: URIs still start at the checkout's top."""
    (tmp_path / "service").mkdir()
    finding = make_finding(str(tmp_path / "service" / "api.py"), 2, 1)
    document = json.loads(render("sarif", Report(findings=[finding]), root=tmp_path))
    location = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "service/api.py"
    assert sarif_validator().is_valid(document)


ANNOTATION = re.compile(r"^::(?P<command>error|warning|notice) (?P<properties>[^:]*)::(?P<message>.*)$")


def unescape(text: str) -> str:
    for encoded, character in (
        ("%0D", "\r"),
        ("%0A", "\n"),
        ("%3A", ":"),
        ("%2C", ","),
        ("%25", "%"),
    ):
        text = text.replace(encoded, character)
    return text


def parse_annotation(line: str) -> tuple[str, dict[str, str], str]:
    match = ANNOTATION.match(line)
    assert match, line
    properties = dict(item.split("=", 1) for item in match["properties"].split(","))
    return (
        match["command"],
        {key: unescape(value) for key, value in properties.items()},
        unescape(match["message"]),
    )


def test_github_annotations(report: Report, tmp_path: Path) -> None:
    lines = render("github", report, root=tmp_path).splitlines()
    annotations = [parse_annotation(line) for line in lines if line.startswith("::")]
    command, properties, message = annotations[1]
    assert command == "error"
    assert properties == {
        "file": "src/app.py",
        "line": "3",
        "col": "5",
        "endLine": "4",
        "endColumn": "20",
        "title": "gcp-storage-upload-from-filename",
    }
    assert message == "direct GCS call: 100% of uploads\nuse the shim, please"
    assert "\n" not in lines[1]
    assert annotations[2][1]["file"] == "src/jobs/sync job.py"
    assert annotations[3] == (
        "error",
        {"file": "src/broken.py", "line": "7", "title": "cloudshift"},
        "invalid syntax",
    )
    assert annotations[4][0] == "warning"
    assert annotations[5][0] == "notice"
    assert lines[-1].startswith("Found 3 new findings")


def test_github_escapes_properties(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert escape_data("50%\r\nok: a,b") == "50%25%0D%0Aok: a,b"
    assert escape_property("dir:a,b/100%.py") == "dir%3Aa%2Cb/100%25.py"
    finding = make_finding("weird:name,1.py", 1, 1, message="a::b")
    line = render("github", Report(findings=[finding]), root=tmp_path).splitlines()[0]
    assert line.startswith("::error file=weird%3Aname%2C1.py,line=1,")
    assert parse_annotation(line)[1]["file"] == "weird:name,1.py"
    assert parse_annotation(line)[2] == "a::b"


def test_junit(report: Report) -> None:
    text = render("junit", report)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ElementTree.fromstring(text)
    assert root.tag == "testsuites"
    (suite,) = root
    assert suite.tag == "testsuite"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("5", "3", "1")
    assert root.get("tests") == "5"
    cases = list(suite)
    failures = [case for case in cases if case.find("failure") is not None]
    assert [(case.get("classname"), case.get("line")) for case in failures] == [
        ("src/app.py", "1"),
        ("src/app.py", "3"),
        ("src/jobs/sync job.py", "12"),
    ]
    failure = failures[1].find("failure")
    assert failure.get("type") == "gcp-storage-upload-from-filename"
    assert failure.get("message") == report.findings[1].message
    assert "fix: manual" in failure.text
    errored = [case for case in cases if case.find("error") is not None]
    assert [case.get("classname") for case in errored] == ["src/broken.py"]
    passed = [case for case in cases if len(case) == 0]
    assert [case.get("classname") for case in passed] == ["src/clean.py"]


def test_junit_clean_run_has_one_passing_case() -> None:
    root = ElementTree.fromstring(render("junit", Report(findings=[])))
    (suite,) = root
    assert suite.get("tests") == "1"
    assert suite.get("failures") == "0"
    assert len(suite[0]) == 0


def test_junit_escapes_what_xml_cannot_hold() -> None:
    finding = make_finding(message='<call> & "quotes" \x1b[31m')
    failure = ElementTree.fromstring(render("junit", Report(findings=[finding])))[0][0][0]
    assert failure.get("message") == '<call> & "quotes" \ufffd[31m'


def test_every_format_renders(report: Report, tmp_path: Path) -> None:
    assert FORMATS == ("text", "json", "sarif", "github", "junit")
    for name in FORMATS:
        assert render(name, report, root=tmp_path).endswith("\n")
    with pytest.raises(ValueError, match="unknown format 'yaml'"):
        render("yaml", report)


def test_exit_codes(report: Report) -> None:
    clean = Report(findings=[])
    findings_only = Report(findings=report.findings)
    unused_only = Report(findings=[], unused_ignores=report.unused_ignores)
    assert exit_code(clean) == 0
    assert exit_code(findings_only) == 1
    assert exit_code(findings_only, exit_zero=True) == 0
    assert exit_code(report) == 2
    assert exit_code(report, exit_zero=True) == 2
    assert exit_code(unused_only) == 0
    assert exit_code(unused_only, fail_on_unused=True) == 1
