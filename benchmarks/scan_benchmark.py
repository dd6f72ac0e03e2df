"""Scan a large real corpus with cloudshift (and Semgrep / ast-grep when installed); print figures.

    bash benchmarks/build_corpus.sh /tmp/cloudshift-corpus
    python benchmarks/scan_benchmark.py /tmp/cloudshift-corpus [--semgrep PATH] [--ast-grep PATH]

Each tool runs as a whole command (start-up included, cloudshift without its result cache) on the
same folder, best of --repeat runs. Speed is reported, never asserted: this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def count_lines(corpus: Path) -> tuple[int, int]:
    files = lines = 0
    for path in corpus.rglob("*.py"):
        if path.is_file():
            files += 1
            with path.open("rb") as handle:
                lines += sum(1 for _ in handle)
    return files, lines


def best_time(command: list[str], repeat: int) -> tuple[float, str]:
    """The fastest of `repeat` runs, and the last run's stdout."""
    best, output = float("inf"), ""
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        best = min(best, time.perf_counter() - start)
        output = done.stdout
        if done.returncode not in (0, 1):
            sys.exit(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()[:2000]}")
    return best, output


def report(tool: str, seconds: float, files: int, lines: int, findings: int) -> None:
    print(
        f"{tool:<10} files={files:<7} lines={lines:<9} seconds={seconds:8.2f} "
        f"lines/s={lines / seconds:10.0f} findings={findings}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=None, help="cloudshift worker processes")
    parser.add_argument("--semgrep", default=shutil.which("semgrep"), help="semgrep executable")
    parser.add_argument("--ast-grep", dest="ast_grep", default=shutil.which("ast-grep"), help="ast-grep executable")
    args = parser.parse_args()
    files, lines = count_lines(args.corpus)

    command = [
        sys.executable,
        "-m",
        "cloudshift",
        "scan",
        "--no-gitignore",
        "--no-cache",
        "--format",
        "json",
        "--exit-zero",
        str(args.corpus),
    ]
    if args.jobs:
        command[3:3] = ["--jobs", str(args.jobs)]
    seconds, output = best_time(command, args.repeat)
    document = json.loads(output)
    report("cloudshift", seconds, files, lines, len(document["findings"]))
    print(f"{'':<10} by provider: {document['summary']['by_provider']}  by fix: {document['summary']['by_fix']}")

    if args.semgrep:
        seconds, output = best_time(
            [
                args.semgrep,
                "scan",
                "--metrics",
                "off",
                "--quiet",
                "--json",
                "--jobs",
                "2",
                "--config",
                str(HERE / "semgrep_s3.yaml"),
                str(args.corpus),
            ],
            args.repeat,
        )
        report("semgrep", seconds, files, lines, len(json.loads(output)["results"]))
    else:
        print("semgrep    not installed (pip install semgrep) - skipped")
    if args.ast_grep:
        seconds, output = best_time(
            [args.ast_grep, "scan", "--json", "--rule", str(HERE / "astgrep_s3.yml"), str(args.corpus)], args.repeat
        )
        report("ast-grep", seconds, files, lines, len(json.loads(output or "[]")))
    else:
        print("ast-grep   not installed (pip install ast-grep-cli) - skipped")


if __name__ == "__main__":
    main()
