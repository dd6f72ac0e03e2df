"""Discovery: which files a scan reads, with .gitignore, exclusions, the shim and explicit paths."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from cloudshift.config import Settings, load_settings
from cloudshift.engine.discovery import DiscoveryError, discover

from .helpers import write


def found(paths: list[Path], settings: Settings) -> list[str]:
    return [path.as_posix() for path in discover(paths, settings)]


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with code, noise directories and two copies of the shim; cwd is its root."""
    root = tmp_path / "project"
    for relative in [
        "app/main.py",
        "app/util/io.py",
        "app/README.md",
        "app/types.pyi",
        "scripts/deploy.py",
        ".venv/lib/site.py",
        "venv/lib/site.py",
        "node_modules/pkg/x.py",
        "build/lib/app/main.py",
        "dist/app.py",
        "app/__pycache__/main.py",
        ".tox/py/x.py",
        ".eggs/e.py",
        "storage_shim/__init__.py",
        "storage_shim/backends/s3.py",
        "third_party/storage_shim/__init__.py",
        "third_party/storage_shim/backends/gcs.py",
        "docs/storage_shim/example.py",  # not a package: a folder that happens to be named so
    ]:
        write(root, relative, "x = 1\n")
    monkeypatch.chdir(root)
    return root


def test_python_files_sorted_without_noise_or_shim(tree: Path) -> None:
    assert found([Path(".")], load_settings(tree)) == [
        "app/main.py",
        "app/util/io.py",
        "docs/storage_shim/example.py",
        "scripts/deploy.py",
    ]


def test_paths_keep_the_form_given_and_are_not_repeated(tree: Path) -> None:
    settings = load_settings(tree)
    assert found([Path("app"), Path("app/util"), Path("app/main.py")], settings) == [
        "app/main.py",
        "app/util/io.py",
    ]
    assert found([tree / "scripts"], settings) == [(tree / "scripts" / "deploy.py").as_posix()]


def test_explicit_paths_are_scanned_even_when_excluded(tree: Path) -> None:
    settings = load_settings(tree)
    assert found([Path("storage_shim/backends/s3.py")], settings) == ["storage_shim/backends/s3.py"]
    assert found([Path("app/README.md")], settings) == ["app/README.md"]
    assert found([Path("storage_shim")], settings) == [
        "storage_shim/__init__.py",
        "storage_shim/backends/s3.py",
    ]


def test_force_exclude_applies_exclusions_to_explicit_paths(tree: Path) -> None:
    settings = load_settings(tree).with_overrides(force_exclude=True)
    named = [
        Path("storage_shim/backends/s3.py"),
        Path("third_party/storage_shim"),
        Path("build/lib/app/main.py"),
        Path("app/main.py"),
    ]
    assert found(named, settings) == ["app/main.py"]


def test_configured_exclusions_are_patterns_relative_to_the_root(tree: Path) -> None:
    write(tree, "sub/generated/gen.py", "")
    write(tree, "generated/gen.py", "")
    write(tree, "pyproject.toml", '[tool.cloudshift]\nextend-exclude = ["/generated/", "io.py"]\n')
    assert found([Path(".")], load_settings(tree)) == [
        "app/main.py",
        "docs/storage_shim/example.py",
        "scripts/deploy.py",
        "sub/generated/gen.py",
    ]


def test_exclude_replaces_the_defaults_and_include_widens(tree: Path) -> None:
    write(tree, ".git/hooks/x.py", "")
    write(tree, "pyproject.toml", '[tool.cloudshift]\nexclude = ["scripts"]\ninclude = ["*.pyi"]\n')
    # `.git` and copies of the shim stay excluded whatever `exclude` says.
    assert found([Path(".")], load_settings(tree)) == ["app/types.pyi"]
    write(tree, "pyproject.toml", "[tool.cloudshift]\nexclude = []\n")
    assert "venv/lib/site.py" in found([Path(".")], load_settings(tree))
    assert ".git/hooks/x.py" not in found([Path(".")], load_settings(tree))


def test_configured_shim_module_path(tree: Path) -> None:
    write(tree, "acme/__init__.py", "")
    write(tree, "acme/storage/__init__.py", "")
    write(tree, "acme/storage/s3.py", "")
    write(tree, "vendor/acme/storage/__init__.py", "")
    write(tree, "other/storage/__init__.py", "")  # same last name, different package
    write(tree, "pyproject.toml", '[tool.cloudshift]\nshim-module = "acme.storage"\n')
    files = found([Path(".")], load_settings(tree))
    assert "acme/__init__.py" in files
    assert "other/storage/__init__.py" in files
    assert "storage_shim/backends/s3.py" in files  # no longer the shim
    assert not [path for path in files if "acme/storage" in path]


