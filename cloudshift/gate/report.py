"""The scan's results in the formats people and CI systems read: text, json, sarif, github, junit.

Every renderer takes the same `Report` and returns a string; the CLI prints it or writes it
to `--output`. Findings are rendered sorted by path and position, so output is stable.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

from cloudshift.engine.suppress import UnusedSuppression
from cloudshift.gate.baseline import BaselineEntry, fingerprints_for, relative_path
from cloudshift.model import FileError, Finding

FORMATS = ("text", "json", "sarif", "github", "junit")
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "cloudshiftFingerprint/v1"
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class RuleDoc(NamedTuple):
    """What SARIF consumers show for a rule; a plain (short, help) tuple converts to this."""

    short: str
    help: str
    uri: str = ""


@dataclass(frozen=True)
class BaselineOutcome:
    """How the findings compared with the baseline file."""

    file: str
    existing: int  # findings already in the baseline, not shown
    fixed: Sequence[BaselineEntry] = ()  # entries no longer found


@dataclass(frozen=True)
class Report:
    """One run's results: what failed the gate and what explains the count."""

    findings: Sequence[Finding]
    errors: Sequence[FileError] = ()
    files_scanned: Sequence[str] = ()  # paths as shown, for counts and junit test cases
    suppressed: int = 0
    unused_ignores: Sequence[tuple[str, UnusedSuppression]] = ()  # (path, suppression)
    baseline: BaselineOutcome | None = None
    diff_base: str | None = None

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=lambda f: (f.path, f.span, f.rule))


def exit_code(report: Report, *, exit_zero: bool = False, fail_on_unused: bool = False) -> int:
    """2 if a file could not be analysed, 1 if the gate fails, else 0.

    `exit_zero` turns 1 into 0 (report-only runs) but never hides 2: a file the gate could
    not read is a broken gate, not a finding.
    """
    if any(not error.syntax for error in report.errors):  # a file that does not parse is still scanned
        return 2
    failed = bool(report.findings) or (fail_on_unused and bool(report.unused_ignores))
    return 1 if failed and not exit_zero else 0


def render(
    format_name: str,
    report: Report,
    *,
    rule_docs: Mapping[str, tuple[str, ...]] | None = None,
    root: Path | None = None,
) -> str:
    """Render in one of FORMATS; `root` is what SARIF and GitHub paths are relative to."""
    renderers: dict[str, Callable[[], str]] = {
        "text": lambda: render_text(report),
        "json": lambda: render_json(report),
        "sarif": lambda: render_sarif(report, rule_docs or {}, root or Path.cwd()),
        "github": lambda: render_github(report, root or Path.cwd()),
        "junit": lambda: render_junit(report),
    }
    if format_name not in renderers:
        raise ValueError(f"unknown format {format_name!r}; choose one of {', '.join(FORMATS)}")
    return renderers[format_name]()


# --- text ----------------------------------------------------------------------------------


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _location(path: str, line: int, column: int) -> str:
    if not line:
        return path
    return f"{path}:{line}:{column}" if column else f"{path}:{line}"


def summary_line(report: Report) -> str:
    """One line saying what failed and why the count is what it is."""
    files_with_findings = len({finding.path for finding in report.findings})
    new = "new " if report.baseline is not None or report.diff_base else ""
    if report.findings:
        found = plural(len(report.findings), new + "finding")
        head = f"Found {found} in {plural(files_with_findings, 'file')}"
    else:
        head = f"No {new}findings"
    notes = [f"{plural(len(report.files_scanned), 'file')} scanned"]
    if report.baseline is not None:
        notes.append(f"{report.baseline.existing} already in the baseline")
    if report.diff_base:
        notes.append(f"only lines changed since the merge base with {report.diff_base}")
    if report.suppressed:
        notes.append(f"{report.suppressed} suppressed")
    if report.errors:
        notes.append(f"{plural(len(report.errors), 'file')} could not be analysed")
    return f"{head} ({', '.join(notes)})."


def fixed_line(report: Report) -> str:
    """The hint that lets the baseline shrink, or empty when nothing was fixed."""
    if report.baseline is None or not report.baseline.fixed:
        return ""
    fixed = len(report.baseline.fixed)
    noun = "baseline entry" if fixed == 1 else "baseline entries"
    return (
        f"{fixed} {noun} fixed since the baseline was written: run "
        f"`cloudshift baseline --update -o {report.baseline.file}` to drop them."
    )


