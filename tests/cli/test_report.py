"""`cloudshift report`: the migration report agrees with `scan` and is a self-contained document.

Every number is checked against `scan --format json` on the same tree (the report must come from
the same engine run), the HTML against its structure with html.parser, and, when Debian's
chromium is installed (scripts/test.sh installs it where it can), in a real headless browser.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "mlpipeline"
VOID = {"meta", "br", "hr", "img", "input", "link", "source", "wbr"}
SECTIONS = ["summary", "by-provider", "by-rule", "by-directory", "manual-work", "unsafe-fixes"]


def cloudshift(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cloudshift", *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def scan_json(project: Path) -> dict[str, Any]:
    result = cloudshift("scan", ".", "--format", "json", "--no-cache", cwd=project)
    assert result.returncode in (1, 2), result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


class Document(HTMLParser):
    """An HTML page as the tests read it: nesting mistakes, tag counts and, per section, its
    table rows and the tooltips of its chart bars."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.doctype = ""
        self.problems: list[str] = []
        self.stack: list[str] = []
        self.tags: Counter[str] = Counter()
        self.text: list[str] = []
        self.sections: dict[str, Section] = {}

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        if tag == "section":
            self.sections[dict(attrs).get("id") or ""] = Section()
        elif tag == "tr" and self.sections:
            self.current.rows.append([])
        elif tag in ("td", "th") and self.sections:
            self.current.rows[-1].append("")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if "section" not in self.stack:
            return
        if self.stack[-2:] == ["rect", "title"]:
            self.current.bars.append(data)
        elif "td" in self.stack or "th" in self.stack:
            self.current.rows[-1][-1] += data

    @property
    def current(self) -> Section:
        return list(self.sections.values())[-1]


@dataclass
class Section:
    rows: list[list[str]] = field(default_factory=list)  # table cells as text
    bars: list[str] = field(default_factory=list)  # `label: count safety` tooltips of chart bars

    def bar_totals(self) -> dict[str, int]:
        """The bars' counts summed per fix safety."""
        totals: Counter[str] = Counter()
        for bar in self.bars:
            count, safety = bar.rsplit(" ", 2)[-2:]
            totals[safety] += int(count)
        return dict(totals)

    def findings_column(self) -> dict[str, int]:
        """First column -> second column (findings) of the section's table."""
        return {cells[0]: int(cells[1]) for cells in self.rows[1:]}


def parse_html(text: str) -> Document:
    document = Document()
    document.feed(text)
    document.close()
    assert document.problems == []
    assert document.stack == [], f"unclosed: {document.stack}"
    return document


def assert_self_contained(text: str, document: Document) -> None:
    assert document.doctype.lower() == "doctype html"
    assert document.tags["style"] == 1 and document.tags["title"] >= 1 and document.tags["meta"] >= 1
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(document.tags)
    assert not re.search(r"(?:src|href)\s*=|url\(|@import|https?://", text), "the report must fetch nothing"


def assert_agrees_with_scan(document: Document, summary: dict[str, Any]) -> None:
    by_fix = {safety: count for safety, count in summary["by_fix"].items() if count}
    for section in ("summary", "by-provider", "by-rule", "by-directory"):
        assert document.sections[section].bar_totals() == by_fix, section
    assert document.sections["by-provider"].findings_column() == summary["by_provider"]
    assert document.sections["by-rule"].findings_column() == summary["by_rule"]


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLES, tmp_path / "examples" / "mlpipeline")
    return tmp_path / "examples"


@pytest.fixture
def multi(tmp_path: Path) -> Path:
    """The examples spread over several directories, one of them with HTML-special characters,
    plus a suppressed call and a file that cannot be read as Python source."""
    root = tmp_path / "multi"
    for source, target in [
        ("artifacts.py", "services/aws/artifacts.py"),
        ("datasets.py", "services/gcp/datasets.py"),
        ("reports.py", "web/<r&d>/reports.py"),
        ("backup.py", "jobs/backup.py"),
        ("uploader.py", "jobs/uploader.py"),
    ]:
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(EXAMPLES / source, root / target)
    (root / "jobs" / "cleanup.py").write_text(
        "import boto3\n\nboto3.client('s3').delete_object(Bucket='b', Key='k')  # cloudshift: ignore\n",
        encoding="utf-8",
    )
    (root / "legacy.py").write_bytes(b"import boto3\nname = '\xff'\n")
    return root


