"""No one file stops a run (issue 12, codemod 1 and 5): crashes, runaway recursion, timeouts, huge files.

Each test runs the real `cloudshift` command in a subprocess on a tree of normal files plus one
hostile file, and checks that every normal file was fixed exactly as it would be on its own, that
the hostile file was reported by path with its reason and left as it was.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from cloudshift.engine.parse import MAX_DEPTH, TooDeep, check_nesting
from tests.engine.pathological import (
    NORMAL,
    cloudshift,
    generated_module,
    long_expression,
    nested_functions,
    normal_files,
)


def hostile_tree(tmp_path: Path, name: str, text: str, normal: int = 3) -> tuple[Path, list[Path]]:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path / name, normal_files(tmp_path, normal)


def assert_fixed(paths: list[Path], expected: str) -> None:
    assert [path.read_text(encoding="utf-8") for path in paths] == [expected] * len(paths)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_expression_of_8000_terms_is_reported_and_every_other_file_fixed(
    tmp_path: Path, expected: str, jobs: str
) -> None:
    bad, normal = hostile_tree(tmp_path, "deep.py", long_expression(8_000))
    done = cloudshift("fix", "--jobs", jobs, ".", cwd=tmp_path)
    assert done.returncode == 2, done.stderr  # before: killed by SIGSEGV (-11) after 75 s
    assert "deep.py: error: cloudshift could not analyse this file: nesting too deep" in done.stderr
    assert "Traceback" not in done.stderr
    assert bad.read_text(encoding="utf-8") == long_expression(8_000)
    assert_fixed(normal, expected)


def test_a_thousand_nested_functions_are_reported_and_every_other_file_fixed(tmp_path: Path, expected: str) -> None:
    bad, normal = hostile_tree(tmp_path, "nested.py", nested_functions(1_000))
    done = cloudshift("fix", ".", cwd=tmp_path)
    # before: tree-sitter's fallback parser killed the run with SIGSEGV
    assert "nested.py:1:1: error: syntax error: tokenizer error: too many indentation levels" in done.stderr
    assert "Traceback" not in done.stderr
    assert bad.read_text(encoding="utf-8") == nested_functions(1_000)
    assert_fixed(normal, expected)


def test_a_worker_killed_by_a_signal_costs_only_the_file_it_held(tmp_path: Path, expected: str) -> None:
    slow, normal = hostile_tree(tmp_path, "a_slow.py", generated_module(150_000))
    done = cloudshift("fix", "--jobs", "1", ".", cwd=tmp_path, during=lambda pid: os.kill(pid, signal.SIGSEGV))
    assert done.returncode == 2, done.stderr
    assert "a_slow.py: error: the analysis crashed (SIGSEGV); file left unchanged" in done.stderr
    assert slow.read_text(encoding="utf-8") == generated_module(150_000)
    assert_fixed(normal, expected)


def test_a_file_past_the_timeout_is_reported_and_the_rest_fixed(tmp_path: Path, expected: str) -> None:
    slow, normal = hostile_tree(tmp_path, "a_slow.py", generated_module(300_000))
    done = cloudshift("fix", "--jobs", "1", "--file-timeout", "3", ".", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "a_slow.py: error: the analysis took longer than the 3 s file timeout" in done.stderr
    assert slow.read_text(encoding="utf-8") == generated_module(300_000)
    assert_fixed(normal, expected)


def test_a_file_over_the_size_limit_is_skipped_unread_with_a_clear_message(tmp_path: Path, expected: str) -> None:
    big, normal = hostile_tree(tmp_path, "generated.py", generated_module(30_000))
    done = cloudshift("fix", "--max-file-size", "20KB", ".", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "generated.py: error: skipped: 0.03 MB is over the 0.02 MB max-file-size" in done.stderr
    assert big.read_text(encoding="utf-8") == generated_module(30_000)
    assert_fixed(normal, expected)


def test_the_size_limit_comes_from_the_configuration_and_0_lifts_it(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.cloudshift]\nmax-file-size = "100B"\n', encoding="utf-8")
    (tmp_path / "app.py").write_text(NORMAL, encoding="utf-8")
    limited = cloudshift("scan", "--no-cache", ".", cwd=tmp_path)
    assert "app.py: error: skipped:" in limited.stdout + limited.stderr, limited.stdout
    lifted = cloudshift("scan", "--no-cache", "--max-file-size", "0", ".", cwd=tmp_path)
    assert lifted.returncode == 1 and "app.py:7:5: aws-s3-put-object" in lifted.stdout, lifted.stderr


def test_a_bad_size_in_the_configuration_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.cloudshift]\n\nmax-file-size = "huge"\n', encoding="utf-8")
    (tmp_path / "app.py").write_text(NORMAL, encoding="utf-8")
    done = cloudshift("scan", ".", cwd=tmp_path)
    assert done.returncode == 2
    assert f"{tmp_path / 'pyproject.toml'}:3: 'max-file-size' must be a size" in done.stderr


def test_depth_guard_refuses_what_libcst_cannot_survive_and_passes_what_it_can() -> None:
    check_nesting(long_expression(MAX_DEPTH - 10))
    for deep in (long_expression(MAX_DEPTH + 10), "x = a" + ".b" * 400 + "\n", "x = " + "- " * 400 + "1\n"):
        with pytest.raises(TooDeep):
            check_nesting(deep)
    with pytest.raises(TooDeep):  # CPython itself refuses to build this tree
        check_nesting(long_expression(100_000))


def test_a_timed_out_file_is_not_cached_as_an_error(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(generated_module(60_000), encoding="utf-8")
    timed_out = cloudshift("scan", "--file-timeout", "0.5", ".", cwd=tmp_path)
    assert "slow.py: error: the analysis took longer than the 0.5 s file timeout" in timed_out.stdout
    again = cloudshift("scan", "--file-timeout", "0", ".", cwd=tmp_path)
    assert again.returncode == 1 and "error" not in again.stdout, again.stdout[-500:]
    assert "slow.py:8:5: aws-s3-upload-file" in again.stdout


def test_workers_end_when_the_run_is_killed(tmp_path: Path) -> None:
    (tmp_path / "a_slow.py").write_text(generated_module(150_000), encoding="utf-8")
    workers: list[int] = []

    def kill_the_run(worker: int) -> None:
        workers.append(worker)
        os.kill(parent_of(worker), signal.SIGKILL)

    killed = cloudshift("scan", "--jobs", "1", "--no-cache", ".", cwd=tmp_path, during=kill_the_run)
    assert killed.returncode == -signal.SIGKILL and workers
    deadline = time.monotonic() + 10
    while alive(workers[0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(workers[0]), "the worker went on analysing for a run that no longer exists"


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False