def _text_line(finding: Finding) -> str:
    return f"{_location(finding.path, finding.line, finding.column)}: {finding.rule} {finding.message}"


def render_text(report: Report) -> str:
    lines = [_text_line(finding) for finding in report.sorted_findings()]
    lines += [f"{_location(error.path, error.line, error.column)}: error: {error.message}" for error in report.errors]
    lines += [
        f"{_location(path, item.line, 0)}: unused suppression `# {item.text}`" for path, item in report.unused_ignores
    ]
    lines += [line for line in (summary_line(report), fixed_line(report)) if line]
    return "\n".join(lines) + "\n"


# --- json ----------------------------------------------------------------------------------


def _error_json(error: FileError) -> dict[str, object]:
    return {
        "path": error.path,
        "line": error.line,
        "column": error.column,
        "message": error.message,
    }


def summary_json(report: Report) -> dict[str, object]:
    findings = report.findings
    summary: dict[str, object] = {
        "files": len(report.files_scanned),
        "findings": len(findings),
        "errors": len(report.errors),
        "suppressed": report.suppressed,
        "unused_ignores": len(report.unused_ignores),
        "by_rule": dict(sorted(Counter(f.rule for f in findings).items())),
        "by_provider": dict(sorted(Counter(f.provider for f in findings).items())),
        "by_fix": dict(sorted(Counter(f.fix.value for f in findings).items())),
    }
    if report.baseline is not None:
        summary["baseline"] = {
            "file": report.baseline.file,
            "existing": report.baseline.existing,
            "fixed": [entry.to_json() for entry in report.baseline.fixed],
        }
    if report.diff_base:
        summary["diff_base"] = report.diff_base
    return summary


def render_json(report: Report) -> str:
    document = {
        "findings": [finding.to_json() for finding in report.sorted_findings()],
        "errors": [_error_json(error) for error in report.errors],
        "unused_ignores": [
            {"path": path, "line": item.line, "text": item.text} for path, item in report.unused_ignores
        ],
        "summary": summary_json(report),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --- sarif ---------------------------------------------------------------------------------


def tool_version() -> str:
    """The installed cloudshift's version, for the reports that name the tool."""
    try:
        return metadata.version("cloudshift")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _sarif_rules(findings: Sequence[Finding], rule_docs: Mapping[str, tuple[str, ...]]) -> list[dict[str, object]]:
    """Every documented rule plus any rule a finding names that has no documentation."""
    docs = {rule: RuleDoc(*doc) for rule, doc in rule_docs.items()}
    for finding in findings:
        docs.setdefault(finding.rule, RuleDoc(finding.message, finding.message))
    return [_sarif_rule(rule, docs[rule]) for rule in sorted(docs)]


def _sarif_rule(rule: str, doc: RuleDoc) -> dict[str, object]:
    descriptor: dict[str, object] = {
        "id": rule,
        "shortDescription": {"text": doc.short},
        "fullDescription": {"text": doc.help},
        "help": {"text": doc.help, "markdown": doc.help},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["cloudshift", "cloud-storage-sdk"]},
    }
    if doc.uri:
        descriptor["helpUri"] = doc.uri
    return descriptor


def _artifact(path: str, root: Path) -> dict[str, object]:
    return {"uri": quote(relative_path(path, root)), "uriBaseId": "%SRCROOT%"}


def _sarif_result(finding: Finding, rule_index: int, fingerprint: str, root: Path) -> dict[str, object]:
    span = finding.span
    return {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": "error",
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(finding.path, root),
                    "region": {
                        "startLine": span.line,
                        "startColumn": span.column,
                        "endLine": span.end_line,
                        "endColumn": span.end_column,
                    },
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        "properties": {
            "provider": finding.provider,
            "fix": finding.fix.value,
            "reason": finding.reason,
        },
    }


def _sarif_notification(error: FileError, root: Path) -> dict[str, object]:
    notification: dict[str, object] = {"level": "error", "message": {"text": error.message}}
    location: dict[str, object] = {"artifactLocation": _artifact(error.path, root)}
    if error.line:
        location["region"] = {"startLine": error.line, "startColumn": max(error.column, 1)}
    notification["locations"] = [{"physicalLocation": location}]
    return notification


