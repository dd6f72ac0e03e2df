"""Changed lines since the merge base, from real git: branches, work tree, shallow clones."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from cloudshift.gate.gitdiff import (
    GitError,
    changed_lines,
    find_repo_root,
    merge_base,
    on_changed_lines,
    parse_diff,
)

from .helpers import commit, git, make_finding, write

BASE = "".join(f"line{number}\n" for number in range(1, 11))


@pytest.fixture
def branched(make_repo: Callable[[str], Path]) -> Path:
    """main: a.py, b.py and old.py; then `feature` branches off and main moves on."""
    repo = make_repo("origin")
    write(repo, "a.py", BASE)
    write(repo, "b.py", BASE)
    write(repo, "old.py", BASE)
    commit(repo, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    git(repo, "checkout", "-q", "main")
    write(repo, "b.py", BASE.replace("line9\n", "main changed this\n"))
    commit(repo, "main moves on")
    git(repo, "checkout", "-q", "feature")
    return repo


def test_committed_staged_unstaged_and_untracked_changes(branched: Path) -> None:
    repo = branched
    edited = BASE.replace("line2\n", "changed\n").replace("line5\n", "line5\nnew\nnew\n")
    write(repo, "a.py", edited)
    commit(repo, "feature edits a.py")
    write(repo, "b.py", BASE.replace("line3\n", "staged\n"))
    git(repo, "add", "b.py")
    write(repo, "old.py", BASE.replace("line10\n", "unstaged\n").replace("line1\n", ""))
    write(repo, "pkg/new.py", "one\ntwo\nthree")
    write(repo, "ignored.py", "x\n")
    write(repo, ".gitignore", "ignored.py\n")
    assert changed_lines(repo, "main") == {
        "a.py": {2, 6, 7},
        "b.py": {3},  # main's own change to line 9 is not the branch's
        "old.py": {9},  # a deleted line adds nothing
        "pkg/new.py": {1, 2, 3},
        ".gitignore": {1},
    }


def test_limited_to_the_given_paths(branched: Path) -> None:
    write(branched, "a.py", "changed\n" + BASE)
    write(branched, "pkg/new.py", "x\n")
    write(branched, "pkg/sub/other.py", "y\n")
    assert changed_lines(branched, "main", [branched / "pkg"]) == {
        "pkg/new.py": {1},
        "pkg/sub/other.py": {1},
    }
    assert changed_lines(branched, "main", [branched / "a.py"]) == {"a.py": {1}}


def test_renamed_file_counts_only_its_edited_lines(branched: Path) -> None:
    git(branched, "mv", "a.py", "renamed.py")
    write(branched, "renamed.py", BASE.replace("line4\n", "edited\n"))
    commit(branched, "rename")
    assert changed_lines(branched, "main") == {"renamed.py": {4}}


def test_deleted_file_has_no_lines(branched: Path) -> None:
    git(branched, "rm", "-q", "old.py")
    commit(branched, "delete")
    assert changed_lines(branched, "main") == {}


def test_unusual_file_names(branched: Path) -> None:
    names = ["with space.py", 'quote"d.py', "tab\there.py", "ünïcode.py", "back\\slash.py"]
    for name in names:
        write(branched, name, BASE)
    commit(branched, "odd names")
    for name in names:
        write(branched, name, BASE.replace("line7\n", "seven\n"))
    commit(branched, "edit odd names")
    write(branched, "untracked ñame.py", "a\n")
    expected = {name: set(range(1, 11)) for name in names}
    expected["untracked ñame.py"] = {1}
    assert changed_lines(branched, "main") == expected


def test_added_line_starting_with_plus_signs_is_not_a_header() -> None:
    diff = (
        b"diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n"
        b"@@ -1,0 +2,2 @@\n+++ not a header\n+--- nor this\n"
        b"@@ -5 +7 @@\n-old\n+new\n"
    )
    assert parse_diff(diff) == {"x.py": {2, 3, 7}}


def test_findings_on_changed_lines(branched: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(branched)
    changes = {"a.py": {5}, "b.py": {1}}
    inside = make_finding("a.py", 3, 1, end_line=6, end_column=2)  # multi-line call touched
    before = make_finding("a.py", 1, 1)
    other = make_finding("b.py", 2, 1)
    first_line = make_finding("b.py", 1, 5)
    assert on_changed_lines([inside, before, other, first_line], changes, branched) == [
        inside,
        first_line,
    ]


def test_not_a_repository(tmp_path: Path, git_env: None) -> None:
    with pytest.raises(GitError, match=r"needs a git repository, and .* is not in one"):
        find_repo_root(tmp_path)


def test_repo_root_from_a_subdirectory(branched: Path) -> None:
    (branched / "pkg").mkdir()
    assert find_repo_root(branched / "pkg") == branched.resolve()
    assert find_repo_root(branched / "a.py") == branched.resolve()


def test_unknown_ref_without_a_remote(branched: Path) -> None:
    assert diff_error(branched, "develop") == (
        "--diff-base: unknown git revision 'develop'. "
        "No branch, tag or commit has that name, and no remote is configured."
    )


def test_unknown_ref_says_what_to_fetch(branched: Path, tmp_path: Path) -> None:
    clone = tmp_path / "full-clone"
    git(
        tmp_path,
        "clone",
        "-q",
        "--single-branch",
        "--branch",
        "feature",
        branched.as_uri(),
        "full-clone",
    )
    message = diff_error(clone, "origin/main")
    assert "unknown git revision 'origin/main'" in message
    assert "shallow" not in message
    (command,) = suggested_commands(message)
    assert command == "git fetch origin main:refs/remotes/origin/main"
    run_suggestion(clone, command)
    assert changed_lines(clone, "origin/main") == {}


def test_unrelated_history(branched: Path) -> None:
    git(branched, "checkout", "-q", "--orphan", "island")
    commit(branched, "no shared history")
    with pytest.raises(GitError, match=r"HEAD and 'main' have no common history"):
        merge_base(branched, "main")


def clone_shallow(source: Path, target: Path, *options: str) -> Path:
    git(
        source.parent,
        "clone",
        "-q",
        "--depth",
        "1",
        *options,
        "--branch",
        "feature",
        source.as_uri(),
        str(target),
    )
    return target


def diff_error(repo: Path, base_ref: str) -> str:
    with pytest.raises(GitError) as raised:
        changed_lines(repo, base_ref)
    return str(raised.value)


def suggested_commands(message: str) -> list[str]:
    return [line.strip() for line in message.splitlines() if line.strip().startswith("git fetch")]


def run_suggestion(repo: Path, command: str) -> None:
    subprocess.run(shlex.split(command), cwd=repo, check=True, capture_output=True)


def test_shallow_clone_without_the_base_branch(branched: Path, tmp_path: Path) -> None:
    write(branched, "a.py", BASE + "feature line\n")
    commit(branched, "feature work")
    clone = clone_shallow(branched, tmp_path / "ci-checkout")
    message = diff_error(clone, "origin/main")
    assert "unknown git revision 'origin/main'" in message
    assert "shallow clone" in message
    deepen, unshallow = suggested_commands(message)
    assert deepen == "git fetch --deepen=100 origin main:refs/remotes/origin/main"
    assert unshallow == "git fetch --unshallow origin main:refs/remotes/origin/main"
    run_suggestion(clone, deepen)
    assert changed_lines(clone, "origin/main") == {"a.py": {11}}


def test_shallow_clone_without_the_merge_base(branched: Path, tmp_path: Path) -> None:
    for number in range(3):
        write(branched, "a.py", BASE + f"feature line {number}\n")
        commit(branched, f"feature work {number}")
    clone = clone_shallow(branched, tmp_path / "ci-checkout", "--no-single-branch")
    git(clone, "rev-parse", "--verify", "origin/main")  # the ref is there, its history is not
    message = diff_error(clone, "origin/main")
    assert "no merge base in this shallow clone" in message
    assert "fetch-depth: 0" in message
    _deepen, unshallow = suggested_commands(message)
    run_suggestion(clone, unshallow)
    assert changed_lines(clone, "origin/main") == {"a.py": {11}}


def test_plain_shallow_fetch_of_the_branch_is_not_enough(branched: Path, tmp_path: Path) -> None:
    """Fetching only the base branch's tip (what Semgrep users try first) still fails loudly."""
    clone = clone_shallow(branched, tmp_path / "ci-checkout")
    git(clone, "fetch", "-q", "--depth", "1", "origin", "main:refs/remotes/origin/main")
    with pytest.raises(GitError, match="no merge base in this shallow clone"):
        changed_lines(clone, "origin/main")
