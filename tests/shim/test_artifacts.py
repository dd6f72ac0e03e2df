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


def _files_under(directory: Path) -> set[Path]:
    return {path for path in directory.rglob("*") if not path.is_dir()}


@pytest.mark.parametrize(
    ("uri", "stored_key"),
    [
        ("memory://{bucket}/..%2F..%2F..%2Fescaped", "../../../escaped"),
        ("memory://{bucket}/%2e%2e/%2e%2e/escaped", "../../escaped"),
        ("memory://{bucket}/a/../../escaped", "a/../../escaped"),
        ("memory://{bucket}//etc/escaped", "/etc/escaped"),
        ("memory://{bucket}/a%5C..%5C..%5Cescaped", "a\\..\\..\\escaped"),
        ("memory://{bucket}/a/./b", "a/./b"),
        ("memory://{bucket}/" + "n" * 251, "n" * 251),
        ("memory://%2e%2e/escaped", None),
        ("memory://%2E%2E%2F%2E%2E%2F%2E%2E/escaped", None),
        ("memory://..%5C..%5C..%5Cescaped/x", None),
        ("memory://.hidden/x", None),
        ("memory://b%00c/x", None),
        ("memory://{bucket}/a%00b", None),
        ("s3://AKIA:hunter2-password@{bucket}/k", None),
        ("file:///tmp/../../../../escaped", None),
        ("file:///tmp/%2e%2e/%2e%2e/escaped", None),
        ("file:///tmp//escaped", None),
        ("file:///tmp/a%5C..%5Cescaped", None),
    ],
)
def test_hostile_uris_are_refused_and_write_nothing(
    uri: str, stored_key: str | None, tmp_path: Path, _cache: Path
) -> None:
    """Traversal through dots (plain or encoded), absolute keys, backslashes, NUL, long names."""
    bucket = f"hostile-{uuid.uuid4().hex[:8]}"
    if stored_key is not None:  # the object exists: only validation can stop the download
        create_storage_client(f"memory://{bucket}").put(stored_key, PAYLOAD)
    before = _files_under(tmp_path)
    with pytest.raises(ValueError) as raised:
        download_artifact(uri.format(bucket=bucket))
    assert _files_under(tmp_path) == before
    assert "hunter2" not in str(raised.value)


def test_a_symlink_inside_the_cache_cannot_redirect_a_write(_cache: Path, tmp_path: Path) -> None:
    bucket = f"linked-{uuid.uuid4().hex[:8]}"
    create_storage_client(f"memory://{bucket}").put("model.bin", PAYLOAD)
    outside = tmp_path / "outside"
    outside.mkdir()
    (_cache / "memory").mkdir(parents=True)
    (_cache / "memory" / bucket).symlink_to(outside)
    with pytest.raises(InvalidKey):
        download_artifact(f"memory://{bucket}/model.bin")
    assert list(outside.iterdir()) == []


def test_a_symlinked_cache_root_is_allowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only links inside the cache are refused: the root itself may be a link (e.g. to a big disk)."""
    real = tmp_path / "big-disk" / "cache"
    real.mkdir(parents=True)
    (tmp_path / "cache-link").symlink_to(real)
    monkeypatch.setenv("STORAGE_ARTIFACT_CACHE", str(tmp_path / "cache-link"))
    bucket = f"root-{uuid.uuid4().hex[:8]}"
    create_storage_client(f"memory://{bucket}").put("m.bin", PAYLOAD)
    path = download_artifact(f"memory://{bucket}/m.bin", sha256=DIGEST)
    assert (real / "memory" / bucket / "m.bin").read_bytes() == PAYLOAD
    assert path == tmp_path / "cache-link" / "memory" / bucket / "m.bin"


def test_the_longest_allowed_names_download(_cache: Path) -> None:
    bucket, key = "b" * 250, "é" * 125  # 250 bytes each: the most a path segment may hold
    create_storage_client(f"memory://{bucket}").put(key, PAYLOAD)
    assert download_artifact(f"memory://{bucket}/{key}").read_bytes() == PAYLOAD
