"""How much of the traced SDK use plain `cloudshift fix` rewrites in real packages, and that it breaks nothing.

    python benchmarks/fix_rate.py                      # every ground-truth package
    python benchmarks/fix_rate.py --package s3fs --package smart_open --left

For each truth file in benchmarks/recall/truth/ the pinned distribution is fetched and unpacked
by recall.py's own loader (once, into --cache), copied to a scratch folder, scanned, and fixed
with plain `cloudshift fix` (no --unsafe-fixes) through the real command line. Per package:

- found: traced sites the scan reports (recall.py's matching: a finding on the site's line);
- fixed: found sites whose finding the scan labels `safe` in a file the fix then changed, which
  is exactly what plain `fix` applies (a safe fix is one whose behaviour is unchanged);
- unparsable: changed files that no longer parse (must be 0), and byte-compile failures of
  every changed file (`compile()` on the text, never executed);
- profiles: the storage profile file the fix wrote, and how many entries it holds.

The figures are reported, never asserted: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import ast
import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from recall import TRUTH, Site, Truth, fetch, judge, load_truth

PROFILE_FILES = ("cloudshift-storage.toml", "pyproject.toml")


@dataclass
class Rate:
    package: str
    sites: int = 0
    found: int = 0
    fixed: int = 0
    changed_files: int = 0
    unparsable: list[str] = field(default_factory=list)
    uncompilable: list[str] = field(default_factory=list)
    profiles: int = 0
    left: Counter[str] = field(default_factory=Counter)  # why found sites were not fixed


def cloudshift(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "cloudshift", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def scan(root: Path) -> list[dict[str, object]]:
    done = cloudshift("scan", "--format", "json", "--no-cache", "--exit-zero", "--max-file-size", "0", ".", cwd=root)
    if done.returncode not in (0, 2) or not done.stdout:  # 2: some files reported errors; the rest still count
        raise SystemExit(f"cloudshift scan failed in {root} ({done.returncode}):\n{done.stderr[-3000:]}")
    return list(json.loads(done.stdout)["findings"])


def copy_distribution(original: Path, copy: Path) -> None:
    """A copy to fix, without .gitignore files: recall.py scans with --no-gitignore and fix has no such flag."""
    shutil.copytree(original, copy, symlinks=True)
    for ignore_file in copy.rglob(".gitignore"):
        ignore_file.unlink()


def fix(root: Path) -> None:
    """Plain `cloudshift fix` (no --unsafe-fixes) of everything under `root`, through the command line."""
    done = cloudshift("fix", "--exit-zero", "--max-file-size", "0", ".", cwd=root)
    if done.returncode not in (0, 2):  # 2: some files reported errors; the others were still fixed
        raise SystemExit(f"cloudshift fix failed in {root} ({done.returncode}):\n{done.stderr[-3000:]}")


def python_files(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*.py") if path.is_file()}


def measure(truth: Truth, original: Path, scratch: Path) -> Rate:
    """Scan and fix a copy of the distribution; compare what the fix changed with the traced sites."""
    copy = scratch / original.name
    copy_distribution(original, copy)
    findings = scan(copy)
    outcome = judge(truth, findings)
    before = python_files(copy)
    fix(copy)
    after = python_files(copy)
    changed = sorted(name for name in after if after[name] != before.get(name))
    rate = Rate(truth.package, len(truth.sites), len(outcome.found), changed_files=len(changed))
    for site in outcome.found:
        finding = _finding_of(site, findings)
        if finding["fix"] == "safe" and site.path in changed:
            rate.fixed += 1
        else:
            rate.left[f"[{finding['fix']}] {finding.get('reason') or finding['message']}"] += 1
    for name in changed:
        text = after[name].decode("utf-8", errors="surrogateescape")
        try:
            ast.parse(text, filename=name)
        except SyntaxError:
            rate.unparsable.append(name)
        try:
            compile(text, name, "exec", dont_inherit=True)
        except (SyntaxError, ValueError):
            rate.uncompilable.append(name)
    rate.profiles = _profile_entries(copy)
    return rate


def _finding_of(site: Site, findings: list[dict[str, object]]) -> dict[str, object]:
    """The finding recall.py matched to a found site (one on its line first)."""
    on_line = [f for f in findings if f["path"] == site.path and f["line"] == site.line]
    spanning = [
        f
        for f in findings
        if f["path"] == site.path
        and int(f["line"]) <= site.line <= int(f["end_line"])  # type: ignore[call-overload]
        and site.call in str(f.get("snippet", ""))
    ]
    return (on_line or spanning)[0]


def _profile_entries(root: Path) -> int:
    """How many `[profiles.NAME]` tables the fix wrote at the distribution's top."""
    return sum(
        line.strip().startswith(("[profiles.", "[tool.cloudshift.storage.profiles."))
        for name in PROFILE_FILES
        if (root / name).is_file()
        for line in (root / name).read_text(encoding="utf-8").splitlines()
    )


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "    -"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--truth", type=Path, default=TRUTH)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/cloudshift-recall"))
    parser.add_argument("--package", action="append", help="only these packages")
    parser.add_argument("--left", action="store_true", help="list why found sites were not fixed, by reason")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    truths = [load_truth(path) for path in sorted(args.truth.glob("*.yaml"))]
    truths = [t for t in truths if not args.package or t.package in args.package]
    rates: list[Rate] = []
    print(f"{'package':<44} {'sites':>5} {'found':>5} {'fixed':>5} {'rate':>6}  files  unparsable  compile  profiles")
    for truth in truths:
        with tempfile.TemporaryDirectory(prefix="fix-rate-") as scratch:
            rate = measure(truth, fetch(truth, args.cache), Path(scratch))
        rates.append(rate)
        print(
            f"{rate.package:<44} {rate.sites:>5} {rate.found:>5} {rate.fixed:>5} {percent(rate.fixed, rate.found)}"
            f"  {rate.changed_files:>5}  {len(rate.unparsable):>10}  {len(rate.uncompilable):>7}  {rate.profiles:>8}",
            flush=True,
        )
        for name in rate.unparsable + rate.uncompilable:
            print(f"    BROKEN {name}")
        if args.left:
            for reason, count in rate.left.most_common():
                print(f"    left {count:>3} {reason[:150]}")
    found, fixed = sum(r.found for r in rates), sum(r.fixed for r in rates)
    broken = sum(len(r.unparsable) + len(r.uncompilable) for r in rates)
    changed = sum(r.changed_files for r in rates)
    print(f"\n{len(rates)} packages: {fixed}/{found} found sites fixed by plain `fix` ({percent(fixed, found)}),")
    print(f"{changed} files changed, {broken} unparsable or uncompilable")
    reasons: Counter[str] = Counter()
    for rate in rates:
        reasons.update(rate.left)
    print("most common reasons a found site was left:")
    for reason, count in reasons.most_common(12):
        print(f"  {count:>4} {reason[:160]}")


if __name__ == "__main__":
    main()