def render_sarif(report: Report, rule_docs: Mapping[str, tuple[str, ...]], root: Path) -> str:
    """SARIF 2.1.0 as GitHub code scanning takes it; URIs relative to `root` (the checkout)."""
    findings = report.sorted_findings()
    rules = _sarif_rules(findings, rule_docs)
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    fingerprints = fingerprints_for(findings, root.resolve())
    version = tool_version()
    run = {
        "tool": {
            "driver": {
                "name": "cloudshift",
                "version": version,
                "semanticVersion": version,
                "rules": rules,
            }
        },
        "columnKind": "unicodeCodePoints",
        "invocations": [
            {
                "executionSuccessful": not report.errors,
                "toolExecutionNotifications": [_sarif_notification(error, root) for error in report.errors],
            }
        ],
        "results": [_sarif_result(f, index[f.rule], fingerprints[f], root) for f in findings],
    }
    document = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --- github --------------------------------------------------------------------------------


def escape_data(text: str) -> str:
    """A workflow command's message: %, CR and LF are encoded so one annotation is one line."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: also `:` and `,`, which delimit properties."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _workflow_command(command: str, properties: Mapping[str, object], message: str) -> str:
    rendered = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{command} {rendered}::{escape_data(message)}" if rendered else f"::{command}::{escape_data(message)}"


def render_github(report: Report, root: Path) -> str:
    """GitHub Actions annotations, one per finding, with file paths relative to `root`."""
    lines = []
    for finding in report.sorted_findings():
        span = finding.span
        properties = {
            "file": relative_path(finding.path, root),
            "line": span.line,
            "col": span.column,
            "endLine": span.end_line,
            "endColumn": span.end_column,
            "title": finding.rule,
        }
        lines.append(_workflow_command("error", properties, finding.message))
    for error in report.errors:
        properties = {
            "file": relative_path(error.path, root),
            "line": error.line or 1,
            "title": "cloudshift",
        }
        lines.append(_workflow_command("error", properties, error.message))
    for path, item in report.unused_ignores:
        properties = {"file": relative_path(path, root), "line": item.line, "title": "cloudshift"}
        lines.append(_workflow_command("warning", properties, f"unused suppression `# {item.text}`"))
    if fixed_line(report):
        lines.append(_workflow_command("notice", {"title": "cloudshift baseline"}, fixed_line(report)))
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


# --- junit ---------------------------------------------------------------------------------


def _xml_safe(text: str) -> str:
    return _XML_INVALID.sub("\ufffd", text)


def _testcase(suite: ElementTree.Element, path: str, name: str, line: int = 0) -> ElementTree.Element:
    attributes = {"classname": _xml_safe(path), "name": _xml_safe(name), "file": _xml_safe(path)}
    if line:
        attributes["line"] = str(line)
    return ElementTree.SubElement(suite, "testcase", attributes)


def render_junit(report: Report) -> str:
    """JUnit XML: a failing test case per finding, an erroring one per file that could not be
    analysed, and a passing one per other scanned file (or one for the whole scan)."""
    suites = ElementTree.Element("testsuites", {"name": "cloudshift"})
    suite = ElementTree.SubElement(suites, "testsuite", {"name": "cloudshift scan"})
    for finding in report.sorted_findings():
        case = _testcase(suite, finding.path, f"{finding.rule} at {finding.line}:{finding.column}", finding.line)
        failure = ElementTree.SubElement(case, "failure", {"message": _xml_safe(finding.message), "type": finding.rule})
        reason = f": {finding.reason}" if finding.reason else ""
        failure.text = _xml_safe(f"{_text_line(finding)}\nfix: {finding.fix.value}{reason}")
    for error in report.errors:
        case = _testcase(suite, error.path, "analysis", error.line)
        element = ElementTree.SubElement(case, "error", {"message": _xml_safe(error.message)})
        element.text = _xml_safe(error.message)
    failing = {finding.path for finding in report.findings} | {error.path for error in report.errors}
    for path in sorted(set(report.files_scanned) - failing):
        _testcase(suite, path, "no direct SDK calls")
    if not len(suite):
        _testcase(suite, "cloudshift", "scan")
    counts = {
        "tests": str(len(suite)),
        "failures": str(len(report.findings)),
        "errors": str(len(report.errors)),
        "skipped": "0",
    }
    suite.attrib.update(counts)
    suites.attrib.update({key: counts[key] for key in ("tests", "failures", "errors")})
    ElementTree.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"
