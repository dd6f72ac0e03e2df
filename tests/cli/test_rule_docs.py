"""Rule pages: generated from the YAML and the golden fixtures, committed, and kept up to date."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from cloudshift.golden import find_cases
from cloudshift.model import Safety
from cloudshift.ruledocs import GENERATED, INDEX, write_docs
from cloudshift.rules.ruleset import RuleSet, load_rules

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs" / "rules"
FIXTURES = REPO / "fixtures"
REGENERATE = "run `cloudshift rules docs -o docs/rules` and commit the result"


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return load_rules()


def cloudshift(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "cloudshift", *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)


def code_blocks(text: str) -> list[str]:
    return [block + "\n" for block in re.findall(r"^```python\n(.*?)\n```$", text, re.M | re.S)]


def test_committed_rule_pages_are_what_the_generator_writes(ruleset: RuleSet, tmp_path: Path) -> None:
    write_docs(ruleset, FIXTURES, tmp_path)
    generated = {path.name: path.read_text(encoding="utf-8") for path in tmp_path.glob("*.md")}
    committed = {path.name: path.read_text(encoding="utf-8") for path in DOCS.glob("*.md")}
    assert sorted(committed) == sorted(generated), REGENERATE
    stale = [name for name in generated if committed[name] != generated[name]]
    assert stale == [], f"{len(stale)} pages are out of date ({', '.join(stale[:5])}): {REGENERATE}"


def test_every_rule_has_a_page_with_every_section(ruleset: RuleSet) -> None:
    assert len(list(DOCS.glob("*.md"))) == len(ruleset.rules) + 1
    for rule in ruleset.rules:
        page = (DOCS / f"{rule.id}.md").read_text(encoding="utf-8")
        headings = re.findall(r"^## (.+)$", page, re.M)
        assert headings == ["What it finds", "Why it matters", "Example", "Fix safety"], rule.id
        assert f"**Best fix:** {rule.best_safety.value}" in page
        assert rule.message in page
        assert f"[{rule.id}]({rule.id}.md)" in (DOCS / INDEX).read_text(encoding="utf-8")


def test_the_example_is_the_fixture_itself(ruleset: RuleSet) -> None:
    """Before and after are input.py and expected.py of a fixture of that very rule, byte for byte."""
    for rule in ruleset.rules:
        page = (DOCS / f"{rule.id}.md").read_text(encoding="utf-8")
        case_name = re.search(rf"From `fixtures/{re.escape(rule.id)}/([^/`]+)/`", page)
        assert case_name, rule.id
        case = next(c for c in find_cases(FIXTURES, rule.id) if c.rule == rule.id and c.name == case_name[1])
        assert not case.name.startswith("negative")
        before = (case.directory / "input.py").read_text(encoding="utf-8")
        after = (case.directory / "expected.py").read_text(encoding="utf-8")
        blocks = code_blocks(page.split("## Example")[1].split("## Fix safety")[0])
        assert blocks == ([before] if before == after else [before, after]), rule.id


def test_fix_safety_lists_each_variant_with_its_template_and_reasons(ruleset: RuleSet) -> None:
    rule = ruleset.rule("aws-s3-put-object")
    page = (DOCS / "aws-s3-put-object.md").read_text(encoding="utf-8")
    safety = page.split("## Fix safety")[1]
    for number, variant in enumerate(rule.fixes, 1):
        assert f"{number}. **{variant.safety.value}**" in safety
        assert f"   {variant.template.text}\n" in safety
        for param, dropped in variant.drop.items():
            assert f"- `{param}` ({dropped.safety.value}): {dropped.reason}" in safety
    assert f"When no variant applies, the fix is **manual**: {rule.manual}" in safety
    assert "2. **safe** when the call's result is not used; the call passes `Bucket`, `Key` and `Body`." in safety
    manual = (DOCS / "aws-s3-client-other.md").read_text(encoding="utf-8")
    assert "The code is left as it is: the fix is manual." in manual
    assert f"- **{Safety.SAFE.value}**" not in manual.split("## Fix safety")[1]


def test_write_docs_replaces_generated_pages_of_removed_rules_and_keeps_others(
    ruleset: RuleSet, tmp_path: Path
) -> None:
    (tmp_path / "aws-s3-gone.md").write_text(f"{GENERATED} from rules/aws_s3.yaml -->\n# gone\n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("# Our notes on the rules\n", encoding="utf-8")
    written = write_docs(ruleset, FIXTURES, tmp_path)
    assert len(written) == len(ruleset.rules) + 1
    assert not (tmp_path / "aws-s3-gone.md").exists()
    assert (tmp_path / "notes.md").read_text(encoding="utf-8") == "# Our notes on the rules\n"


def test_rules_docs_command_writes_the_pages(ruleset: RuleSet, tmp_path: Path) -> None:
    result = cloudshift("rules", "docs", "-o", str(tmp_path / "pages"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Wrote {len(ruleset.rules) + 1} pages to {tmp_path / 'pages'}.\n"
    assert (tmp_path / "pages" / "gcs-blob-download-as-text.md").read_text(encoding="utf-8") == (
        DOCS / "gcs-blob-download-as-text.md"
    ).read_text(encoding="utf-8")


def test_explain_prints_the_page() -> None:
    result = cloudshift("rules", "explain", "azure-blob-upload-blob")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (DOCS / "azure-blob-upload-blob.md").read_text(encoding="utf-8")


def test_explain_an_unknown_rule_suggests_near_ones() -> None:
    result = cloudshift("rules", "explain", "aws-s3-put-objects")
    assert result.returncode == 2
    assert result.stderr.startswith(
        "cloudshift: error: unknown rule 'aws-s3-put-objects'; did you mean aws-s3-put-object"
    )
    assert result.stdout == ""


def test_explain_without_fixtures_says_where_the_example_is(tmp_path: Path) -> None:
    empty = tmp_path / "fixtures"
    empty.mkdir()
    result = cloudshift("rules", "explain", "oci-os-put-object", "--fixtures", str(empty))
    assert result.returncode == 0, result.stderr
    assert "No golden fixture was found for this rule" in result.stdout
    assert "## Fix safety" in result.stdout
