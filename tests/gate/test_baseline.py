"""The baseline: fingerprints that survive moved code, a stable file, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloudshift.gate.baseline import (
    VERSION,
    BaselineError,
    canonical_call_text,
    compare,
    in_scope,
    load_baseline,
    update_baseline,
    write_baseline,
)
from cloudshift.model import Finding

from .helpers import make_finding

PUT = 's3.put_object(Bucket="b", Key="k", Body=b"")'
GET = 's3.get_object(Bucket="b", Key="k")'


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def original() -> list[Finding]:
    return [
        make_finding("app.py", 10, 5, "aws-s3-put-object", PUT),
        make_finding("app.py", 20, 5, "aws-s3-get-object", GET),
        make_finding("app.py", 30, 5, "aws-s3-get-object", GET),  # the same call, twice
        make_finding("lib/store.py", 3, 1, "aws-s3-put-object", PUT),
    ]


def test_written_file_is_versioned_sorted_and_readable(project: Path) -> None:
    findings = original()
    baseline = write_baseline(project / "baseline.json", reversed(findings))
    document = json.loads((project / "baseline.json").read_text())
    assert document["version"] == VERSION
    assert [(e["path"], e["line"], e["rule"]) for e in document["findings"]] == [
        ("app.py", 10, "aws-s3-put-object"),
        ("app.py", 20, "aws-s3-get-object"),
        ("app.py", 30, "aws-s3-get-object"),
        ("lib/store.py", 3, "aws-s3-put-object"),
    ]
    assert document["findings"][0]["snippet"] == PUT
    assert len({entry["fingerprint"] for entry in document["findings"]}) == 4
    assert load_baseline(project / "baseline.json") == baseline
    first = (project / "baseline.json").read_bytes()
    write_baseline(project / "baseline.json", findings)
    assert (project / "baseline.json").read_bytes() == first  # input order does not matter
    assert first.endswith(b"}\n") and b'\n  "findings": [\n    {\n' in first


def test_moved_code_is_still_known(project: Path) -> None:
    baseline = write_baseline(project / "baseline.json", original())
    moved = [
        make_finding("app.py", 110, 9, "aws-s3-put-object", PUT),
        make_finding("app.py", 4, 1, "aws-s3-get-object", GET),
        make_finding("app.py", 70, 1, "aws-s3-get-object", GET),
        make_finding("lib/store.py", 300, 13, "aws-s3-put-object", PUT),
    ]
    result = compare(moved, baseline)
    assert (result.new, result.existing, result.fixed) == ([], sorted_(moved), [])


def sorted_(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.path, f.span, f.rule))


def test_a_second_identical_call_is_new(project: Path) -> None:
    baseline = write_baseline(project / "baseline.json", original())
    extra = make_finding("app.py", 40, 5, "aws-s3-get-object", GET)
    result = compare([*original(), extra], baseline)
    assert result.new == [extra]
    assert len(result.existing) == 4
    assert result.fixed == []


def test_changed_call_is_new_and_the_old_one_fixed(project: Path) -> None:
    baseline = write_baseline(project / "baseline.json", original())
    edited = make_finding("app.py", 10, 5, "aws-s3-put-object", PUT.replace('"k"', '"k2"'))
    result = compare([edited, *original()[1:]], baseline)
    assert result.new == [edited]
    assert [(entry.path, entry.line, entry.snippet) for entry in result.fixed] == [("app.py", 10, PUT)]


def test_paths_are_relative_to_the_baseline_folder(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    baseline = write_baseline(project / "baseline.json", original())
    (project / "lib").mkdir()
    monkeypatch.chdir(project / "lib")
    from_lib = [make_finding("store.py", 3, 1, "aws-s3-put-object", PUT)]
    result = compare(from_lib, baseline, in_scope(baseline, [Path("store.py")]))
    assert result.new == []
    assert result.existing == from_lib
    assert result.fixed == []


def test_scope_keeps_unscanned_files_and_rules_out_of_fixed(project: Path) -> None:
    baseline = write_baseline(project / "baseline.json", original())
    only_app_puts = in_scope(
        baseline,
        [Path("app.py"), Path("lib/store.py")],
        lambda rule, file: rule == "aws-s3-put-object" and file.name == "app.py",
    )
    assert compare([], baseline, only_app_puts).fixed == [baseline.entries[0]]
    assert len(compare([], baseline).fixed) == 4


def test_update_drops_fixed_refreshes_lines_and_adds_nothing(project: Path) -> None:
    baseline = write_baseline(project / "baseline.json", original())
    now = [
        make_finding("app.py", 12, 5, "aws-s3-put-object", PUT),  # moved
        make_finding("app.py", 22, 5, "aws-s3-get-object", GET),  # one GET fixed
        make_finding("app.py", 50, 1, "aws-s3-delete-object", "s3.delete_object()"),  # new
    ]
    updated, result = update_baseline(baseline, now, in_scope(baseline, [Path("app.py")]))
    assert [(e.path, e.line, e.rule) for e in updated.entries] == [
        ("app.py", 12, "aws-s3-put-object"),
        ("app.py", 22, "aws-s3-get-object"),
        ("lib/store.py", 3, "aws-s3-put-object"),  # not scanned this time: kept as it was
    ]
    assert load_baseline(project / "baseline.json") == updated
    assert [entry.line for entry in result.fixed] == [30]
    assert [finding.rule for finding in result.new] == ["aws-s3-delete-object"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"version": 1, "findings": [\n  {"fingerprint": }\n]}', r"json:2: not valid JSON"),
        ('{"findings": []}', r"not a cloudshift baseline"),
        ('{"version": 99, "findings": []}', r"baseline version 99 is not supported"),
        ('{"version": 1, "findings": {}}', r"'findings' must be a list"),
        ('{"version": 1, "findings": [3]}', r"findings\[0\] must be an object"),
        (
            '{"version": 1, "findings": [{"fingerprint": "f", "rule": "r", "path": "p", "line": "7", "snippet": ""}]}',
            r"findings\[0\].line must be an integer, got '7'",
        ),
    ],
)
def test_malformed_baselines_name_the_file(project: Path, content: str, message: str) -> None:
    (project / "baseline.json").write_text(content)
    with pytest.raises(BaselineError, match=message) as raised:
        load_baseline(project / "baseline.json")
    assert str(raised.value).startswith(str(project / "baseline.json"))


def test_missing_baseline_says_how_to_create_it(project: Path) -> None:
    with pytest.raises(BaselineError, match=r"not found \(create it with `cloudshift baseline -o"):
        load_baseline(project / "nope.json")


def test_reformatting_keeps_fingerprints(project: Path) -> None:
    baseline = write_baseline(project / "baseline.json", original())
    reformatted = [
        make_finding("app.py", 10, 5, "aws-s3-put-object", "s3.put_object( Bucket='b', Key='k', Body=b'', )"),
        make_finding("app.py", 20, 5, "aws-s3-get-object", 's3.get_object(Bucket="b",Key="k")'),
        make_finding("app.py", 30, 5, "aws-s3-get-object", GET),
        make_finding("lib/store.py", 3, 1, "aws-s3-put-object", PUT),
    ]
    result = compare(reformatted, baseline)
    assert (len(result.new), len(result.existing), result.fixed) == (0, 4, [])


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ('f(a, "x")', "f( a , 'x' , )", True),
        ("f(a)", "f(b)", False),
        ('f("x")', 'f("x ")', False),
        ("s3.get_object(Bucket=b, Key=k)", "s3.get_object(Key=k, Bucket=b)", False),
        ("f(a, # unfinished", "f(a, # unfinished", True),  # not tokenizable: used as it is
    ],
)
def test_canonical_call_text(first: str, second: str, same: bool) -> None:
    assert (canonical_call_text(first) == canonical_call_text(second)) is same


def test_canonical_text_is_pinned_across_python_versions() -> None:
    """Python 3.12 tokenizes f-strings in parts; the canonical text must not change with it."""
    assert canonical_call_text("f(f'a{b!r:>{w}}' 'c', Key=rf\"\\d{x}\",)") == (
        'f ( f"a{b!r:>{w}}" "c" , Key = rf"\\d{x}" )'
    )
