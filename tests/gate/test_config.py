"""`[tool.cloudshift]`: found upward, every key read, errors and unknown keys with their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudshift.config import (
    DEFAULT_EXCLUDE,
    ConfigError,
    Settings,
    load_settings,
    rule_matches,
)

from .helpers import write

FULL_CONFIG = """\
[project]
name = "demo"

[tool.cloudshift]
include = ["*.py", "*.pyi"]
exclude = ["generated"]
extend-exclude = ["legacy/"]
select = ["aws", "gcp-storage-upload"]
ignore = ["aws-s3-copy"]
rules = ["team_rules"]
shim-module = "acme.storage"
baseline = "ci/baseline.json"
respect-gitignore = false
force-exclude = true

[tool.cloudshift.per-file-ignores]
"tests/**/*.py" = ["aws"]
"scripts/*.py" = ["gcp", "azure"]
"""


def test_defaults_without_configuration(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    assert settings == Settings(root=tmp_path.resolve())
    assert settings.config_file is None
    assert settings.exclude == DEFAULT_EXCLUDE
    assert settings.shim_module == "storage_shim"
    assert settings.respect_gitignore is True
    assert settings.baseline_path == tmp_path.resolve() / ".cloudshift-baseline.json"


def test_every_key_is_read(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", FULL_CONFIG)
    (tmp_path / "team_rules").mkdir()
    settings = load_settings(tmp_path)
    assert settings.config_file == tmp_path / "pyproject.toml"
    assert settings.root == tmp_path.resolve()
    assert settings.include == ("*.py", "*.pyi")
    assert settings.exclude == ("generated",)
    assert settings.extend_exclude == ("legacy/",)
    assert settings.select == ("aws", "gcp-storage-upload")
    assert settings.ignore == ("aws-s3-copy",)
    assert settings.per_file_ignores == (
        ("tests/**/*.py", ("aws",)),
        ("scripts/*.py", ("gcp", "azure")),
    )
    assert settings.rules == (tmp_path.resolve() / "team_rules",)
    assert settings.shim_module == "acme.storage"
    assert settings.baseline_path == tmp_path.resolve() / "ci" / "baseline.json"
    assert settings.respect_gitignore is False
    assert settings.force_exclude is True
    assert settings.warnings == ()


def test_nearest_pyproject_with_the_table_wins(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[tool.cloudshift]\nselect = ["aws"]\n')
    write(tmp_path, "pkg/pyproject.toml", '[project]\nname = "inner"\n')  # no table: skipped
    source = write(tmp_path, "pkg/src/mod.py", "")
    settings = load_settings(source)
    assert settings.config_file == tmp_path / "pyproject.toml"
    assert settings.select == ("aws",)

    write(tmp_path, "pkg/pyproject.toml", '[tool.cloudshift]\nselect = ["gcp"]\n')
    assert load_settings(source).select == ("gcp",)
    assert load_settings(source).root == (tmp_path / "pkg").resolve()


def test_unknown_keys_are_reported_with_file_and_line(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "pyproject.toml",
        '[tool.cloudshift]\nselect = ["aws"]\n\nexclud = ["x"]\n"fail-on" = 3\n',
    )
    settings = load_settings(tmp_path)
    assert settings.warnings == (
        f"{config}:4: unknown key 'exclud' in [tool.cloudshift] (ignored)",
        f"{config}:5: unknown key 'fail-on' in [tool.cloudshift] (ignored)",
    )
    assert settings.select == ("aws",)


@pytest.mark.parametrize(
    ("body", "line", "expected"),
    [
        ('select = "aws"\n', 2, "'select' must be a list of strings, got 'aws'"),
        ("\n\nignore = [1, 2]\n", 4, "'ignore' must be a list of strings"),
        ('respect-gitignore = "yes"\n', 2, "'respect-gitignore' must be true or false"),
        ('shim-module = "storage shim"\n', 2, "'shim-module' must be a dotted module name"),
        ('rules = ["nowhere"]\n', 2, "'rules': rule folder 'nowhere' does not exist"),
        ("baseline = 3\n", 2, "'baseline' must be a non-empty string, got 3"),
        ('per-file-ignores = ["x"]\n', 2, "'per-file-ignores' must be a table"),
        (
            'select = ["aws"]\n\n[tool.cloudshift.per-file-ignores]\n"tests/*" = "aws"\n',
            5,
            "'per-file-ignores.tests/*' must be a list of strings",
        ),
        ('include = ["*.py"]\nexclude = [\n  "build",\n  7,\n]\n', 3, "'exclude' must be a list"),
    ],
)
def test_bad_values_name_file_line_and_problem(tmp_path: Path, body: str, line: int, expected: str) -> None:
    config = write(tmp_path, "pyproject.toml", "[tool.cloudshift]\n" + body)
    with pytest.raises(ConfigError) as raised:
        load_settings(tmp_path)
    assert raised.value.path == config
    assert raised.value.line == line
    assert str(raised.value).startswith(f"{config}:{line}: ")
    assert expected in str(raised.value)


def test_dotted_keys_under_tool_are_found(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[tool]\ncloudshift.select = "aws"\n')
    with pytest.raises(ConfigError) as raised:
        load_settings(tmp_path)
    assert raised.value.line == 2


def test_invalid_toml_reports_its_line(tmp_path: Path) -> None:
    config = write(tmp_path, "pyproject.toml", '[tool.cloudshift]\nselect = ["aws"\nignore = []\n')
    with pytest.raises(ConfigError) as raised:
        load_settings(tmp_path)
    assert raised.value.path == config
    assert raised.value.line in (2, 3)  # where tomllib notices the unclosed array
    assert "invalid TOML" in str(raised.value)


def test_table_that_is_not_a_table(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n[tool]\ncloudshift = 1\n')
    with pytest.raises(ConfigError, match=r"pyproject.toml:4: \[tool.cloudshift\] must be a table"):
        load_settings(tmp_path)


@pytest.mark.parametrize(
    ("selector", "rule", "matches"),
    [
        ("aws-s3-put-object", "aws-s3-put-object", True),
        ("aws", "aws-s3-put-object", True),
        ("aws-s3", "aws-s3-put-object", True),
        ("AWS-S3", "aws-s3-put-object", True),
        ("aws-s", "aws-s3-put-object", False),
        ("gcp", "aws-s3-put-object", False),
        ("all", "oci-os-put-object", True),
        ("aws-s3-put-object-acl", "aws-s3-put-object", False),
    ],
)
def test_rule_selectors_match_whole_id_segments(selector: str, rule: str, matches: bool) -> None:
    assert rule_matches(selector, rule) is matches


def test_select_ignore_and_per_file_ignores(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", FULL_CONFIG)
    (tmp_path / "team_rules").mkdir()
    settings = load_settings(tmp_path)
    app = tmp_path / "app.py"
    assert settings.allows("aws-s3-put-object", app)
    assert not settings.allows("aws-s3-copy", app)  # ignored
    assert not settings.allows("azure-blob-upload", app)  # not selected
    assert settings.allows("gcp-storage-upload", app)
    assert not settings.allows("aws-s3-put-object", tmp_path / "tests" / "unit" / "test_x.py")
    assert settings.allows("gcp-storage-upload", tmp_path / "tests" / "unit" / "test_x.py")
    assert not settings.allows("gcp-storage-upload", tmp_path / "scripts" / "sync.py")
    assert settings.allows("aws-s3-put-object", tmp_path / "scripts" / "sync.py")


def test_per_file_ignores_take_paths_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "pyproject.toml", '[tool.cloudshift.per-file-ignores]\n"tests/*" = ["aws"]\n')
    settings = load_settings(tmp_path)
    (tmp_path / "tests").mkdir()
    monkeypatch.chdir(tmp_path / "tests")
    assert settings.ignored_in_file("aws-s3-get-object", Path("test_io.py"))
    assert not settings.ignored_in_file("aws-s3-get-object", Path("../app.py"))


def test_command_line_overrides(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", FULL_CONFIG)
    (tmp_path / "team_rules").mkdir()
    (tmp_path / "more_rules").mkdir()
    settings = load_settings(tmp_path).with_overrides(
        select=("oci",),
        ignore=("oci-os-copy",),
        extra_rules=(tmp_path / "more_rules",),
        baseline=tmp_path / "other.json",
        respect_gitignore=True,
    )
    assert settings.select == ("oci",)  # replaces
    assert settings.ignore == ("aws-s3-copy", "oci-os-copy")  # adds
    assert settings.rules == (tmp_path.resolve() / "team_rules", tmp_path.resolve() / "more_rules")
    assert settings.baseline_path == (tmp_path / "other.json").resolve()
    assert settings.respect_gitignore is True
    assert settings.force_exclude is True  # untouched when not given
    unchanged = load_settings(tmp_path)
    assert unchanged.with_overrides() == unchanged
