"""OS errors and bad rule files end in one line naming the path, never a traceback (issue 12, codemod 2 and 6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.pathological import NORMAL, cloudshift, normal_files


def test_a_symlink_loop_in_the_tree_is_reported_and_the_rest_fixed(tmp_path: Path, expected: str) -> None:
    (tmp_path / "loop.py").symlink_to("loop.py")
    normal = normal_files(tmp_path, 2)
    done = cloudshift("fix", ".", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "loop.py: error: not scanned: symlink loop" in done.stderr
    assert "Traceback" not in done.stderr
    assert [path.read_text(encoding="utf-8") for path in normal] == [expected, expected]


def test_a_symlink_loop_named_on_the_command_line_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "loop.py").symlink_to("loop.py")
    done = cloudshift("scan", "loop.py", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == "cloudshift: error: loop.py: symlink loop\n"


def test_an_unreadable_folder_is_reported_and_every_other_file_scanned(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    normal_files(secret, 1)
    normal_files(tmp_path, 2)
    secret.chmod(0)
    try:
        done = cloudshift("scan", "--no-cache", ".", cwd=tmp_path, unprivileged=True)
    finally:
        secret.chmod(0o755)
    assert done.returncode == 2, done.stderr
    assert "secret: error: folder not scanned: Permission denied" in done.stdout
    assert "Traceback" not in done.stderr
    assert "normal_000.py:7:5: aws-s3-put-object" in done.stdout
    assert "normal_001.py:7:5: aws-s3-put-object" in done.stdout


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ('provider: aws\nservice: s3\nsummary: !!python/object/apply:os.system ["touch pwned"]\n', 3, "constructor"),
        ("provider: aws\nservice: [s3\n", 3, "invalid YAML"),
        ("provider: aws\nservice: s3\nsummary: x\nmodules: [boto3]\nobjects: {}\nrules: 7\n", 6, "rules"),
    ],
    ids=["python-tag", "broken-yaml", "schema"],
)
def test_a_bad_rule_file_is_a_file_line_error_and_runs_nothing(tmp_path: Path, text: str, line: int, says: str) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "app.py").write_text(NORMAL, encoding="utf-8")
    done = cloudshift("scan", "--rules", "rules", "app.py", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"cloudshift: error: {rules / 'bad.yaml'}:{line}: "), done.stderr
    assert says in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "pwned").exists()