def test_html_report_on_the_examples_matches_scan(examples: Path, tmp_path: Path) -> None:
    scanned = scan_json(examples)
    output = tmp_path / "report.html"
    result = cloudshift("report", ".", "-o", str(output), "--no-cache", cwd=examples)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == f"Wrote {output}: 19 direct SDK calls in 4 files (5 scanned), across 4 providers.\n"
    text = output.read_text(encoding="utf-8")
    document = parse_html(text)
    assert_self_contained(text, document)
    assert list(document.sections) == SECTIONS
    assert_agrees_with_scan(document, scanned["summary"])
    assert document.sections["by-directory"].findings_column() == {"mlpipeline": 19}
    for finding in scanned["findings"]:
        where = f"<code>{finding['path']}:{finding['line']}:{finding['column']}</code>"
        section = {"safe": None, "unsafe": "unsafe-fixes", "manual": "manual-work"}[finding["fix"]]
        assert (where in text) == (section is not None)
        if section is not None:
            assert where in text.split(f'<section id="{section}">')[1].split("</section>")[0]


def test_markdown_report_on_the_examples_matches_scan(examples: Path) -> None:
    summary = scan_json(examples)["summary"]
    assert isinstance(summary, dict)
    result = cloudshift("report", ".", "--format", "markdown", "--no-cache", cwd=examples)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("# Storage migration report\n")
    assert re.findall(r"^## (.+)$", text, re.M) == [
        "Summary",
        "Findings by provider",
        "Findings by rule",
        "Findings by directory",
        "Manual work",
        "Unsafe fixes to review",
    ]
    safety = dict(re.findall(r"^\| (safe|unsafe|manual) \| (\d+) \|", text, re.M))
    assert {k: int(v) for k, v in safety.items()} == {"safe": 0, "unsafe": 0, "manual": 0} | summary["by_fix"]
    providers = dict(re.findall(r"^\| `(aws|gcp|azure|oci)` \| (\d+) \|", text, re.M))
    assert {k: int(v) for k, v in providers.items()} == summary["by_provider"]
    rules = dict(re.findall(r"^\| `([a-z0-9-]+)` \| (\d+) \|", text, re.M))
    assert {k: int(v) for k, v in rules.items() if k in summary["by_rule"]} == summary["by_rule"]
    assert "| `mlpipeline` | 19 | 14 | 3 | 2 | ████████████████████████ |" in text
    assert "### `aws-s3-client-other`: 1 place\n" in text


def test_report_of_a_multi_provider_project(multi: Path, tmp_path: Path) -> None:
    scanned = scan_json(multi)
    output = tmp_path / "out" / "plan.html"
    result = cloudshift("report", ".", "-o", str(output), "--no-cache", cwd=multi)
    assert result.returncode == 2, result.stderr  # legacy.py cannot be read: listed, and the exit code says so
    text = output.read_text(encoding="utf-8")
    document = parse_html(text)
    assert_self_contained(text, document)
    assert list(document.sections) == [*SECTIONS, "errors"]
    assert_agrees_with_scan(document, scanned["summary"])
    assert document.sections["by-directory"].findings_column() == {
        "services/aws": 8,
        "services/gcp": 4,
        "jobs": 4,
        "web/<r&d>": 3,
    }
    assert "web/&lt;r&amp;d&gt;" in text and "<r&d>" not in text
    assert "1 finding suppressed with <code># cloudshift: ignore</code>." in text
    assert "<li><code>legacy.py</code>: " in text.split('<section id="errors">')[1]
    assert scanned["summary"]["suppressed"] == 1 and scanned["summary"]["errors"] == 1


def test_report_refuses_stdin(examples: Path) -> None:
    result = cloudshift("report", "--stdin-filename", "x.py", "-", cwd=examples)
    assert result.returncode == 2
    assert result.stderr == "cloudshift: error: report covers files on disk; --stdin-filename does not apply\n"


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/test.sh installs it with apt-get)")
def test_html_report_in_headless_chromium(multi: Path, tmp_path: Path) -> None:
    """The browser's own DOM, after parsing and layout: the sections, charts and numbers are there."""
    assert CHROMIUM is not None
    report = tmp_path / "plan.html"
    assert cloudshift("report", ".", "-o", str(report), "--no-cache", cwd=multi).returncode == 2
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # tests may run as root, where chromium's sandbox refuses to start
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--virtual-time-budget=2000",
        "--dump-dom",
        report.as_uri(),
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=False, env={**os.environ, "HOME": str(tmp_path)}
    )
    assert result.returncode == 0, result.stderr
    dom = parse_html(result.stdout)
    assert list(dom.sections) == [*SECTIONS, "errors"]
    assert dom.tags["svg"] == 4  # the summary bar and one chart per breakdown
    assert_agrees_with_scan(dom, scan_json(multi)["summary"])
    assert "Storage migration report" in dom.text
