"""Scan one corpus with cloudshift, Semgrep and ast-grep in one run; print the figures side by side.

    bash benchmarks/build_corpus.sh /tmp/cloudshift-corpus
    python benchmarks/scan_benchmark.py /tmp/cloudshift-corpus [--repeat 3] [--semgrep PATH] [--ast-grep PATH]

Each tool runs as a whole command, start-up included, on the same folder; the best of --repeat runs
is shown, with the peak memory of the command's whole process tree (workers included) sampled
from /proc. cloudshift runs cold (no result cache), warm (again, unchanged tree, its result
cache filled by the run before) and on one file (start-up: examples/mlpipeline/uploader.py).
Semgrep and ast-grep run the S3 rule each (benchmarks/semgrep_s3.yaml, benchmarks/astgrep_s3.yml);
cloudshift runs all four providers' rules.
Speed is reported, never asserted: this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    stdout: str


def count_lines(corpus: Path) -> tuple[int, int]:
    files = lines = 0
    for path in corpus.rglob("*.py"):
        if path.is_file():
            files += 1
            with path.open("rb") as handle:
                lines += sum(1 for _ in handle)
    return files, lines


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                    parent = int(handle.read().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            tree.setdefault(parent, []).append(int(entry))
    return tree


def _tree_rss(root: int) -> int:
    """Resident bytes of `root` and every process below it."""
    tree, total, stack = _children(), 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(tree.get(pid, ()))
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as handle:
                total += int(handle.read().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            continue
    return total


def run_once(command: list[str], cwd: Path | None = None) -> Run:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=cwd)
        peak = 0
        while process.poll() is None:
            peak = max(peak, _tree_rss(process.pid))
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        if process.returncode not in (0, 1, 2):  # 2: some files reported errors (over the size limit)
            sys.exit(f"{command[0]} failed ({process.returncode}): {err.read().decode()[-2000:]}")
        return Run(seconds, peak / 2**20, out.read().decode())


def best(command: list[str], repeat: int, before: Callable[[], None] = lambda: None) -> Run:
    runs = []
    for _ in range(repeat):
        before()
        runs.append(run_once(command))
    fastest = min(runs, key=lambda run: run.seconds)
    return Run(fastest.seconds, max(run.peak_mb for run in runs), fastest.stdout)


def row(tool: str, run: Run, lines: int, findings: int | str) -> None:
    print(f"{tool:<22} {run.seconds:9.2f} {lines / run.seconds:11.0f} {run.peak_mb:9.0f} {findings!s:>9}")


def cloudshift(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "cloudshift", "scan", "--no-gitignore", "--format", "json", "--exit-zero", *arguments]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--semgrep", default=shutil.which("semgrep"), help="semgrep executable")
    parser.add_argument("--ast-grep", dest="ast_grep", default=shutil.which("ast-grep"), help="ast-grep executable")
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    files, lines = count_lines(corpus)
    print(f"corpus {corpus}: {files} Python files, {lines} lines; best of {args.repeat} runs, {os.cpu_count()} cores")
    print(f"{'tool':<22} {'seconds':>9} {'lines/s':>11} {'peak MB':>9} {'findings':>9}")

    cold = best(cloudshift("--no-cache", str(corpus)), args.repeat)
    row("cloudshift cold", cold, lines, len(json.loads(cold.stdout)["findings"]))
    cache = corpus / ".cloudshift_cache"
    shutil.rmtree(cache, ignore_errors=True)
    run_once(cloudshift(str(corpus)))  # fills the result cache
    warm = best(cloudshift(str(corpus)), args.repeat)
    row("cloudshift warm", warm, lines, len(json.loads(warm.stdout)["findings"]))
    shutil.rmtree(cache, ignore_errors=True)
    example = HERE.parent / "examples" / "mlpipeline" / "uploader.py"
    one_file = best(cloudshift("--no-cache", str(example)), args.repeat)
    row(
        "cloudshift one file",
        one_file,
        len(example.read_text().splitlines()),
        len(json.loads(one_file.stdout)["findings"]),
    )

    if args.semgrep:
        rules = str(HERE / "semgrep_s3.yaml")
        semgrep = [args.semgrep, "scan", "--metrics", "off", "--quiet", "--json", "--config", rules, str(corpus)]
        run = best(semgrep, args.repeat)
        row("semgrep (S3 rule)", run, lines, len(json.loads(run.stdout)["results"]))
    else:
        print("semgrep not installed (pip install semgrep): skipped")
    if args.ast_grep:
        run = best([args.ast_grep, "scan", "--json", "--rule", str(HERE / "astgrep_s3.yml"), str(corpus)], args.repeat)
        row("ast-grep (S3 rule)", run, lines, len(json.loads(run.stdout or "[]")))
    else:
        print("ast-grep not installed (pip install ast-grep-cli): skipped")
    print(f"warm / cold: {warm.seconds / cold.seconds:.1%}")


if __name__ == "__main__":
    main()
