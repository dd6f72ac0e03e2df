"""Reproduce the codemod reliability issues (issue 12) and print what `cloudshift fix` does about them now.

    python benchmarks/codemod_reliability.py [--normal 20] [--no-scaling]

Each case builds a tree in a temporary folder: NORMAL files with SDK calls beside one hostile
input, and runs the real `cloudshift fix .` on it (a subprocess, default workers). Per case it
prints whether the run survived, how many normal files were fixed exactly as they would be on
their own, what the run said about the hostile input, whether anything was lost or half-written
(a file changed that should not have, a temporary file left behind), the time and the peak memory
of the largest process (the command or one of its workers). Cases:

  nested-functions   1,000 nested functions (crashed tree-sitter's fallback: SIGSEGV, exit 139)
  8000-terms         one expression of 8,000 terms (crashed LibCST after 75 s: SIGSEGV)
  worker-killed      a worker killed by SIGSEGV while it analyses a slow file (any native crash)
  timeout            a slow file past --file-timeout 3
  symlink-loop       a symlink pointing at itself (a traceback before)
  unreadable-folder  a folder with mode 000 (a traceback before)
  read-only-folder   a file in a folder with mode 555 (a traceback, half the tree fixed, before)
  edited-during-fix  a file edited while fix runs (overwritten with a fix of the old text before)
  symlinked-files    a link to a file outside the tree, and two links to one file in it
                     (the links became regular files before)
  5-MB-file          a 5 MB generated file (444 s and 2.6 GB before)
  bad-rules-file     a rules file with a !!python/ tag (a traceback before; nothing may be fixed)

Then, unless --no-scaling, the cost of files under the size limit: seconds and peak memory to scan
generated files of 250 kB, 500 kB and 1 MB (roughly linear is the claim). As root, unreadable and
read-only folders are real because the command runs without CAP_DAC_OVERRIDE (setpriv).
Figures are reported, never asserted: tests/engine/test_isolation.py, test_write_back.py and
test_os_errors.py assert the behaviour.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.engine.pathological import (  # noqa: E402
    NORMAL,
    Run,
    cloudshift,
    fixed_normal,
    generated_module,
    leftovers,
    long_expression,
    nested_functions,
    normal_files,
)

BAD_RULES = 'provider: aws\nservice: s3\nsummary: !!python/object/apply:os.system ["touch pwned"]\n'


@dataclass
class Case:
    """A hostile tree: what to run on it, what the run must say, and which files must not change."""

    name: str
    says: str  # a line the run must print about the hostile input
    args: list[str] = field(default_factory=lambda: ["fix", "."])
    unprivileged: bool = False
    during: Callable[[int], None] | None = None
    fixed: bool = True  # whether the normal files are expected fixed (not when the rules are refused)
    keep: dict[Path, bytes] = field(default_factory=dict)  # files whose bytes must be as they were
    check: Callable[[], str] = lambda: ""  # a further check: a problem, or "" when all is well


def keeping(*paths: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in paths}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def nested_case(root: Path) -> Case:
    bad = write(root / "nested.py", nested_functions(1_000))
    says = "nested.py:1:1: error: syntax error: tokenizer error: too many indentation levels"
    return Case("nested-functions", says, keep=keeping(bad))


def terms_case(root: Path) -> Case:
    bad = write(root / "deep.py", long_expression(8_000))
    return Case("8000-terms", "deep.py: error: cloudshift could not analyse this file", keep=keeping(bad))


def killed_case(root: Path) -> Case:
    slow = write(root / "a_slow.py", generated_module(150_000))
    return Case(
        "worker-killed",
        "a_slow.py: error: the analysis crashed (SIGSEGV)",
        ["fix", "--jobs", "1", "."],
        during=lambda pid: os.kill(pid, signal.SIGSEGV),
        keep=keeping(slow),
    )


def timeout_case(root: Path) -> Case:
    slow = write(root / "a_slow.py", generated_module(300_000))
    says = "a_slow.py: error: the analysis took longer than the 3 s file timeout"
    return Case("timeout", says, ["fix", "--file-timeout", "3", "."], keep=keeping(slow))


def loop_case(root: Path) -> Case:
    (root / "loop.py").symlink_to("loop.py")
    return Case("symlink-loop", "loop.py: error: not scanned: symlink loop")


def unreadable_case(root: Path) -> Case:
    secret = write(root / "secret" / "store.py", NORMAL).parent
    secret.chmod(0)
    return Case("unreadable-folder", "secret: error: folder not scanned: Permission denied", unprivileged=True)


def read_only_case(root: Path) -> Case:
    locked = write(root / "locked" / "store.py", NORMAL)
    locked.parent.chmod(0o555)
    return Case("read-only-folder", "Not written (1): locked/store.py", unprivileged=True, keep=keeping(locked))


def edited_case(root: Path) -> Case:
    write(root / "a_slow.py", generated_module(100_000))
    edited = write(root / "b_edited.py", NORMAL)
    edit = NORMAL + "# a colleague's edit\n"

    def check() -> str:
        return "" if edited.read_text(encoding="utf-8") == edit else "the edit was lost"

    return Case(
        "edited-during-fix",
        "b_edited.py: error: not written: the file changed on disk after cloudshift read it",
        ["fix", "--jobs", "1", "."],
        during=lambda _: edited.write_text(edit, encoding="utf-8"),
        check=check,
    )


def symlinks_case(root: Path, outside: Path) -> Case:
    target = write(outside / "shared_store.py", NORMAL)
    (root / "linked_store.py").symlink_to(target)
    shared = write(root / "twice" / "b.py", NORMAL)
    twice = shared.parent
    for name in ("a.py", "c.py"):
        (twice / name).symlink_to("b.py")
    expected = fixed_normal()

    def check() -> str:
        links = [root / "linked_store.py", twice / "a.py", twice / "c.py"]
        if not all(link.is_symlink() for link in links):
            return "a link became a regular file"
        fixed = [target.read_text(encoding="utf-8"), shared.read_text(encoding="utf-8")]
        return "" if fixed == [expected, expected] else "a link's target was not fixed"

    return Case("symlinked-files", "twice/b.py: the same file as twice/a.py, written once", check=check)


def big_case(root: Path) -> Case:
    big = write(root / "generated.py", generated_module(5_000_000))
    says = "generated.py: error: skipped: 5 MB is over the 1 MB max-file-size"
    return Case("5-MB-file", says, keep=keeping(big))


def rules_case(root: Path) -> Case:
    write(root / "rules" / "bad.yaml", BAD_RULES)
    says = f"{root / 'rules' / 'bad.yaml'}:3: invalid YAML: could not determine a constructor"
    return Case("bad-rules-file", says, ["fix", "--rules", "rules", "."], fixed=False)


def run_case(build: Callable[[Path], Case], root: Path, normal: int, expected: str) -> bool:
    root.mkdir()
    files = normal_files(root, normal)
    case = build(root)
    pristine = keeping(*files)
    run = cloudshift(*case.args, cwd=root, unprivileged=case.unprivileged, during=case.during)
    for folder in (root / "secret", root / "locked"):
        if folder.exists():
            folder.chmod(0o755)
    wanted = expected.encode() if case.fixed else NORMAL.encode()
    good = sum(path.read_bytes() == wanted for path in files)
    problems = [f"{path.name} changed" for path, data in case.keep.items() if path.read_bytes() != data]
    problems += [f"left behind: {path.name}" for path in leftovers(root)]
    problems += [problem for problem in [case.check()] if problem]
    problems += [] if case.fixed else [f"{path.name} changed" for path in files if path.read_bytes() != pristine[path]]
    survived = run.returncode in (0, 1, 2) and "Traceback" not in run.stderr
    said = next((line for line in (run.stderr + run.stdout).splitlines() if case.says in line), "")
    report(case, run, survived, good, normal, said, problems)
    return survived and good == normal and bool(said) and not problems


def report(case: Case, run: Run, survived: bool, good: int, normal: int, said: str, problems: list[str]) -> None:
    outcome = f"exit {run.returncode}" if survived else f"DIED ({run.returncode})"
    verb = "fixed" if case.fixed else "untouched"
    lost = "nothing lost" if not problems else "; ".join(problems)
    figures = f"{run.seconds:6.1f} s {run.peak_mb:6.0f} MB"
    print(f"{case.name:<18} {outcome:<9} {good:>3}/{normal} {verb:<9} {figures}  {lost}")
    print(f"{'':<18} said: {said[:140] if said else 'NOTHING about the hostile input (expected: ' + case.says + ')'}")


def scaling(workdir: Path) -> None:
    print("\nCost under the size limit (scan, one generated file dense with SDK calls, whole command):")
    for size in (250_000, 500_000, 1_000_000):
        folder = workdir / f"scaling-{size}"
        write(folder / "generated.py", generated_module(size))
        limits = ["--file-timeout", "0", "--max-file-size", "0"]  # 1 MB of generated text is a little over 1 MB
        run = cloudshift("scan", "--no-cache", "--exit-zero", *limits, ".", cwd=folder)
        per_mb = run.seconds / (size / 1e6)
        print(f"  {size / 1e6:4.2f} MB: {run.seconds:6.1f} s ({per_mb:5.1f} s/MB), peak {run.peak_mb:5.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--normal", type=int, default=20, help="normal files beside each hostile input")
    parser.add_argument("--no-scaling", action="store_true", help="skip the cost-under-the-limit figures")
    options = parser.parse_args()
    expected = fixed_normal()
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        outside = workdir / "outside"
        builds: list[Callable[[Path], Case]] = [
            nested_case,
            terms_case,
            killed_case,
            timeout_case,
            loop_case,
            unreadable_case,
            read_only_case,
            edited_case,
            lambda root: symlinks_case(root, outside),
            big_case,
            rules_case,
        ]
        print(f"{'case':<18} {'run':<9} {'normal':>7} {'':<9} {'time':>8} {'peak':>9}")
        held = sum(run_case(build, workdir / f"case-{i}", options.normal, expected) for i, build in enumerate(builds))
        print(f"\n{held}/{len(builds)} cases held: run survived, every normal file as expected, the hostile input")
        print(f"reported, nothing lost or half-written ({len(builds) * (options.normal + 1)} inputs in all).")
        if not options.no_scaling:
            scaling(workdir)


if __name__ == "__main__":
    main()
