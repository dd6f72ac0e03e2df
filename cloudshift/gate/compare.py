"""The CI gate: of a scan's findings, keep those that are new, and keep the baseline current.

Order matters. The engine has already dropped suppressed findings and rules the settings turn
off. The baseline is compared against every remaining finding of each scanned file (occurrence
indexes count all of them), and only then are findings narrowed to the lines changed since
`--diff-base`, so both options combine.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from cloudshift.config import Settings
from cloudshift.engine.suppress import UnusedSuppression, apply_suppressions
from cloudshift.gate.baseline import (
    compare,
    in_scope,
    load_baseline,
    update_baseline,
    write_baseline,
)
from cloudshift.gate.gitdiff import changed_lines, find_repo_root, on_changed_lines
from cloudshift.gate.report import BaselineOutcome, Report, plural
from cloudshift.model import Finding


def only_new(
    report: Report,
    settings: Settings,
    *,
    baseline_file: Path | None = None,
    diff_base: str | None = None,
    paths: Sequence[Path] = (),
) -> Report:
    """The report narrowed to findings that fail the gate.

    Raises BaselineError or GitError (exit 2 in the CLI) when the baseline or git cannot be
    used: a gate that cannot tell old from new must not pass.
    """
    if baseline_file is not None:
        report = _against_baseline(report, settings, baseline_file)
    if diff_base is not None:
        report = _on_changed_lines(report, diff_base, paths)
    return report


def _against_baseline(report: Report, settings: Settings, baseline_file: Path) -> Report:
    baseline = load_baseline(baseline_file)
    scanned = [Path(path) for path in report.files_scanned]
    result = compare(report.findings, baseline, in_scope(baseline, scanned, settings.allows))
    outcome = BaselineOutcome(str(baseline_file), len(result.existing), tuple(result.fixed))
    return replace(report, findings=result.new, baseline=outcome)


def _on_changed_lines(report: Report, diff_base: str, paths: Sequence[Path]) -> Report:
    repo = find_repo_root(paths[0] if paths else Path.cwd())
    changes = changed_lines(repo, diff_base, paths)
    return replace(report, findings=on_changed_lines(report.findings, changes, repo), diff_base=diff_base)


def save_baseline(report: Report, settings: Settings, output: Path, *, update: bool = False) -> str:
    """Write (or, with `update`, shrink) the baseline; returns the line to tell the user.

    `update` drops entries fixed since, refreshes line numbers and never adds a finding:
    accepting new findings is a deliberate full rewrite (without `update`).
    """
    if not update or not output.exists():
        written = write_baseline(output, report.findings)
        return f"Wrote {plural(len(written.entries), 'finding')} to {output}."
    baseline = load_baseline(output)
    scanned = [Path(path) for path in report.files_scanned]
    updated, result = update_baseline(baseline, report.findings, in_scope(baseline, scanned, settings.allows))
    message = (
        f"Updated {output}: {plural(len(result.fixed), 'fixed finding')} dropped, "
        f"{plural(len(updated.entries), 'finding')} kept."
    )
    if result.new:
        message += (
            f" {plural(len(result.new), 'new finding')} not added: fix them, or accept them "
            f"with `cloudshift baseline -o {output}`."
        )
    return message


def unused_suppressions(
    path: str, source: str | None, findings: Iterable[Finding]
) -> list[tuple[str, UnusedSuppression]]:
    """One file's suppressions that matched none of its findings (kept and suppressed alike).

    A file the prefilter skipped has no findings, so every suppression in it is unused.
    """
    if not source or "cloudshift" not in source:
        return []
    _, _, unused = apply_suppressions(findings, source)
    return [(path, item) for item in unused]
