"""Run real packages' own tests before and after plain `cloudshift fix`: the fix must not break them.

    python benchmarks/own_suites.py                      # every suite below
    python benchmarks/own_suites.py --suite papermill

For each suite the pinned distribution is fetched by recall.py's loader and copied twice: as
published, and after plain `cloudshift fix` (no --unsafe-fixes) run at its top, which also writes
the storage profile file there. A virtual environment is made once under --cache with the
suite's requirements from the package index and this checkout's storage_shim; the package
itself is uninstalled again, so the copies' code is what the tests import. The same tests run
on both copies and their pass counts are printed side by side with the files the fix changed.

A suite is chosen because its tests run code the fix rewrites; the suites are data below.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fix_rate import copy_distribution, fix, python_files
from recall import TRUTH, fetch, load_truth

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Suite:
    package: str  # as in benchmarks/recall/truth/
    requirements: tuple[str, ...]  # the package with its extras, and what its tests import
    tests: tuple[str, ...]  # pytest arguments, relative to `folder`
    folder: str = "."  # where pytest runs (its ini file), relative to the distribution's top
    paths: tuple[str, ...] = (".",)  # import roots, relative to the distribution's top


SUITES = (
    Suite(
        "papermill",
        ("papermill[s3,azure,gcs]", "moto", "pytest", "pytest-mock", "ipykernel", "black"),
        ("papermill/tests",),
    ),
    Suite(
        "label-studio",  # Django; its S3 tests use moto 4's mock_s3 and pytest-django's older marks
        (
            "label-studio",
            "pytest<8.4",
            "pytest-django<4.10",
            "pytest-env",
            "moto<5",
            "mock",
            "freezegun",
            "factory_boy",
            "requests_mock",
            "fakeredis",
            "ujson",
        ),
        ("io_storages/tests",),
        folder="label_studio",
        paths=(".", "label_studio"),
    ),
)

SUMMARY = re.compile(r"(\d+) (passed|failed|errors?|skipped)")


def environment(suite: Suite, version: str, cache: Path) -> Path:
    """A virtual environment with the suite's requirements (the package pinned) and storage_shim, made once."""
    venv = cache / f"venv-{suite.package}-{version}"
    python = venv / "bin" / "python"
    if python.exists():
        return python
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pinned = [f"{r}=={version}" if r.split("[")[0] == suite.package else r for r in suite.requirements]
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, *pinned], check=True)
    subprocess.run([*pip, "--no-deps", str(REPO)], check=True)  # storage_shim, which the fixed code imports
    subprocess.run([str(python), "-m", "pip", "uninstall", "--quiet", "--yes", suite.package], check=True)
    return python


def run_tests(python: Path, suite: Suite, top: Path) -> dict[str, int]:
    """pytest's final counts for the suite run on the copy at `top`."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(top / p) for p in suite.paths)}
    command = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *suite.tests]
    done = subprocess.run(command, cwd=top / suite.folder, env=env, capture_output=True, text=True, check=False)
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:]
    counts = {word.rstrip("s") if word.startswith("error") else word: int(n) for n, word in SUMMARY.findall(last)}
    if not counts:
        raise SystemExit(f"{suite.package}: pytest did not run ({done.returncode}): {last}")
    return counts


def fixed_files(top: Path) -> list[str]:
    """Plain `cloudshift fix` at the copy's top; the Python files it changed."""
    before = python_files(top)
    fix(top)
    return sorted(name for name, text in python_files(top).items() if text != before.get(name))


def shown(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts.get(word, 0)} {word}" for word in ("passed", "failed", "error", "skipped"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/cloudshift-recall"))
    parser.add_argument("--suite", action="append", help="only these packages")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    truths = {t.package: t for t in map(load_truth, sorted(TRUTH.glob("*.yaml")))}
    for suite in SUITES:
        if args.suite and suite.package not in args.suite:
            continue
        truth = truths[suite.package]
        python = environment(suite, truth.version, args.cache)
        published = fetch(truth, args.cache)
        with tempfile.TemporaryDirectory(prefix="cloudshift-suite-") as scratch:
            before, after = Path(scratch) / "before", Path(scratch) / "after"
            for copy in (before, after):
                copy_distribution(published, copy)
            changed = fixed_files(after)
            print(f"{suite.package} {truth.version}: pytest {' '.join(suite.tests)}")
            print(f"  files the fix changed: {len(changed)}: {', '.join(changed) or '-'}")
            print(f"  as published: {shown(run_tests(python, suite, before))}")
            print(f"  after fix:    {shown(run_tests(python, suite, after))}")


if __name__ == "__main__":
    main()
