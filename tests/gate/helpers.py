"""Helpers for the CI gate tests: findings built by hand and real git repositories."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cloudshift.model import Finding, Safety, Span


def make_finding(
    path: str = "app.py",
    line: int = 1,
    column: int = 1,
    rule: str = "aws-s3-put-object",
    snippet: str = 's3.put_object(Bucket="b", Key="k", Body=b"")',
    *,
    end_line: int | None = None,
    end_column: int | None = None,
    message: str = "direct S3 put_object call",
    provider: str = "aws",
    fix: Safety = Safety.SAFE,
) -> Finding:
    """A finding as the engine reports one; the span ends on the same line unless told."""
    return Finding(
        path=path,
        span=Span(line, column, end_line or line, end_column or column + len(snippet)),
        rule=rule,
        provider=provider,
        message=message,
        fix=fix,
        snippet=snippet,
    )


def git(repo: Path, *args: str) -> str:
    """Run git in `repo`; fail the test with git's own message if it fails."""
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    assert result.returncode == 0, f"git {' '.join(args)} failed: {result.stderr}"
    return result.stdout


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
