"""Fixtures for the CI gate tests: git isolated from the machine's configuration."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .helpers import git


@pytest.fixture
def git_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """git that ignores the machine's own configuration and needs no identity set up."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Gate Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "gate@example.invalid")


@pytest.fixture
def make_repo(git_env: None, tmp_path: Path) -> Callable[[str], Path]:
    """A factory of empty git repositories (branch `main`) under tmp_path."""

    def create(name: str = "repo") -> Path:
        repo = tmp_path / name
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        return repo

    return create
