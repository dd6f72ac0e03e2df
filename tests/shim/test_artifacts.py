"""download_artifact beyond the conformance suite: file:// URIs, cache, destinations, bad input."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

from storage_shim import (
    ChecksumMismatch,
    InvalidKey,
    NotFound,
    create_storage_client,
    download_artifact,
)

PAYLOAD = b"artifact bytes"
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STORAGE_ARTIFACT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "model v1.bin"
    path.parent.mkdir()
    path.write_bytes(PAYLOAD)
    return path


def test_file_uris_are_copied_and_verified(source: Path, tmp_path: Path) -> None:
    out = download_artifact(source.as_uri(), tmp_path / "out.bin", sha256=DIGEST)
    assert out.read_bytes() == PAYLOAD


def test_a_file_uri_with_the_wrong_digest_leaves_nothing(source: Path, tmp_path: Path) -> None:
    (tmp_path / "dest").mkdir()
    with pytest.raises(ChecksumMismatch):
        download_artifact(source.as_uri(), tmp_path / "dest", sha256=hashlib.sha256(b"other").hexdigest())
    assert list((tmp_path / "dest").iterdir()) == []


def test_a_mismatch_keeps_the_previous_file_at_dest(source: Path, tmp_path: Path) -> None:
    dest = tmp_path / "kept.bin"
    dest.write_bytes(b"previous")
    with pytest.raises(ChecksumMismatch):
        download_artifact(source.as_uri(), dest, sha256="f" * 64)
    assert dest.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.bin", "src"]


def test_a_missing_file_uri_raises_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        download_artifact((tmp_path / "nope").as_uri(), tmp_path / "x")


def test_an_existing_directory_as_dest_keeps_the_base_name(source: Path, tmp_path: Path) -> None:
    (tmp_path / "into").mkdir()
    assert download_artifact(source.as_uri(), tmp_path / "into") == tmp_path / "into" / "model v1.bin"


def test_the_cache_is_reused_when_the_digest_matches(_cache: Path) -> None:
    bucket = f"artifacts-{uuid.uuid4().hex[:8]}"
    client = create_storage_client(f"memory://{bucket}")
    client.put("m/weights.bin", PAYLOAD)
    first = download_artifact(f"memory://{bucket}/m/weights.bin", sha256=DIGEST)
    assert first == _cache / "memory" / bucket / "m" / "weights.bin"
    client.delete("m/weights.bin")  # a second download would now fail: the cache must answer
    assert download_artifact(f"memory://{bucket}/m/weights.bin", sha256=DIGEST) == first
    with pytest.raises(NotFound):
        download_artifact(f"memory://{bucket}/m/weights.bin")  # no digest: always fetched


@pytest.mark.parametrize(
    ("uri", "sha256"),
    [
        ("memory://bucket", None),
        ("memory://bucket/", None),
        ("https://host/file", None),
        ("memory://b/k", "abc"),
    ],
)
def test_bad_uris_and_digests_are_refused(uri: str, sha256: str | None) -> None:
    with pytest.raises(ValueError):
        download_artifact(uri, sha256=sha256)


def test_keys_that_would_leave_the_cache_are_refused() -> None:
    with pytest.raises(InvalidKey):
        download_artifact("memory://bucket/../../etc/passwd")
