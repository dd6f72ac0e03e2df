"""Colour and progress only where a person watches: the CLI on pseudo-terminals and on pipes.

Each run gets stdout and stderr as a pty (raw mode, so the bytes arrive untranslated) or as a
pipe. On a pty the text is styled but, with the escape codes removed, the same as piped; a pipe
gets not one escape code; machine formats are byte-identical on both.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import sys
import tty
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
COLOR = re.compile(rb"\x1b\[[0-9;]*(?:3[0-9]|9[0-7])(?:;[0-9]+)*m")  # a foreground colour code
PROGRESS = re.compile(rb"5/5 files, 19 findings")  # examples/: 5 files, 19 findings


@dataclass(frozen=True)
class Run:
    code: int
    out: bytes
    err: bytes


def cloudshift(
    *args: str,
    cwd: Path,
    out_tty: bool = False,
    err_tty: bool = False,
    env: dict[str, str] | None = None,
    stdin: bytes = b"",
) -> Run:
    """Run the CLI with stdout and stderr each on a raw pseudo-terminal or a pipe."""
    environment = {key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "CI", "FORCE_COLOR")}
    environment.update({"TERM": "xterm-256color", "COLUMNS": "200", **(env or {})})
    readers: dict[int, str] = {}
    targets: list[int] = []
    for name, wanted in (("out", out_tty), ("err", err_tty)):
        if wanted:
            reader, writer = pty.openpty()
            tty.setraw(writer)
        else:
            reader, writer = os.pipe()
        readers[reader] = name
        targets.append(writer)
    command = [sys.executable, "-m", "cloudshift", *args]
    process = subprocess.Popen(
        command, cwd=cwd, env=environment, stdin=subprocess.PIPE, stdout=targets[0], stderr=targets[1]
    )
    for writer in targets:
        os.close(writer)
    assert process.stdin is not None
    process.stdin.write(stdin)  # small: fits the pipe's buffer before anyone reads
    process.stdin.close()
    received = {"out": b"", "err": b""}
    while readers:
        ready, _, _ = select.select(list(readers), [], [], 120)
        assert ready, "cloudshift printed nothing for 120 s"
        for reader in ready:
            try:
                chunk = os.read(reader, 65536)
            except OSError:  # a pty whose other end closed
                chunk = b""
            if chunk:
                received[readers[reader]] += chunk
            else:
                os.close(reader)
                del readers[reader]
    return Run(process.wait(timeout=120), received["out"], received["err"])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    return tmp_path / "examples"


def test_piped_output_has_no_escape_codes_and_no_progress(project: Path) -> None:
    scan = cloudshift("scan", ".", cwd=project)
    assert scan.code == 1
    assert scan.out.startswith(b"mlpipeline/artifacts.py:21:9: aws-s3-upload-file S3 upload_file")
    assert scan.out.endswith(b"Found 19 findings in 4 files (5 files scanned).\n")
    assert scan.err == b""
    fix = cloudshift("fix", "--diff", ".", cwd=project)
    assert b"\x1b" not in fix.out + fix.err
    assert fix.out.startswith(b"--- a/mlpipeline/artifacts.py\n+++ b/mlpipeline/artifacts.py\n@@ ")


def test_a_terminal_gets_colour_and_a_progress_bar(project: Path) -> None:
    piped = cloudshift("scan", ".", "--no-cache", cwd=project)
    shown = cloudshift("scan", ".", "--no-cache", cwd=project, out_tty=True, err_tty=True)
    assert shown.code == piped.code == 1
    assert b"\x1b[1mmlpipeline/artifacts.py:21:9\x1b[0m: \x1b[35maws-s3-upload-file\x1b[0m" in shown.out
    assert COLOR.search(shown.out)
    assert ANSI.sub(b"", shown.out) == piped.out
    assert PROGRESS.search(ANSI.sub(b"", shown.err))
    assert shown.err.endswith(b"\x1b[2K")  # the bar is erased once the run is over


def test_the_progress_bar_counts_files_and_findings_as_a_fix_runs(project: Path) -> None:
    shown = cloudshift("fix", "--diff", ".", cwd=project, err_tty=True)
    assert re.search(rb"Analysing .* 0/5 files, 0 findings", ANSI.sub(b"", shown.err))
    assert PROGRESS.search(ANSI.sub(b"", shown.err))
    assert b"\x1b" not in shown.out  # the diff went to a pipe


def test_a_coloured_diff_is_the_piped_diff_with_styles(project: Path) -> None:
    piped = cloudshift("fix", "--diff", ".", cwd=project)
    shown = cloudshift("fix", "--diff", ".", cwd=project, out_tty=True, err_tty=True)
    assert b"\x1b[31m-        self._s3.upload_file(" in shown.out
    assert b"\x1b[32m+from storage_shim import create_storage_client\x1b[0m" in shown.out
    assert ANSI.sub(b"", shown.out) == piped.out
    assert b"\x1b[33munsafe\x1b[0m" in shown.err and b"\x1b[31mmanual\x1b[0m" in shown.err
    summary = ANSI.sub(b"", shown.err)
    assert summary[summary.index(b"Would fix") :] == piped.err


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("scan", ".", "--no-color"), {}),
        (("--no-color", "scan", "."), {}),
        (("scan", "."), {"NO_COLOR": "1"}),
        (("scan", "."), {"TERM": "dumb"}),
    ],
)
def test_no_color_and_no_color_variable_give_plain_text(
    project: Path, args: tuple[str, ...], env: dict[str, str]
) -> None:
    piped = cloudshift("scan", ".", cwd=project)
    shown = cloudshift(*args, cwd=project, out_tty=True, err_tty=True, env=env)
    assert shown.out == piped.out
    assert not COLOR.search(shown.err)


def test_progress_without_colour_is_still_drawn(project: Path) -> None:
    shown = cloudshift("scan", ".", "--no-cache", cwd=project, err_tty=True, env={"NO_COLOR": "1"})
    assert PROGRESS.search(ANSI.sub(b"", shown.err))
    assert not COLOR.search(shown.err)


def test_no_progress_in_ci_even_on_a_terminal(project: Path) -> None:
    shown = cloudshift("scan", ".", cwd=project, out_tty=True, err_tty=True, env={"CI": "true"})
    assert shown.err == b""
    assert COLOR.search(shown.out)  # colour is still for the person reading the terminal


@pytest.mark.parametrize("format_name", ["json", "sarif", "github", "junit"])
def test_machine_formats_are_byte_identical_on_a_terminal(project: Path, format_name: str) -> None:
    piped = cloudshift("scan", ".", "--format", format_name, cwd=project)
    shown = cloudshift("scan", ".", "--format", format_name, cwd=project, out_tty=True)
    assert shown.code == piped.code == 1
    assert shown.out == piped.out
    assert b"\x1b" not in shown.out


def test_fixed_source_on_stdout_is_never_styled(project: Path) -> None:
    """`fix --stdin-filename` prints code for editors; colour there would corrupt the file."""
    source = (project / "mlpipeline" / "reports.py").read_bytes()
    fixed = cloudshift("fix", "--stdin-filename", "mlpipeline/reports.py", "-", cwd=project, err_tty=True, stdin=source)
    assert b"create_storage_client" in fixed.out
    assert b"\x1b" not in fixed.out
    assert b"\x1b[1;32mFixed 3 findings\x1b[0m" in fixed.err


def test_rules_explain_renders_markdown_on_a_terminal_and_prints_it_piped() -> None:
    piped = cloudshift("rules", "explain", "aws-s3-head-object", cwd=REPO)
    shown = cloudshift("rules", "explain", "aws-s3-head-object", cwd=REPO, out_tty=True)
    assert piped.out.startswith(b"<!-- Generated by") and b"## What it finds\n" in piped.out
    plain = ANSI.sub(b"", shown.out)
    assert COLOR.search(shown.out)
    assert b"What it finds" in plain and b"## What it finds" not in plain and b"```" not in plain
    assert b"def object_exists(key" in plain  # the fixture's code, highlighted
