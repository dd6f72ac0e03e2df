"""Hostile and unlucky inputs for the codemod (issue 12), shared by the tests and benchmarks/codemod_reliability.py.

Every builder writes real files; `cloudshift` runs the real command in a subprocess, so a native
crash would show as what it is (a signal, exit code 139), not as a Python exception.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cloudshift.config import Settings
from cloudshift.engine.pipeline import Engine
from cloudshift.model import Safety

SDK_HEADER = 'import boto3\n\ns3 = boto3.client("s3")\n'

NORMAL = """\
import boto3

s3 = boto3.client("s3")


def save(key, data):
    s3.put_object(Bucket="reports", Key=key, Body=data, ContentType="text/csv")
"""

# Dropping these capabilities makes root obey file modes, so unreadable and read-only folders are real.
UNPRIVILEGED = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
RUN_LIMIT = 600  # seconds before a run is killed (a hang is a failure, not a wait)


def fixed_normal() -> str:
    """What `fix` makes of NORMAL on its own: every normal file in a hostile tree must end up exactly so."""
    engine = Engine.create(Settings(root=Path.cwd()))
    fixed = engine.check_source("normal.py", NORMAL, fix=Safety.SAFE).fixed_source
    assert fixed is not None and fixed != NORMAL
    return fixed


def normal_files(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"normal_{index:03}.py" for index in range(count)]
    for path in paths:
        path.write_text(NORMAL, encoding="utf-8")
    return paths


def nested_functions(levels: int = 1_000) -> str:
    """Functions nested `levels` deep (tab-indented, so 1,000 levels stay under 1 MB), after an SDK call."""
    lines = [SDK_HEADER]
    lines += ["\t" * level + f"def level_{level}():" for level in range(levels)]
    lines.append("\t" * levels + 's3.put_object(Bucket="b", Key="k", Body=b"")')
    return "\n".join(lines) + "\n"


def long_expression(terms: int = 8_000) -> str:
    """One expression of `terms` terms: a syntax tree `terms` levels deep."""
    return SDK_HEADER + "total = " + " + ".join(f"v{index % 10}" for index in range(terms)) + "\n"


def generated_module(size: int) -> str:
    """Generated code of about `size` bytes, dense with SDK calls (what makes analysis slow)."""
    parts = [SDK_HEADER]
    length, index = len(SDK_HEADER), 0
    while length < size:
        block = (
            f"\n\ndef handler_{index}(event):\n"
            f'    key = event["key_{index}"]\n'
            f'    s3.upload_file("/tmp/f{index}", "bucket-{index}", key)\n'
            f'    return s3.get_object(Bucket="bucket", Key=key)["Body"].read()\n'
        )
        parts.append(block)
        length += len(block)
        index += 1
    return "".join(parts)


def cloudshift_command(*args: str, unprivileged: bool = False) -> list[str]:
    """The command line; `unprivileged` makes even root obey file modes (LookupError where that cannot be done)."""
    command = [sys.executable, "-m", "cloudshift", *args]
    if unprivileged and os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            raise LookupError("setpriv is needed to make root obey file modes")
        return [*UNPRIVILEGED, *command]
    return command


@dataclass(frozen=True)
class Run:
    """One finished `cloudshift` command."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float  # the peak resident memory of its largest process (the command or one of its workers)


def cloudshift(*args: str, cwd: Path, unprivileged: bool = False, during: Callable[[int], None] | None = None) -> Run:
    """Run the command to its end (killed after RUN_LIMIT s); `during` is called as in `when_analysing`."""
    command = cloudshift_command(*args, unprivileged=unprivileged)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err)
        watchdog = threading.Timer(RUN_LIMIT, process.kill)
        watchdog.start()
        try:
            if during is not None:
                when_analysing(process.pid, during)
            _, status, usage = os.wait4(process.pid, 0)  # the usage covers the workers it waited for too
        finally:
            watchdog.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        return Run(process.returncode, out.read().decode(), err.read().decode(), seconds, usage.ru_maxrss / 1024)


def worker_pids(pid: int) -> list[int]:
    """The child processes of `pid` (cloudshift's analysis workers), from /proc."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in children.split()]


def when_analysing(pid: int, act: Callable[[int], None], settle: float = 0.5) -> None:
    """Once cloudshift (`pid`) has had a worker analysing for `settle` s, call `act(worker pid)`.

    Run with `--jobs 1` and the slow file first in name order, so the worker then holds that file.
    """
    deadline = time.monotonic() + 60
    while not (workers := worker_pids(pid)) and time.monotonic() < deadline:
        time.sleep(0.02)
    if workers:
        time.sleep(settle)
        act(workers[0])


def leftovers(folder: Path) -> list[Path]:
    """Temporary files a write left behind (there must be none)."""
    return sorted(path for path in folder.rglob("*.cloudshift") if path.is_file())