def test_shim_as_a_single_module(tree: Path) -> None:
    write(tree, "lib/cloudio.py", "")
    write(tree, "lib/other.py", "")
    write(tree, "pyproject.toml", '[tool.cloudshift]\nshim-module = "lib.cloudio"\n')
    files = found([Path("lib")], load_settings(tree))
    assert files == ["lib/other.py"]


def test_gitignore_in_a_git_work_tree(tree: Path) -> None:
    (tree / ".git").mkdir()  # a work tree's marker is all discovery looks for
    write(tree, ".gitignore", "scripts/\n*.gen.py\n!keep.gen.py\n")
    write(tree, "app/models.gen.py", "")
    write(tree, "app/keep.gen.py", "")
    write(tree, "app/util/.gitignore", "io.py\n")
    write(tree, "app/util/cache.py", "")
    files = found([Path(".")], load_settings(tree))
    assert files == [
        "app/keep.gen.py",
        "app/main.py",
        "app/util/cache.py",
        "docs/storage_shim/example.py",
    ]
    # Scanning a subdirectory still honours the .gitignore files above it.
    assert found([Path("app")], load_settings(tree)) == [
        "app/keep.gen.py",
        "app/main.py",
        "app/util/cache.py",
    ]


def test_nested_gitignore_can_re_include(tree: Path) -> None:
    write(tree, ".gitignore", "*_pb2.py\n")
    write(tree, "app/api_pb2.py", "")
    write(tree, "app/proto/.gitignore", "!*_pb2.py\n")
    write(tree, "app/proto/svc_pb2.py", "")
    files = found([Path("app")], load_settings(tree))
    assert "app/proto/svc_pb2.py" in files
    assert "app/api_pb2.py" not in files


def test_gitignore_is_honoured_outside_git_up_to_the_project_root(tree: Path) -> None:
    assert not any((directory / ".git").exists() for directory in (tree, *tree.parents))
    write(tree, ".gitignore", "app/util/\n")
    assert found([Path("app")], load_settings(tree)) == ["app/main.py"]
    # Above the project root (the folder of the pyproject.toml), a .gitignore has no say.
    write(tree, "pyproject.toml", "[tool.cloudshift]\n")
    write(tree.parent, ".gitignore", "deploy.py\n")
    assert "scripts/deploy.py" in found([Path(".")], load_settings(tree))


def test_no_gitignore_turns_it_off(tree: Path) -> None:
    write(tree, ".gitignore", "app/\n")
    settings = load_settings(tree)
    assert found([Path(".")], settings) == ["docs/storage_shim/example.py", "scripts/deploy.py"]
    assert found([Path(".")], settings.with_overrides(respect_gitignore=False)) == [
        "app/main.py",
        "app/util/io.py",
        "docs/storage_shim/example.py",
        "scripts/deploy.py",
    ]


def test_gitignore_in_a_real_repository(make_repo: Callable[[str], Path]) -> None:
    repo = make_repo("real")
    write(repo, ".gitignore", "/out/\n")
    write(repo, "out/tmp.py", "")
    write(repo, "src/out/kept.py", "")
    write(repo, "src/a.py", "")
    assert found([repo / "src"], load_settings(repo)) == [
        (repo / "src/a.py").as_posix(),
        (repo / "src/out/kept.py").as_posix(),
    ]
    assert found([repo], load_settings(repo)) == [
        (repo / "src/a.py").as_posix(),
        (repo / "src/out/kept.py").as_posix(),
    ]


def test_symlinked_directories_are_not_followed(tree: Path) -> None:
    os.symlink(tree / "app", tree / "scripts" / "app_link", target_is_directory=True)
    assert found([Path("scripts")], load_settings(tree)) == ["scripts/deploy.py"]


def test_missing_path_is_an_error_naming_it(tree: Path) -> None:
    with pytest.raises(DiscoveryError, match=r"^no_such_dir: no such file or directory$"):
        discover([Path("app"), Path("no_such_dir")], load_settings(tree))


def test_directory_without_python_files_yields_nothing(tree: Path) -> None:
    (tree / "empty").mkdir()
    assert found([Path("empty")], load_settings(tree)) == []
