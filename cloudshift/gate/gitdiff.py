"""Which lines changed since a branch point, from real git, for `scan --diff-base REF`.

Changed means added or modified in the working tree (committed, staged or not) since the
merge base of HEAD and REF; an untracked file is changed everywhere. A shallow clone that
lacks the merge base is an error naming the exact fetch command: a gate that cannot see the
branch point must not pass silently.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from cloudshift.model import Finding

_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_QUOTED_ESCAPE = re.compile(rb"\\([0-7]{3}|.)")
_C_ESCAPES = {b"a": 7, b"b": 8, b"t": 9, b"n": 10, b"v": 11, b"f": 12, b"r": 13}
DEEPEN_STEP = 100


class GitError(Exception):
    """git could not answer; the message says why and what to do."""


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    environment = {**os.environ, "GIT_LITERAL_PATHSPECS": "1", "LC_ALL": "C"}
    try:
        return subprocess.run(
            ["git", "-c", "core.quotePath=false", *args],
            cwd=repo,
            capture_output=True,
            env=environment,
            check=False,
        )
    except FileNotFoundError:
        raise GitError("--diff-base needs git, and git is not installed or not on PATH") from None


def _output(result: subprocess.CompletedProcess[bytes]) -> str:
    return result.stdout.decode("utf-8", errors="replace").strip()


def find_repo_root(path: Path) -> Path:
    """The top of the git work tree holding `path`."""
    directory = path.resolve()
    if not directory.is_dir():
        directory = directory.parent
    result = _git(directory, "rev-parse", "--show-toplevel")
    if result.returncode != 0:
        raise GitError(f"--diff-base needs a git repository, and {path} is not in one")
    return Path(_output(result)).resolve()


def merge_base(repo: Path, base_ref: str) -> str:
    """The commit where HEAD left `base_ref`; GitError with the fetch to run if unknown."""
    if _git(repo, "rev-parse", "--verify", "--quiet", f"{base_ref}^{{commit}}").returncode:
        raise GitError(_unknown_ref_message(repo, base_ref))
    result = _git(repo, "merge-base", base_ref, "HEAD")
    if result.returncode == 0:
        return _output(result)
    if result.returncode == 1 and _is_shallow(repo):
        raise GitError(_shallow_message(repo, base_ref))
    if result.returncode == 1:
        raise GitError(f"HEAD and {base_ref!r} have no common history: nothing to diff against")
    raise GitError(f"git merge-base {base_ref} HEAD failed: {result.stderr.decode(errors='replace').strip()}")


def _is_shallow(repo: Path) -> bool:
    return _output(_git(repo, "rev-parse", "--is-shallow-repository")) == "true"


def _fetch_arguments(repo: Path, base_ref: str) -> str:
    """`REMOTE SRC:DST` that makes `base_ref` exist locally after a fetch; empty if no remote."""
    remotes = _output(_git(repo, "remote")).split()
    if not remotes:
        return ""
    for remote in remotes:
        if base_ref.startswith(remote + "/"):
            branch = base_ref[len(remote) + 1 :]
            return f"{remote} {branch}:refs/remotes/{remote}/{branch}"
    remote = "origin" if "origin" in remotes else remotes[0]
    return f"{remote} {base_ref}:{base_ref}"


def _history_fetch_commands(repo: Path, base_ref: str) -> str:
    fetch = _fetch_arguments(repo, base_ref)
    return (
        f"    git fetch --deepen={DEEPEN_STEP} {fetch}\n"
        f"  (repeat until `git merge-base {base_ref} HEAD` succeeds), or fetch all history:\n"
        f"    git fetch --unshallow {fetch}\n"
        "  In GitHub Actions, `actions/checkout` with `fetch-depth: 0` fetches all history."
    )


def _unknown_ref_message(repo: Path, base_ref: str) -> str:
    message = f"--diff-base: unknown git revision {base_ref!r}."
    if _is_shallow(repo):
        return (
            f"{message} This is a shallow clone: fetch the branch and the history that joins "
            f"it to HEAD, then run again:\n{_history_fetch_commands(repo, base_ref)}"
        )
    fetch = _fetch_arguments(repo, base_ref)
    if not fetch:
        return f"{message} No branch, tag or commit has that name, and no remote is configured."
    return f"{message} If it is a branch not fetched yet, fetch it:\n    git fetch {fetch}"


def _shallow_message(repo: Path, base_ref: str) -> str:
    return (
        f"--diff-base: HEAD and {base_ref!r} have no merge base in this shallow clone (the "
        "commits that join them were not fetched), so the changed lines are unknown. "
        f"Fetch more history, then run again:\n{_history_fetch_commands(repo, base_ref)}"
    )


def changed_lines(repo_root: Path, base_ref: str, paths: Sequence[Path] = ()) -> dict[str, set[int]]:
    """Lines added or changed since the merge base with `base_ref`, by repo-relative path.

    `paths` limits the answer to those files and directories (all of the work tree if empty).
    """
    repo = repo_root.resolve()
    base = merge_base(repo, base_ref)
    pathspecs = [str(path.resolve()) for path in paths]
    changes = _added_lines(repo, base, pathspecs)
    for relative in _untracked_files(repo, pathspecs):
        changes[relative] = _all_lines(repo / relative)
    return changes


def _added_lines(repo: Path, base: str, pathspecs: list[str]) -> dict[str, set[int]]:
    result = _git(
        repo,
        "diff",
        "-U0",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--find-renames",
        "--ignore-submodules",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        base,
        "--",
        *pathspecs,
    )
    if result.returncode != 0:
        raise GitError(f"git diff failed: {result.stderr.decode(errors='replace').strip()}")
    return parse_diff(result.stdout)


def parse_diff(diff: bytes) -> dict[str, set[int]]:
    """Added line numbers per new-side path from `git diff -U0` output."""
    changes: dict[str, set[int]] = {}
    current: set[int] | None = None
    in_header = False
    for line in diff.split(b"\n"):
        if line.startswith(b"diff --git "):
            in_header, current = True, None
        elif in_header and line.startswith(b"+++ "):
            path = _diff_path(line[4:])
            current = None if path is None else changes.setdefault(path, set())
        elif line.startswith(b"@@"):
            in_header = False
            hunk = _HUNK.match(line)
            if hunk and current is not None:
                start, count = int(hunk.group(1)), int(hunk.group(2) or 1)
                current.update(range(start, start + count))
    return changes


def _diff_path(raw: bytes) -> str | None:
    """The path of a `+++` header without its `b/` prefix; None for /dev/null.

    git quotes names with unusual characters, and ends a name that holds a space with a tab.
    """
    if raw.startswith(b'"') and raw.endswith(b'"'):
        raw = _unquote(raw[1:-1])
    elif b" " in raw:
        raw = raw.removesuffix(b"\t")
    if raw == b"/dev/null":
        return None
    return raw.removeprefix(b"b/").decode("utf-8", errors="surrogateescape")


def _unquote(quoted: bytes) -> bytes:
    """git's C-style quoting: backslash escapes and octal bytes."""

    def replace(match: re.Match[bytes]) -> bytes:
        escape = match.group(1)
        if len(escape) == 3:
            return bytes([int(escape, 8)])
        return bytes([_C_ESCAPES[escape]]) if escape in _C_ESCAPES else escape

    return _QUOTED_ESCAPE.sub(replace, quoted)


def _untracked_files(repo: Path, pathspecs: list[str]) -> list[str]:
    result = _git(repo, "ls-files", "--others", "--exclude-standard", "-z", "--", *pathspecs)
    if result.returncode != 0:
        raise GitError(f"git ls-files failed: {result.stderr.decode(errors='replace').strip()}")
    names = result.stdout.split(b"\0")
    return [name.decode("utf-8", errors="surrogateescape") for name in names if name]


def _all_lines(path: Path) -> set[int]:
    try:
        count = len(path.read_bytes().splitlines())
    except OSError:
        return set()
    return set(range(1, count + 1))


def on_changed_lines(findings: Iterable[Finding], changes: dict[str, set[int]], repo_root: Path) -> list[Finding]:
    """The findings that touch a changed line (any line of the call, for multi-line calls)."""
    root = repo_root.resolve()
    kept = []
    for finding in findings:
        try:
            relative = Path(finding.path).resolve().relative_to(root).as_posix()
        except ValueError:
            kept.append(finding)  # outside the repository: nothing shows it is old
            continue
        lines = changes.get(relative, set())
        if any(line in lines for line in range(finding.span.line, finding.span.end_line + 1)):
            kept.append(finding)
    return kept
