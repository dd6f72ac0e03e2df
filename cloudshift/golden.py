"""Golden fixtures: `fixtures/<rule-id>/<case>/` holds input.py, expected.py and findings.json
(and profiles.toml: the storage profiles the fix names, when they configure more than a provider
and its defaults).

`cloudshift rules test` and the pytest suite both call `check_case`, so a fixture proves the
same thing wherever it runs: the findings (rule, position, fix safety) and the fixed text,
byte for byte, and that fixing the expected output again changes nothing.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloudshift.api import Engine
from cloudshift.model import ProfileEntry, Safety
from storage_shim.profiles import render_profile_entry

PROFILES_FILE = "profiles.toml"


@dataclass(frozen=True)
class Case:
    rule: str
    name: str
    directory: Path

    @property
    def id(self) -> str:
        return f"{self.rule}/{self.name}"

    @property
    def runnable(self) -> bool:
        return (self.directory / "run.json").is_file()


def find_cases(fixtures: Path, rule_prefix: str = "") -> list[Case]:
    """Every case folder (one holding input.py) below `fixtures`, sorted."""
    cases = []
    for input_file in sorted(fixtures.glob("*/*/input.py")):
        directory = input_file.parent
        rule = directory.parent.name
        if rule.startswith(rule_prefix):
            cases.append(Case(rule, directory.name, directory))
    return cases


def check_case(engine: Engine, case: Case) -> list[str]:
    """What is wrong with one case; an empty list means it passes."""
    problems = _missing_files(case)
    if problems:
        return problems
    source = (case.directory / "input.py").read_text(encoding="utf-8")
    expected = (case.directory / "expected.py").read_text(encoding="utf-8")
    wanted = json.loads((case.directory / "findings.json").read_text(encoding="utf-8"))
    path = str(case.directory / "input.py")
    scanned = engine.check_source(path, source)
    problems += [f"error: {error.message}" for error in scanned.errors]
    found = [{"line": f.line, "column": f.column, "rule": f.rule, "fix": f.fix.value} for f in scanned.findings]
    if _sorted(found) != _sorted(wanted):
        problems.append("findings differ:\n" + _diff(_json_lines(wanted), _json_lines(found), "findings.json", "found"))
    if not any(f["rule"] == case.rule for f in wanted) and not case.name.startswith("negative"):
        problems.append(f"findings.json has no {case.rule} finding; name look-alike cases negative-*")
    fixed = engine.check_source(path, source, fix=Safety.UNSAFE)
    output = fixed.fixed_source if fixed.fixed_source is not None else source
    if output != expected:
        problems.append(
            "fixed output differs:\n"
            + _diff(expected.splitlines(True), output.splitlines(True), "expected.py", "fixed")
        )
    problems += _profile_problems(case, fixed.profiles)
    again = engine.check_source(path, output, fix=Safety.UNSAFE)
    if again.fixed_source is not None and again.fixed_source != output:
        problems.append("not idempotent: fixing the output again changes it")
    return problems


def render_profiles(entries: Sequence[ProfileEntry]) -> str:
    """The storage profiles a fix names, as the profile file's text (what `cloudshift fix` writes)."""
    return "\n".join(render_profile_entry(entry.name, entry.to_json()) for entry in entries)


def _profile_problems(case: Case, entries: Sequence[ProfileEntry]) -> list[str]:
    """profiles.toml holds the profiles the fix names; it may be left out when they set nothing but a
    provider and its defaults (the same in every profile of the provider)."""
    wanted_file = case.directory / PROFILES_FILE
    rendered = render_profiles(entries)
    if not wanted_file.exists():
        configured = [entry.name for entry in entries if entry.settings]
        return [f"{PROFILES_FILE} is missing; the fix names configured profiles {configured}"] if configured else []
    wanted = wanted_file.read_text(encoding="utf-8")
    if wanted == rendered:
        return []
    return [
        f"{PROFILES_FILE} differs:\n" + _diff(wanted.splitlines(True), rendered.splitlines(True), PROFILES_FILE, "fix")
    ]


def _missing_files(case: Case) -> list[str]:
    return [
        f"missing {name}"
        for name in ("input.py", "expected.py", "findings.json")
        if not (case.directory / name).is_file()
    ]


def _sorted(findings: Sequence[Mapping[str, object]]) -> list[tuple[object, ...]]:
    return sorted((f["line"], f["column"], f["rule"], f["fix"]) for f in findings)


def _json_lines(findings: Sequence[Mapping[str, Any]]) -> list[str]:
    return [json.dumps(f, sort_keys=True) + "\n" for f in sorted(findings, key=lambda f: (f["line"], f["column"]))]


def _diff(expected: list[str], actual: list[str], left: str, right: str) -> str:
    return "".join(difflib.unified_diff(expected, actual, left, right))
