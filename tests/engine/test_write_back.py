"""What `fix` writes (issue 12, codemod 2 to 4): through symlinks once, never over an edit, never half.

The rule, documented in cloudshift/engine/write.py and docs/ci.md: a symlink is written through
to its target and stays a link; a file reached by several paths of one run is written once; a
file whose bytes changed since they were read is left alone; a file that cannot be written is
reported by path while the others are written, and the run lists which were and which were not.
"""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

import pytest

from cloudshift.engine.source import ChangedOnDisk, read_source, write_source
from tests.engine.pathological import (
    NORMAL,
    cloudshift,
    generated_module,
    leftovers,
    normal_files,
)


def test_a_fixed_symlink_stays_a_link_and_its_target_gets_the_fix(tmp_path: Path, expected: str) -> None:
    target = tmp_path / "shared" / "store.py"
    target.parent.mkdir()
    target.write_bytes(codecs.BOM_UTF8 + NORMAL.replace("\n", "\r\n").encode())
    target.chmod(0o640)
    (tmp_path / "app").mkdir()
    link = tmp_path / "app" / "store.py"
    link.symlink_to(Path("..") / "shared" / "store.py")
    done = cloudshift("fix", "app", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and os.readlink(link) == str(Path("..") / "shared" / "store.py")
    assert target.read_bytes() == codecs.BOM_UTF8 + expected.replace("\n", "\r\n").encode()
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert leftovers(tmp_path) == []


def test_a_file_reached_by_several_paths_is_written_once(tmp_path: Path, expected: str) -> None:
    (tmp_path / "b.py").write_text(NORMAL, encoding="utf-8")
    (tmp_path / "a.py").symlink_to("b.py")
    (tmp_path / "c.py").symlink_to("b.py")
    done = cloudshift("fix", ".", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "b.py: the same file as a.py, written once" in done.stderr
    assert "c.py: the same file as a.py, written once" in done.stderr
    assert (tmp_path / "a.py").is_symlink() and (tmp_path / "c.py").is_symlink()
    assert (tmp_path / "b.py").read_text(encoding="utf-8") == expected


def test_write_source_refuses_to_replace_a_file_changed_since_it_was_read(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text(NORMAL, encoding="utf-8")
    original = read_source(path)
    path.write_text(NORMAL + "# edited meanwhile\n", encoding="utf-8")
    with pytest.raises(ChangedOnDisk):
        write_source(path, original, "fixed\n")
    assert path.read_text(encoding="utf-8") == NORMAL + "# edited meanwhile\n"
    assert leftovers(tmp_path) == []


def test_a_file_edited_while_fix_runs_keeps_the_edit_and_the_rest_are_written(tmp_path: Path, expected: str) -> None:
    (tmp_path / "a_slow.py").write_text(generated_module(100_000), encoding="utf-8")
    edited, *others = normal_files(tmp_path, 3)

    def edit(_: int) -> None:
        edited.write_text(NORMAL + "# a colleague's edit\n", encoding="utf-8")

    done = cloudshift("fix", "--jobs", "1", ".", cwd=tmp_path, during=edit)
    assert done.returncode == 2, done.stderr
    assert f"{edited.name}: error: not written: the file changed on disk after cloudshift read it" in done.stderr
    assert f"Not written (1): {edited.name}" in done.stderr
    assert f"Written (3): a_slow.py, {others[0].name}, {others[1].name}" in done.stderr
    assert edited.read_text(encoding="utf-8") == NORMAL + "# a colleague's edit\n"
    assert [path.read_text(encoding="utf-8") for path in others] == [expected, expected]


def test_a_read_only_folder_costs_only_its_files_and_the_run_says_what_was_written(
    tmp_path: Path, expected: str
) -> None:
    locked = tmp_path / "locked"
    normal = normal_files(tmp_path, 2)
    normal_files(locked, 1)
    locked.chmod(0o555)
    try:
        done = cloudshift("fix", ".", cwd=tmp_path, unprivileged=True)
    finally:
        locked.chmod(0o755)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    why = f"not written: cannot create a file in the folder: Permission denied ({locked})"
    assert f"locked/normal_000.py: error: {why}" in done.stderr
    assert "Written (2): normal_000.py, normal_001.py" in done.stderr
    assert "Not written (1): locked/normal_000.py" in done.stderr
    assert (locked / "normal_000.py").read_text(encoding="utf-8") == NORMAL
    assert [path.read_text(encoding="utf-8") for path in normal] == [expected, expected]
    assert leftovers(tmp_path) == []
