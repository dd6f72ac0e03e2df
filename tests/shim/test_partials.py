"""Partial files that a killed download or upload leaves behind are removed by a later run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from storage_shim import create_storage_client
from storage_shim._files import CHUNK_SIZE, PARTIAL_PREFIX, PARTIAL_SUFFIX, STALE_PARTIAL_SECONDS

FIRST_BYTES = os.urandom(CHUNK_SIZE + CHUNK_SIZE // 2)
DOWNLOAD_IN_A_CHILD = """
import sys
from storage_shim import create_storage_client
client = create_storage_client("bucket", provider="local", root=sys.argv[1])
client.download("pipe", sys.argv[2])
"""


def _partials(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if p.name.startswith(PARTIAL_PREFIX) and p.name.endswith(PARTIAL_SUFFIX)]


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def _killed_download(root: Path, dest: Path) -> Path:
    """Run `client.download` in a child, kill it mid-transfer, and return the partial file it left.

    The object is a named pipe placed in the local bucket, so the child blocks reading it
    after the first bytes, like a download from a stalled server.
    """
    (root / "bucket").mkdir(parents=True)
    os.mkfifo(root / "bucket" / "pipe")
    child = subprocess.Popen([sys.executable, "-c", DOWNLOAD_IN_A_CHILD, str(root), str(dest)])
    try:
        with (root / "bucket" / "pipe").open("wb") as pipe:
            pipe.write(FIRST_BYTES)  # more than one chunk: the first reaches the partial file
            pipe.flush()
            deadline = time.monotonic() + 20
            while not any(p.stat().st_size for p in _partials(dest.parent)) and time.monotonic() < deadline:
                time.sleep(0.05)
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    (left,) = _partials(dest.parent)
    return left


def test_a_killed_download_leaves_a_recognisable_partial_that_a_later_run_removes(tmp_path: Path) -> None:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    orphan = _killed_download(tmp_path / "root", downloads / "model.bin")
    assert orphan.read_bytes() == FIRST_BYTES[:CHUNK_SIZE]
    assert not (downloads / "model.bin").exists()
    _age(orphan, STALE_PARTIAL_SECONDS + 60)
    live = downloads / f"{PARTIAL_PREFIX}0123456789abcdef{PARTIAL_SUFFIX}"  # another process, writing now
    live.write_bytes(b"in progress")
    unrelated = downloads / ".model.bin.part"  # not the shim's: never touched
    unrelated.write_bytes(b"someone else's")
    _age(unrelated, STALE_PARTIAL_SECONDS + 60)

    source = create_storage_client(f"memory://partials-{uuid.uuid4().hex[:8]}")
    source.put("next.bin", b"next run")
    source.download("next.bin", downloads / "next.bin")

    assert sorted(p.name for p in downloads.iterdir()) == sorted(["next.bin", live.name, unrelated.name])


def test_stale_partials_of_the_local_backend_are_removed(tmp_path: Path) -> None:
    partials = tmp_path / "root" / ".shim" / "tmp"
    partials.mkdir(parents=True)
    stale = partials / f"{PARTIAL_PREFIX}stale{PARTIAL_SUFFIX}"
    stale.write_bytes(b"from a killed put")
    _age(stale, STALE_PARTIAL_SECONDS + 60)
    create_storage_client("bucket", provider="local", root=str(tmp_path / "root")).put("k", b"v")
    assert list(partials.iterdir()) == []


@pytest.mark.parametrize("age", [0, STALE_PARTIAL_SECONDS - 60])
def test_recent_partials_are_kept(tmp_path: Path, age: float) -> None:
    recent = tmp_path / f"{PARTIAL_PREFIX}recent{PARTIAL_SUFFIX}"
    recent.write_bytes(b"a write in progress")
    _age(recent, age)
    source = create_storage_client(f"memory://partials-{uuid.uuid4().hex[:8]}")
    source.put("k", b"v")
    source.download("k", tmp_path / "k")
    assert recent.exists()
