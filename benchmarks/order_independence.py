"""Whether a file's findings depend on which files were checked before it, in real packages.

    python benchmarks/order_independence.py --package s3fs --package oci-cli
    python benchmarks/order_independence.py            # every ground-truth package (slow: see below)

A scan's worker processes each check many files with one resolver, which keeps its answers
between files, and which files a worker gets depends on timing. So every finding (its line, rule,
fix safety, reason and confidence) must come out the same whatever the order. For each truth
file's pinned distribution (fetched by recall.py's loader), the candidate files are checked three
ways: in path order with one resolver, in reverse order with one resolver, and each with a
resolver of its own (the slow part: nothing is reused). Every difference is printed; the exit
status is 1 when there is any. Nothing is imported from or run in the packages.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from recall import TRUTH, fetch, load_truth

from cloudshift.api import Engine, Project, Workspace
from cloudshift.config import load_settings

Outcome = frozenset[tuple[int, str, str, str, str]]  # line, rule, fix safety, reason, confidence


def check_all(engine: Engine, project: Project, order: list[Path], fresh: bool) -> dict[Path, Outcome]:
    """Each file's findings, checked in `order`; with `fresh`, each by a resolver that has answered nothing yet."""
    found = {}
    project.forget_answers()
    for path in order:
        if fresh:
            project.forget_answers()
        result = engine.check_source(str(path), project.texts[path])
        found[path] = frozenset((f.line, f.rule, f.fix.value, f.reason, f.confidence.value) for f in result.findings)
    return found


def differences(root: Path, first: dict[Path, Outcome], second: dict[Path, Outcome], how: str) -> list[str]:
    lines = []
    for path in sorted(first):
        shown = path.relative_to(root)
        for label, only in (("in path order", first[path] - second[path]), (how, second[path] - first[path])):
            lines.extend(f"    only {label}: {shown}:{finding[0]} {finding[1:]}" for finding in sorted(only))
    return lines


def run(root: Path, report: Callable[[str], None]) -> bool:
    """Check the package at `root` three ways; whether all three agree."""
    root = root.resolve()
    workspace = Workspace.load(Engine.create(load_settings(root)), root)  # what `cloudshift scan ROOT` reads
    engine, project = workspace.engine, workspace.project
    files = sorted(workspace.candidates())
    start = time.perf_counter()
    forward = check_all(engine, project, files, fresh=False)
    backward = check_all(engine, project, files[::-1], fresh=False)
    alone = check_all(engine, project, files, fresh=True)
    found = sum(len(outcome) for outcome in forward.values())
    lines = differences(root, forward, backward, "in reverse order")
    lines += differences(root, forward, alone, "each checked alone")
    seconds = time.perf_counter() - start
    report(f"{root.name:<44} {len(files):6} files {found:5} findings {len(lines):3} differences {seconds:7.1f} s")
    for line in lines:
        report(line)
    return not lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--truth", type=Path, default=TRUTH)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/cloudshift-recall"))
    parser.add_argument("--package", action="append", help="only these packages")
    args = parser.parse_args()
    truths = [load_truth(path) for path in sorted(args.truth.glob("*.yaml"))]
    chosen = [t for t in truths if not args.package or t.package in args.package]
    if not chosen:
        sys.exit(f"no truth file for {args.package}")
    agreed = [run(fetch(truth, args.cache), lambda line: print(line, flush=True)) for truth in chosen]
    print(f"{sum(agreed)}/{len(agreed)} packages give the same findings in every order")
    sys.exit(0 if all(agreed) else 1)


if __name__ == "__main__":
    main()
