"""The language server's `Workspace` answers as `check_paths` does over the same files, edit after edit."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudshift.api import Engine, Workspace, check_paths
from cloudshift.config import load_settings
from cloudshift.engine.discovery import discover
from tests.lsp.test_parity import LOCAL_CLIENTS, PROJECT

Found = dict[str, list[tuple[str, int, int]]]

EDITS = [
    ("app/clients.py", LOCAL_CLIENTS),  # the helper stops returning an SDK client
    (
        "app/jobs.py",
        PROJECT["app/jobs.py"].replace("from .clients import get_s3", "from .models import Cache as get_s3"),
    ),
    ("app/models.py", "import boto3\n\nstore = boto3.client('s3')\nstore.put_object(Bucket='b', Key='k', Body=b'')\n"),
    ("app/late.py", "from app import get_s3\n\nget_s3().delete_object(Bucket='b', Key='k')\n"),  # a new module
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return Engine.create(load_settings(tmp_path_factory.mktemp("settings")))


def written(root: Path, texts: dict[str, str]) -> Path:
    for name, text in texts.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def scanned(engine: Engine, root: Path) -> Found:
    """What a run over the folder finds, per file relative to it."""
    checked = check_paths(engine, discover([root], engine.settings), jobs=1, roots=[root])
    return {_name(root, item.path): _found(item.result.findings) for item in checked}


def in_workspace(workspace: Workspace, root: Path, texts: dict[str, str]) -> Found:
    return {name: _found(workspace.check(root / name, text).findings) for name, text in texts.items()}


def _name(root: Path, path: Path) -> str:
    return path.resolve().relative_to(root.resolve()).as_posix()


def _found(findings: object) -> list[tuple[str, int, int]]:
    return sorted((f.rule, f.line, f.column) for f in findings)  # type: ignore[attr-defined]


def test_edited_workspace_finds_what_a_run_over_the_edited_files_finds(engine: Engine, tmp_path: Path) -> None:
    """Checked after every edit (so each one changes a warm workspace), against a run over the files as edited."""
    workspace = Workspace.load(engine, written(tmp_path / "editor", PROJECT))
    texts = dict(PROJECT)
    assert in_workspace(workspace, tmp_path / "editor", texts) == scanned(engine, tmp_path / "editor")
    for step, (name, text) in enumerate(EDITS):
        texts[name] = text
        workspace.update(tmp_path / "editor" / name, text)  # unsaved: the disk keeps the old text
        expected = scanned(engine, written(tmp_path / f"saved-{step}", texts))
        assert in_workspace(workspace, tmp_path / "editor", texts) == expected, name


def test_forgetting_a_buffer_goes_back_to_the_disk(engine: Engine, tmp_path: Path) -> None:
    root = written(tmp_path, PROJECT)
    workspace = Workspace.load(engine, root)
    before = in_workspace(workspace, root, PROJECT)
    workspace.update(root / "app/clients.py", LOCAL_CLIENTS)
    assert in_workspace(workspace, root, {"app/jobs.py": PROJECT["app/jobs.py"]}) == {"app/jobs.py": []}
    assert workspace.forget(root / "app/clients.py")
    assert in_workspace(workspace, root, PROJECT) == before == scanned(engine, root)
