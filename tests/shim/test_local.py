"""The local backend: confinement to its root, the sidecar layout, and filesystem limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage_shim import (
    InvalidKey,
    PresignNotSupported,
    StorageClient,
    StorageError,
    create_storage_client,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "root"


@pytest.fixture
def client(root: Path) -> StorageClient:
    return create_storage_client("bucket", provider="local", root=str(root))


def _all_files(directory: Path) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()}


@pytest.mark.parametrize("key", ["../escape", "/etc/passwd", "a/../../escape", "a//b", "a/", "./a", "a\\..\\b"])
def test_keys_that_could_leave_the_bucket_are_refused(client: StorageClient, tmp_path: Path, key: str) -> None:
    for operation in (
        lambda: client.put(key, b"x"),
        lambda: client.get(key),
        lambda: client.stat(key),
    ):
        with pytest.raises(InvalidKey) as raised:
            operation()
        assert isinstance(raised.value, ValueError)
    assert _all_files(tmp_path) == set()


def test_a_symlink_out_of_the_bucket_is_not_followed(client: StorageClient, root: Path, tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_bytes(b"private")
    client.put("real", b"r")
    (root / "bucket" / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(InvalidKey):
        client.get("link/secret")
    with pytest.raises(InvalidKey):
        client.put("link/planted", b"x")
    assert [i.key for i in client.list()] == ["real"]
    assert _all_files(tmp_path / "outside") == {"secret"}


def test_objects_are_plain_files_and_sidecars_stay_out_of_the_bucket(client: StorageClient, root: Path) -> None:
    client.put("dir/a.txt", b"text", content_type="text/plain", metadata={"k": "v"})
    assert _all_files(root / "bucket") == {"dir/a.txt"}
    assert (root / "bucket" / "dir" / "a.txt").read_bytes() == b"text"
    assert _all_files(root / ".shim" / "meta" / "bucket") == {"dir/a.txt.json"}
    assert list((root / ".shim" / "tmp").iterdir()) == []


def test_a_file_placed_by_hand_is_an_object_with_default_content_type(client: StorageClient, root: Path) -> None:
    (root / "bucket" / "by-hand").mkdir(parents=True)
    (root / "bucket" / "by-hand" / "f.bin").write_bytes(b"12345")
    info = client.stat("by-hand/f.bin")
    assert (info.size, info.content_type, info.metadata) == (5, "application/octet-stream", {})
    assert [i.key for i in client.list()] == ["by-hand/f.bin"]


def test_a_key_cannot_be_both_an_object_and_a_folder(client: StorageClient) -> None:
    client.put("a", b"file")
    with pytest.raises(StorageError, match="cannot hold both"):
        client.put("a/b", b"nested")
    client.delete("a")
    client.put("a/b", b"nested")
    with pytest.raises(StorageError, match="cannot hold both"):
        client.put("a", b"file")


def test_delete_removes_emptied_folders(client: StorageClient, root: Path) -> None:
    client.put("x/y/z", b"1")
    client.delete("x/y/z")
    assert list((root / "bucket").iterdir()) == []
    assert list((root / ".shim" / "meta" / "bucket").iterdir()) == []
    client.put("x", b"now a file")
    assert client.get("x") == b"now a file"


def test_the_default_root_is_dot_storage_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STORAGE_LOCAL_ROOT", raising=False)
    monkeypatch.delenv("STORAGE_PROVIDER", raising=False)
    monkeypatch.chdir(tmp_path)
    create_storage_client("defaults").put("k", b"v")
    assert (tmp_path / ".storage" / "defaults" / "k").read_bytes() == b"v"


def test_presign_get_is_a_file_url_and_put_is_unsupported(client: StorageClient, root: Path) -> None:
    client.put("a b.txt", b"x")
    url = client.get_presigned_url("a b.txt")
    assert url == (root / "bucket" / "a b.txt").resolve().as_uri()
    with pytest.raises(PresignNotSupported):
        client.get_presigned_url("a b.txt", method="PUT")


@pytest.mark.parametrize("bucket", [".shim", ".hidden", "a\\b"])
def test_bucket_names_that_could_reach_the_sidecars_are_refused(root: Path, bucket: str) -> None:
    with pytest.raises(ValueError):
        create_storage_client(bucket, provider="local", root=str(root))


def test_filesystem_errors_become_storage_errors(client: StorageClient, root: Path) -> None:
    (root / ".shim").mkdir(parents=True)
    (root / ".shim" / "tmp").write_bytes(b"a file where the partial writes' directory belongs")
    with pytest.raises(StorageError) as raised:
        client.put("k", b"x")
    assert isinstance(raised.value.__cause__, OSError)


def test_segments_longer_than_a_file_name_are_refused_before_writing(client: StorageClient, root: Path) -> None:
    with pytest.raises(InvalidKey):
        client.put("n" * 251, b"x")  # with the metadata file's ".json", longer than a file name may be
    assert list(root.rglob("*")) == []
    client.put("é" * 125, b"x")  # 250 bytes
    assert client.get("é" * 125) == b"x"
