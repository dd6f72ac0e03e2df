"""The contributors' pre-commit hooks (.pre-commit-config.yaml) work offline and catch what CI catches.

The hooks run the installed ruff and mypy, so they are tried in a small git repository made for
the test rather than on this checkout (a format hook rewrites files). Nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / ".pre-commit-config.yaml"

PYPROJECT = """\
[tool.ruff]
line-length = 120

[tool.ruff.lint]
select = ["E", "F", "I"]

[tool.mypy]
strict = true
files = ["pkg"]
"""

GOOD = '''\
"""A module every hook accepts."""


def add(a: int, b: int) -> int:
    return a + b
'''

BROKEN = {
    "ruff check": GOOD + "\n\nimport os\n",
    "ruff format": GOOD.replace("return a + b", "return a+b"),
    "mypy --strict": GOOD + "\n\ndef untyped(a):\n    return a\n",
}


def pre_commit(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    tools = str(Path(sys.executable).parent)  # ruff and mypy installed beside this Python
    environment = {**os.environ, "PATH": tools + os.pathsep + os.environ["PATH"], "PRE_COMMIT_HOME": str(home)}
    command = [sys.executable, "-m", "pre_commit", *args]
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=300)


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    shutil.copy(CONFIG, root / ".pre-commit-config.yaml")
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (root / "pkg" / "__init__.py").write_text(GOOD, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    return root


def statuses(output: str) -> dict[str, str]:
    """`ruff check......Passed` lines as {hook name: Passed/Failed}."""
    return {
        line.split(".")[0]: line.rpartition(".")[2]
        for line in output.splitlines()
        if line.endswith(("Passed", "Failed"))
    }


def test_the_config_is_valid(tmp_path: Path) -> None:
    result = pre_commit("validate-config", str(CONFIG), cwd=REPO, home=tmp_path / "home")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_hook_passes_on_clean_code(repository: Path, tmp_path: Path) -> None:
    result = pre_commit("run", "--all-files", cwd=repository, home=tmp_path / "home")
    assert result.returncode == 0, result.stdout + result.stderr
    assert statuses(result.stdout) == dict.fromkeys(BROKEN, "Passed")


@pytest.mark.parametrize("hook", sorted(BROKEN))
def test_each_hook_fails_on_what_it_checks(repository: Path, tmp_path: Path, hook: str) -> None:
    (repository / "pkg" / "__init__.py").write_text(BROKEN[hook], encoding="utf-8")
    subprocess.run(["git", "add", "-A"], cwd=repository, check=True)
    result = pre_commit("run", "--all-files", cwd=repository, home=tmp_path / "home")
    assert result.returncode == 1, result.stdout + result.stderr
    assert statuses(result.stdout) == {name: "Failed" if name == hook else "Passed" for name in BROKEN}
